#include "sim/hypervisor/packet_io.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

#include "sim/hypervisor/hypervisor_wire.h"

namespace simxen {
namespace {

// Room for a full batch of descriptors plus the sender's credentials.
constexpr size_t kControlSize =
    CMSG_SPACE(sizeof(int) * wire::kMaxFdsPerPacket) + CMSG_SPACE(sizeof(ucred));

}  // namespace

int send_packet(int sock, const void* data, size_t size, std::span<const int> fds, bool dont_wait) {
  if (fds.size() > wire::kMaxFdsPerPacket) return EINVAL;
  iovec iov{const_cast<void*>(data), size};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * wire::kMaxFdsPerPacket)];
  if (!fds.empty()) {
    std::memset(control, 0, sizeof(control));
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  int flags = MSG_NOSIGNAL | (dont_wait ? MSG_DONTWAIT : 0);
  for (;;) {
    ssize_t sent = ::sendmsg(sock, &msg, flags);
    if (sent == static_cast<ssize_t>(size)) return 0;
    if (sent >= 0) return EMSGSIZE;
    if (errno != EINTR) return errno;
  }
}

ReceivedPacket receive_packet(int sock, void* buffer, size_t capacity, bool dont_wait) {
  ReceivedPacket packet;
  iovec iov{buffer, capacity};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[kControlSize];
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  int flags = MSG_CMSG_CLOEXEC | (dont_wait ? MSG_DONTWAIT : 0);
  ssize_t got;
  do {
    got = ::recvmsg(sock, &msg, flags);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    packet.size = -errno;
    return packet;
  }
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET) continue;
    if (cmsg->cmsg_type == SCM_RIGHTS) {
      size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
        packet.fds.emplace_back(fd);
      }
    } else if (cmsg->cmsg_type == SCM_CREDENTIALS) {
      ucred cred;
      std::memcpy(&cred, CMSG_DATA(cmsg), sizeof(cred));
      packet.sender = cred.pid;
    }
  }
  if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
    packet.fds.clear();
    packet.size = -EMSGSIZE;
    return packet;
  }
  packet.size = got;
  return packet;
}

}  // namespace simxen
