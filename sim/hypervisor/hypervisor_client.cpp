#include "sim/hypervisor/hypervisor_client.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sim/hypervisor/packet_io.h"

namespace simxen::client {

int connect_hypervisor(UniqueFd& sock, const char* library) {
  const char* xenstored = std::getenv("XENSTORED_PATH");
  if (!xenstored || !*xenstored) return ENOENT;
  std::string path(xenstored);
  size_t slash = path.rfind('/');
  path = (slash == std::string::npos ? std::string(".") : path.substr(0, slash)) + "/hypervisor";
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) return ENAMETOOLONG;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return errno;
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address));
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    const int error = errno;
    if (error == ECONNREFUSED || error == ENOENT) return ENOENT;  // no software Xen there
    std::fprintf(stderr, "%s: cannot connect to %s, this domain's hypervisor socket of the software Xen: %s%s\n",
                 library, path.c_str(), std::strerror(error),
                 error == EACCES || error == EPERM
                     ? " (a user other than the daemon's needs write access to it and search access to its "
                       "directories: see sim/hypervisor/README.md)"
                     : "");
    return error;
  }
  sock = std::move(fd);
  return 0;
}

namespace {

bool is_push(uint32_t op) { return op == wire::kPushPeer || op == wire::kPushPeerGone; }

}  // namespace

int transact(int sock, const void* request, size_t size, std::span<const int> fds, Response& response,
             const PushHandler& on_push) {
  int rc = send_packet(sock, request, size, fds, false);
  if (rc != 0) return rc == EPIPE ? ECONNRESET : rc;
  std::vector<std::byte> buffer(wire::kMaxPacket);
  for (;;) {
    ReceivedPacket packet = receive_packet(sock, buffer.data(), buffer.size(), false);
    if (packet.size == 0) return ECONNRESET;  // the service went away
    if (packet.size < 0) return static_cast<int>(-packet.size);
    if (static_cast<size_t>(packet.size) < sizeof(wire::Header)) return EPROTO;
    wire::Header header;
    std::memcpy(&header, buffer.data(), sizeof(header));
    std::span<const std::byte> message(buffer.data(), static_cast<size_t>(packet.size));
    if (is_push(header.op)) {
      if (on_push) on_push(message, packet.fds);
      continue;
    }
    if (header.op != wire::kReply || message.size() < sizeof(wire::Reply)) return EPROTO;
    wire::Reply reply;
    std::memcpy(&reply, message.data(), sizeof(reply));
    response.bytes.assign(message.begin(), message.end());
    response.fds = std::move(packet.fds);
    response.error = reply.error;
    response.value = reply.value;
    return 0;
  }
}

int receive_more_fds(int sock, size_t total, std::vector<UniqueFd>& fds) {
  wire::Header header;
  while (fds.size() < total) {
    ReceivedPacket packet = receive_packet(sock, &header, sizeof(header), false);
    if (packet.size == 0) return ECONNRESET;
    if (packet.size < 0) return static_cast<int>(-packet.size);
    if (packet.size != sizeof(header) || header.op != wire::kMoreFds || packet.fds.empty()) return EPROTO;
    for (auto& fd : packet.fds) fds.push_back(std::move(fd));
  }
  return fds.size() == total ? 0 : EPROTO;
}

void drain_pushes(int sock, const PushHandler& on_push) {
  alignas(8) std::byte buffer[256];
  for (;;) {
    ReceivedPacket packet = receive_packet(sock, buffer, sizeof(buffer), true);
    if (packet.size < static_cast<ssize_t>(sizeof(wire::Header))) return;  // nothing queued
    wire::Header header;
    std::memcpy(&header, buffer, sizeof(header));
    if (is_push(header.op) && on_push)
      on_push(std::span<const std::byte>(buffer, static_cast<size_t>(packet.size)), packet.fds);
  }
}

}  // namespace simxen::client
