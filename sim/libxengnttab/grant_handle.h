// The handle behind both xengnttab_handle and xengntshr_handle (the real header makes both
// a `struct xengntdev_handle`): one connection to the domain's hypervisor socket.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "sim/hypervisor/hypervisor_wire.h"
#include "sim/hypervisor/unique_fd.h"

struct xengntdev_handle {
  simxen::UniqueFd sock;
  // The process that opened the handle owns what it creates; a forked child may only close.
  pid_t owner = 0;
  std::mutex lock;  // one request at a time on the socket, and the tables below

  struct Share {  // pages we granted: one memfd, one ref per page
    std::byte* addr;
    std::vector<uint32_t> refs;
    std::vector<bool> live;
  };
  std::vector<Share> shares;

  struct Mapping {  // another domain's pages mapped here
    std::byte* addr;
    uint32_t count;
    uint64_t id;
  };
  std::vector<Mapping> mappings;

  // Closed by the caller while pages were still shared or mapped. As with the device's
  // file, which every mmap of it keeps open, the handle lives on until the last of them is
  // unshared or unmapped (the real xengntshr_unshare never even looks at the handle).
  bool closed = false;

  bool owned_by_caller() const;
  bool idle() const { return shares.empty() && mappings.empty(); }
};

namespace simxen::gnttab {

// Opens a handle and introduces it (wire::kHelloGnttab / kHelloGntshr). NULL + errno on error.
xengntdev_handle* open_handle(uint32_t hello_op);
// Tells the service the owner is done (if the caller is the owner) and frees the handle, or
// only marks it closed while pages are still shared or mapped.
int close_handle(xengntdev_handle* handle);
// After an unshare/unmap (lock released): frees a closed handle that has become idle.
void finish_if_closed(xengntdev_handle* handle);
// Sets errno and returns `result`, for the C entry points.
template <typename T>
T fail(int error, T result) {
  errno = error;
  return result;
}

}  // namespace simxen::gnttab
