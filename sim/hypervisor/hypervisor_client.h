// The library side of the hypervisor socket, shared by the drop-in libxengnttab and
// libxenevtchn: finding the domain's socket from the environment, and request/reply with
// file descriptors. Never throws: these functions sit behind a C ABI.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "sim/hypervisor/hypervisor_wire.h"
#include "sim/hypervisor/unique_fd.h"

namespace simxen::client {

// Connects to dirname($XENSTORED_PATH)/hypervisor: a process's domain is chosen by its
// environment alone. Returns 0 or an errno value (ENOENT when XENSTORED_PATH is unset).
// When the socket exists but cannot be used (EACCES, say) it says so on stderr, naming the
// socket, as Xen's libraries log a device they cannot open: the caller only knows it asked
// for /dev/xen/gntalloc or /dev/xen/evtchn. `library` prefixes the line.
int connect_hypervisor(UniqueFd& sock, const char* library);

struct Response {
  std::vector<std::byte> bytes;  // the whole Reply message
  std::vector<UniqueFd> fds;
  int error = 0;                 // the Reply's error
  uint64_t value = 0;            // the Reply's value
};

// A message the service pushed unasked (wire::kPushPeer, kPushPeerGone).
using PushHandler = std::function<void(std::span<const std::byte> message, std::vector<UniqueFd>& fds)>;

// Sends one request and waits for its Reply, handing pushes met meanwhile to `on_push`.
// Returns 0 (then see response.error) or an errno value for a broken connection.
int transact(int sock, const void* request, size_t size, std::span<const int> fds, Response& response,
             const PushHandler& on_push = {});

// Receives wire::kMoreFds packets until `fds` holds `total` descriptors.
int receive_more_fds(int sock, size_t total, std::vector<UniqueFd>& fds);

// Applies every push already queued, without blocking.
void drain_pushes(int sock, const PushHandler& on_push);

}  // namespace simxen::client
