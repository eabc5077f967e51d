// protocol/request_ring.cpp with its copies out of shared memory hooked (shared_copy_hook.h).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "protocol/errors.h"
#include "protocol/request_ring.h"
#include "protocol/sndif_abi.h"

#include "fuzz/shared_copy_source.h"
#include "protocol/request_ring.cpp"
