#include "sim/daemon/control_server.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <system_error>

#ifdef SIMXEN_HAVE_HYPERVISOR
#include "sim/hypervisor/hypervisor_service.h"
#endif

namespace simxen {

namespace {

// Control lines are short; a client sending a huge line without a newline is cut off.
constexpr size_t kMaxLine = 4096;

bool parse_domid(const std::string& text, uint16_t* domid) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *domid);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

ControlServer::ControlServer(EventLoop& loop, std::filesystem::path socket, XenstoreServer& xenstore,
                             HypervisorService* hypervisor)
    : loop_(loop), socket_(std::move(socket)), xenstore_(xenstore), hypervisor_(hypervisor) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_.native().size() >= sizeof address.sun_path)
    throw std::runtime_error("control socket path too long: " + socket_.native());
  std::strcpy(address.sun_path, socket_.c_str());
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::system_error(errno, std::generic_category(), "control socket");
  ::unlink(socket_.c_str());
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0 ||
      ::listen(listen_fd_, 16) < 0) {
    int error = errno;
    ::close(listen_fd_);
    throw std::system_error(error, std::generic_category(), "bind " + socket_.native());
  }
  loop_.add(listen_fd_, [this] { accept_clients(); });
}

ControlServer::~ControlServer() {
  while (!clients_.empty()) close_client(clients_.begin()->first);
  loop_.remove(listen_fd_);
  ::close(listen_fd_);
  ::unlink(socket_.c_str());
}

void ControlServer::accept_clients() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    clients_[fd];
    loop_.add(fd, [this, fd] { serve(fd); });
  }
}

void ControlServer::close_client(int fd) {
  loop_.remove(fd);
  ::close(fd);
  clients_.erase(fd);
}

void ControlServer::serve(int fd) {
  char buffer[1024];
  ssize_t got = ::read(fd, buffer, sizeof buffer);
  if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (got <= 0) return close_client(fd);
  std::string& pending = clients_[fd];
  pending.append(buffer, static_cast<size_t>(got));
  size_t newline;
  while ((newline = pending.find('\n')) != std::string::npos) {
    std::string line = pending.substr(0, newline);
    pending.erase(0, newline + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string reply = answer(line) + "\n";
    // Replies are a line each: a client too slow to take one is not worth waiting for.
    if (::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT) != static_cast<ssize_t>(reply.size()))
      return close_client(fd);
  }
  if (pending.size() > kMaxLine) close_client(fd);
}

std::string ControlServer::answer(const std::string& line) {
  std::istringstream words(line);
  std::string command, argument, extra;
  words >> command >> argument >> extra;
  if (!extra.empty()) return "error too many arguments";
  if (command == "ping" && argument.empty()) return "ok";
  if (command == "domains" && argument.empty()) {
    std::string reply = "ok";
    for (uint16_t domid : xenstore_.domains()) reply += " " + std::to_string(domid);
    return reply;
  }
  if (command != "counts" && command != "invalidate") return "error unknown command: " + line;
  uint16_t domid = 0;
  if (!parse_domid(argument, &domid)) return "error bad domain id: " + argument;
  if (!xenstore_.has_domain(domid)) return "error unknown domain " + argument;
  if (command == "counts") {
    XenstoreCounts xs = xenstore_.counts(domid);
    std::ostringstream reply;
    reply << "ok domid=" << domid << " xs_connections=" << xs.connections << " xs_watches=" << xs.watches
          << " xs_transactions=" << xs.transactions << " xs_requests=" << xs.requests;
#ifdef SIMXEN_HAVE_HYPERVISOR
    HypervisorCounts hv = hypervisor_->counts(domid);
    reply << " hypervisor=1 grants=" << hv.grants << " mappings=" << hv.mappings << " ports=" << hv.ports
          << " hypervisor_clients=" << hv.clients;
#else
    reply << " hypervisor=0 grants=0 mappings=0 ports=0 hypervisor_clients=0";
#endif
    return reply.str();
  }
#ifdef SIMXEN_HAVE_HYPERVISOR
  hypervisor_->invalidate_domain(domid);
  return "ok";
#else
  (void)hypervisor_;
  return "error this build has no hypervisor service to invalidate";
#endif
}

}  // namespace simxen
