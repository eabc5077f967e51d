// Lets a target act as the backend *while* the code under test copies out of shared memory.
//
// The ring and event-page readers copy each slot with std::memcpy and then look at the
// producer index again. To put a backend's writes deterministically between the copy and the
// re-read (what a concurrent backend does at random), the target compiles the reader's .cpp
// with memcpy renamed to shared_copy() (see shared_copy_source.h): each copy is done, then the
// target's hook runs and may write slots and indices as the backend would.
#pragma once

#include <cstddef>
#include <functional>

namespace xensnd::fuzz {

// Called after every copy made by the hooked source, with its destination, source and size.
using CopyHook = std::function<void(void* dst, const void* src, size_t size)>;
void set_copy_hook(CopyHook hook);

void* shared_copy(void* dst, const void* src, size_t size) noexcept;

}  // namespace xensnd::fuzz
