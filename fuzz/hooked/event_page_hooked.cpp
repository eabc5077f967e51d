// protocol/event_page.cpp with its copies out of shared memory hooked (shared_copy_hook.h).
#include <array>
#include <atomic>
#include <vector>

#include "protocol/event_page.h"
#include "protocol/sndif_abi.h"

#include "fuzz/shared_copy_source.h"
#include "protocol/event_page.cpp"
