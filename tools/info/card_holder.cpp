#include "tools/info/card_holder.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <fstream>

#include "plugin/card_ownership.h"
#include "xenio/unique_fd.h"
#include "xenio/platform.h"

namespace xensnd::info {
namespace {

std::string process_command(pid_t pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

// The holder's pid from its naming socket (plugin/card_ownership.h): a non-blocking connect
// and SO_PEERCRED; 0 when it cannot tell.
pid_t holder_pid(unsigned device_id, const struct stat& node) {
  const std::string name = plugin::holder_socket_name(device_id, node.st_dev, node.st_ino);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const size_t size = std::min(name.size(), sizeof(address.sun_path) - 1);
  std::memcpy(address.sun_path + 1, name.data(), size);
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + size);
  xenio::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0 || ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0) return 0;
  ucred cred{};
  socklen_t cred_size = sizeof(cred);
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &cred_size) != 0) return 0;
  return cred.pid > 0 ? cred.pid : 0;
}

}  // namespace

std::optional<CardHolder> find_card_holder(unsigned device_id) {
  // The claim is an OFD write lock on byte <device id> of the platform's device-lock node:
  // ask the kernel whether one is held (F_OFD_GETLK needs only a read-only descriptor), then
  // name the holder through its naming socket.
  xenio::UniqueFd lock(::open(xenio::device_lock_path().c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (lock.get() < 0) return std::nullopt;
  struct stat node {};
  if (::fstat(lock.get(), &node) != 0) return std::nullopt;
  struct flock range {};
  range.l_type = F_WRLCK;
  range.l_whence = SEEK_SET;
  range.l_start = static_cast<off_t>(device_id);
  range.l_len = 1;
  if (::fcntl(lock.get(), F_OFD_GETLK, &range) != 0 || range.l_type == F_UNLCK) return std::nullopt;
  const pid_t pid = holder_pid(device_id, node);
  return CardHolder{pid, pid > 0 ? process_command(pid) : std::string()};
}

}  // namespace xensnd::info
