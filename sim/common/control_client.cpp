#include "sim/common/control_client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace simxen {

std::string control_request(const std::filesystem::path& socket_path, const std::string& request) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.native().size() >= sizeof address.sun_path)
    throw std::runtime_error("control socket path too long: " + socket_path.native());
  std::strcpy(address.sun_path, socket_path.c_str());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0)
    throw std::runtime_error("cannot reach the simulator at " + socket_path.native() + ": " +
                             std::strerror(errno));
  std::string line = request + "\n";
  for (size_t sent = 0; sent < line.size();) {
    ssize_t n = ::send(fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(std::string("control send: ") + std::strerror(errno));
    sent += static_cast<size_t>(n);
  }
  std::string reply;
  char c;
  for (;;) {
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("control socket closed before a reply");
    if (c == '\n') return reply;
    reply += c;
  }
}

}  // namespace simxen
