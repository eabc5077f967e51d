#include "plugin/card_ownership.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fstream>

#include "protocol/errors.h"

namespace xensnd::plugin {
namespace {

// How many refused claimants may wait in the naming socket's queue between two
// answer_holder_queries(); later ones are simply not told the pid.
constexpr int kHolderQueryBacklog = 16;

struct AbstractAddress {
  sockaddr_un address{};
  socklen_t length = 0;
};

AbstractAddress abstract_address(const std::string& name) {
  AbstractAddress a;
  a.address.sun_family = AF_UNIX;
  // sun_path[0] == '\0' selects the abstract namespace: no file to clean up after a crash.
  const size_t size = std::min(name.size(), sizeof(a.address.sun_path) - 1);
  std::memcpy(a.address.sun_path + 1, name.data(), size);
  a.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + size);
  return a;
}

std::string process_command(pid_t pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

// Who holds the claim, without ever waiting: a non-blocking connect to the holder's naming
// socket either completes at once (a unix listener's queue had room: SO_PEERCRED then holds
// the listener's credentials) or fails at once (full queue, no listener, other namespace).
std::string describe_holder(const AbstractAddress& address) {
  xenio::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) return "another process";
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address.address), address.length) != 0)
    return "another process";
  ucred cred{};
  socklen_t size = sizeof(cred);
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &size) != 0 || cred.pid <= 0)
    return "another process";
  std::string holder = "process " + std::to_string(cred.pid);
  const std::string command = process_command(cred.pid);
  if (!command.empty()) holder += " (" + command + ")";
  return holder;
}

// The naming socket, listening; an invalid fd when the name is taken (best-effort only).
xenio::UniqueFd listen_for_holder_queries(const AbstractAddress& address) {
  xenio::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) return {};
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address.address), address.length) != 0 ||
      ::listen(fd.get(), kHolderQueryBacklog) != 0)
    return {};
  return fd;
}

}  // namespace

std::string holder_socket_name(unsigned device_id, unsigned long long lock_device, unsigned long long lock_inode) {
  return "xensnd/vsnd/" + std::to_string(device_id) + "@" + std::to_string(lock_device) + ":" +
         std::to_string(lock_inode);
}

CardOwnership CardOwnership::claim(unsigned device_id, const std::string& lock_path) {
  const std::string card = "vsnd card " + std::to_string(device_id);
  // Read-write: a write lock needs it, and it is the access driving the card needs.
  xenio::UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY));
  if (lock.get() < 0) {
    const int error = errno;
    throw FrontendError(error, "cannot claim " + card + ": cannot open " + lock_path + " read-write (" +
                                   std::strerror(error) +
                                   "); only a process that may use this domain's Xen devices can own a card");
  }
  struct stat node {};
  if (::fstat(lock.get(), &node) != 0) {
    const int error = errno;
    throw FrontendError(error, "cannot claim " + card + ": fstat " + lock_path + ": " + std::strerror(error));
  }
  const AbstractAddress naming = abstract_address(holder_socket_name(device_id, node.st_dev, node.st_ino));

  struct flock range {};
  range.l_type = F_WRLCK;
  range.l_whence = SEEK_SET;
  range.l_start = static_cast<off_t>(device_id);
  range.l_len = 1;
  if (::fcntl(lock.get(), F_OFD_SETLK, &range) != 0) {
    const int error = errno;
    if (error == EAGAIN || error == EACCES)
      throw FrontendError(EBUSY, card + " is in use by " + describe_holder(naming) +
                                     "; one process owns a card at a time (run a sound server "
                                     "such as PipeWire or PulseAudio on it to share it)");
    throw FrontendError(error, "cannot claim " + card + ": cannot lock " + lock_path + ": " + std::strerror(error));
  }
  return CardOwnership(std::move(lock), listen_for_holder_queries(naming));
}

void CardOwnership::answer_holder_queries() noexcept {
  if (holder_socket_.get() < 0) return;
  // The claimant already read our credentials when its connect completed: nothing to say.
  for (int i = 0; i < kHolderQueryBacklog; ++i) {
    xenio::UniqueFd query(::accept4(holder_socket_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (query.get() < 0) break;
  }
}

void CardOwnership::release() noexcept {
  holder_socket_.reset();
  lock_.reset();
}

}  // namespace xensnd::plugin
