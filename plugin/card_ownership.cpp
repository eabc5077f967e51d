#include "plugin/card_ownership.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>

#include "protocol/errors.h"

namespace xensnd::plugin {
namespace {

sockaddr_un abstract_address(const std::string& name, socklen_t& length) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  // sun_path[0] == '\0' selects the abstract namespace: no file to clean up after a crash.
  std::memcpy(address.sun_path + 1, name.data(), name.size());
  length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  return address;
}

std::string process_command(pid_t pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

// Who holds the name: connect and ask the kernel for the listener's credentials.
std::string describe_holder(const sockaddr_un& address, socklen_t length) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "another process";
  std::string holder = "another process";
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), length) == 0) {
    ucred cred{};
    socklen_t size = sizeof(cred);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &size) == 0 && cred.pid > 0) {
      holder = "process " + std::to_string(cred.pid);
      std::string command = process_command(cred.pid);
      if (!command.empty()) holder += " (" + command + ")";
    }
  }
  ::close(fd);
  return holder;
}

}  // namespace

std::string ownership_socket_name(unsigned device_id) {
  // XENSTORED_PATH chooses which XenStore (and so which Xen instance and domain) this process
  // talks to; on a real guest it is unset and the name is per guest already.
  const char* xenstored = std::getenv("XENSTORED_PATH");
  std::string instance = xenstored ? xenstored : "";
  std::string name = "xensnd/vsnd/" + std::to_string(device_id);
  if (!instance.empty()) {
    std::ostringstream hash;
    hash << std::hex << std::hash<std::string>{}(instance);
    name += "@" + hash.str();
  }
  return name;
}

CardOwnership& CardOwnership::operator=(CardOwnership&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

CardOwnership CardOwnership::claim(unsigned device_id) {
  const std::string name = ownership_socket_name(device_id);
  socklen_t length = 0;
  const sockaddr_un address = abstract_address(name, length);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    throw FrontendError(errno, std::string("cannot create the card ownership socket: ") +
                                   std::strerror(errno));
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), length) != 0) {
    const int error = errno;
    ::close(fd);
    if (error == EADDRINUSE)
      throw FrontendError(EBUSY, "vsnd card " + std::to_string(device_id) + " is in use by " +
                                     describe_holder(address, length) +
                                     "; one process owns a card at a time (run a sound server "
                                     "such as PipeWire or PulseAudio on it to share it)");
    throw FrontendError(error, std::string("cannot claim vsnd card ") + std::to_string(device_id) +
                                   ": " + std::strerror(error));
  }
  // Listening lets a second process connect and read our pid with SO_PEERCRED.
  ::listen(fd, 1);
  return CardOwnership(fd);
}

void CardOwnership::release() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace xensnd::plugin
