#include "tools/info/card_holder.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>
#include <fstream>

#include "plugin/card_ownership.h"
#include "plugin/unique_fd.h"

namespace xensnd::info {
namespace {

std::string process_command(pid_t pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

}  // namespace

std::optional<CardHolder> find_card_holder(unsigned device_id) {
  // The claim is an abstract unix socket the holder listens on: connecting succeeds only
  // while it is held, and the kernel tells the listener's pid (SO_PEERCRED).
  const std::string name = plugin::ownership_socket_name(device_id);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path + 1, name.data(), name.size());
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  plugin::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return std::nullopt;
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0) return std::nullopt;
  ucred cred{};
  socklen_t size = sizeof(cred);
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &size) != 0 || cred.pid <= 0)
    return CardHolder{};
  return CardHolder{cred.pid, process_command(cred.pid)};
}

}  // namespace xensnd::info
