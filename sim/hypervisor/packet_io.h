// Sending and receiving one SOCK_SEQPACKET message with file descriptors (SCM_RIGHTS), used
// by both ends of the hypervisor socket.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <span>
#include <vector>

#include "sim/hypervisor/unique_fd.h"

namespace simxen {

// Returns 0 or an errno value. Never raises SIGPIPE.
int send_packet(int sock, const void* data, size_t size, std::span<const int> fds, bool dont_wait);

struct ReceivedPacket {
  ssize_t size = 0;           // bytes, 0 at end of stream; < 0: -errno
  std::vector<UniqueFd> fds;  // close-on-exec
  pid_t sender = 0;           // from SCM_CREDENTIALS when the socket has SO_PASSCRED
};

// A packet larger than `capacity` or with more descriptors than fit fails with -EMSGSIZE
// (its descriptors closed), so a bad peer cannot make the receiver misparse.
ReceivedPacket receive_packet(int sock, void* buffer, size_t capacity, bool dont_wait);

}  // namespace simxen
