// Included by a target's wrapper right before it includes the reader's .cpp: from here on,
// memcpy (also spelt std::memcpy) is xensnd::fuzz::shared_copy. <cstring> comes first so
// that the standard declarations are not renamed.
#pragma once

#include <cstring>

#include "fuzz/shared_copy_hook.h"

namespace std {
using ::xensnd::fuzz::shared_copy;
}  // namespace std
using ::xensnd::fuzz::shared_copy;
#define memcpy shared_copy
