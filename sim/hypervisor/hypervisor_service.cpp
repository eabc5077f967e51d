// The service's sockets and life cycle: one listening socket per domain, one connection per
// library handle, one pidfd per client process so that a process's exit releases what it
// owns even while a forked child still holds its sockets.
#include "sim/hypervisor/hypervisor_service.h"

#include <poll.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

#include "sim/hypervisor/packet_io.h"
#include "sim/hypervisor/service_state.h"

namespace simxen {
namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// The software Xen's /dev/xen/gntalloc for locking: frontends take byte-range locks on it to
// own a device (xenio::device_lock_path()). Same owner and mode as the hypervisor socket, so
// whoever may connect there (needs write access) may open it read-write, and nobody else.
void create_device_lock(const std::filesystem::path& lock, const std::string& socket) {
  struct stat sock {};
  if (::stat(socket.c_str(), &sock) < 0) throw_errno("stat " + socket);
  UniqueFd fd(::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) throw_errno("create " + lock.string());
  if (::fchmod(fd.get(), sock.st_mode & 0666) < 0) throw_errno("chmod " + lock.string());
}

int open_pidfd(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

template <typename T>
bool parse(std::span<const std::byte> message, T& out) {
  if (message.size() != sizeof(T)) return false;
  std::memcpy(&out, message.data(), sizeof(T));
  return true;
}

}  // namespace

HypervisorService::HypervisorService(EventLoop& loop, std::filesystem::path run_dir)
    : impl_(std::make_unique<Impl>(loop, std::move(run_dir))) {
  // Every share call's memfd and every event-channel handle is a descriptor held here: a
  // guest's 1024 single-page grants alone would exhaust the usual soft limit of 1024.
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  // Kept in reserve so that a connection can still be accepted (and refused) when out of
  // descriptors; otherwise the listener would stay readable and the loop would spin.
  impl_->spare_fd.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
}

HypervisorService::~HypervisorService() {
  std::vector<uint16_t> ids;
  for (const auto& [id, domain] : impl_->domains) ids.push_back(id);
  for (uint16_t id : ids) remove_domain(id);
  for (auto& [pid, process] : impl_->processes) impl_->loop.remove(process.pidfd.get());
}

void HypervisorService::add_domain(uint16_t domid) {
  if (impl_->domains.count(domid)) throw std::invalid_argument("domain " + std::to_string(domid) + " exists");
  std::filesystem::path dir = impl_->run_dir / ("dom" + std::to_string(domid));
  std::filesystem::create_directories(dir);
  Domain domain;
  domain.id = domid;
  domain.socket_path = dir / "hypervisor";
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::string path = domain.socket_path.string();
  if (path.size() >= sizeof(address.sun_path))
    throw std::length_error("hypervisor socket path too long for AF_UNIX: " + path);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  domain.listener.reset(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!domain.listener.valid()) throw_errno("hypervisor socket");
  int on = 1;
  // Credentials on every request: a forked child may not act on its parent's handles.
  if (::setsockopt(domain.listener.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) < 0)
    throw_errno("SO_PASSCRED");
  ::unlink(path.c_str());  // a stale socket of an earlier run
  if (::bind(domain.listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) < 0)
    throw_errno("bind " + path);
  if (::listen(domain.listener.get(), 64) < 0) throw_errno("listen " + path);
  create_device_lock(dir / "device-lock", path);
  int fd = domain.listener.get();
  impl_->domains.emplace(domid, std::move(domain));
  Impl* impl = impl_.get();
  impl_->loop.add(fd, [impl, domid] { impl->accept_clients(domid); });
}

void HypervisorService::remove_domain(uint16_t domid) {
  auto it = impl_->domains.find(domid);
  if (it == impl_->domains.end()) return;
  std::set<ClientId> doomed;
  for (const auto& [id, client] : impl_->clients)
    if (client->domid == domid) doomed.insert(id);
  impl_->drop_clients(doomed);
  Domain& domain = impl_->domains.at(domid);
  // Ports without a handle cannot exist; grants outlive their owner only while mapped.
  for (auto& [ref, grant] : domain.grants) grant->revoked = true;
  impl_->loop.remove(domain.listener.get());
  ::unlink(domain.socket_path.c_str());
  ::unlink((domain.socket_path.parent_path() / "device-lock").c_str());
  impl_->domains.erase(domid);
}

void HypervisorService::invalidate_domain(uint16_t domid) {
  Domain* domain = impl_->domain(domid);
  if (!domain) return;
  // Every port of the domain closes (its peers' ends become unbound, so their notifies do
  // nothing) and every grant is revoked: the restored guest is a new instance that must
  // share and bind afresh. The guest's processes keep their handles; their stale ports and
  // grants are no-ops.
  std::vector<uint32_t> ports;
  for (const auto& [port, state] : domain->ports) ports.push_back(port);
  for (uint32_t port : ports) impl_->close_port(domid, port);
  impl_->drop_broken();
  for (auto& [id, client] : impl_->clients)
    if (client->domid == domid) client->grants.clear();
  for (auto& [ref, grant] : domain->grants) grant->revoked = true;
  domain->grants.clear();
}

HypervisorCounts HypervisorService::counts(uint16_t domid) const { return impl_->domain_counts(domid); }

HypervisorCounts HypervisorService::Impl::domain_counts(uint16_t domid, ClientId asking) {
  reap_exited(asking);
  HypervisorCounts counts;
  auto it = domains.find(domid);
  if (it == domains.end()) return counts;
  counts.grants = it->second.grants.size();
  counts.mappings = it->second.mapped_pages;
  counts.ports = it->second.ports.size();
  std::set<pid_t> pids;
  for (const auto& [id, client] : clients)
    if (client->domid == domid && client->kind != ClientKind::kNone) pids.insert(client->pid);
  counts.clients = pids.size();
  return counts;
}

void HypervisorService::Impl::reap_exited(ClientId asking) {
  // Requests and hang-ups already queued are served first, then exits: a client that closed
  // its handle or died before the question was asked is not counted.
  std::vector<pollfd> fds;
  std::vector<ClientId> ids;
  for (const auto& [id, client] : clients) {
    if (id == asking) continue;  // its next request must wait for this reply
    fds.push_back({client->sock.get(), POLLIN, 0});
    ids.push_back(id);
  }
  if (!fds.empty() && ::poll(fds.data(), fds.size(), 0) > 0)
    for (size_t i = 0; i < fds.size(); ++i)
      if (fds[i].revents) serve(ids[i]);
  fds.clear();
  std::vector<pid_t> pids;
  for (const auto& [pid, process] : processes) {
    fds.push_back({process.pidfd.get(), POLLIN, 0});
    pids.push_back(pid);
  }
  if (fds.empty() || ::poll(fds.data(), fds.size(), 0) <= 0) return;
  for (size_t i = 0; i < fds.size(); ++i)
    if (fds[i].revents) process_exited(pids[i]);
}

Domain* HypervisorService::Impl::domain(uint32_t domid) {
  auto it = domains.find(static_cast<uint16_t>(domid));
  return (domid <= 0xffff && it != domains.end()) ? &it->second : nullptr;
}

void HypervisorService::Impl::accept_clients(uint16_t domid) {
  Domain* dom = domain(domid);
  if (!dom) return;
  for (;;) {
    UniqueFd sock(::accept4(dom->listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!sock.valid() && (errno == EMFILE || errno == ENFILE) && spare_fd.valid()) {
      spare_fd.reset();
      UniqueFd refused(::accept4(dom->listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      refused.reset();
      spare_fd.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
      continue;
    }
    if (!sock.valid()) return;  // EAGAIN, or a connection that died while queued
    ucred cred{};
    socklen_t len = sizeof(cred);
    int on = 1;
    if (::getsockopt(sock.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid <= 0 ||
        ::setsockopt(sock.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) < 0)
      continue;
    auto proc = processes.find(cred.pid);
    if (proc == processes.end()) {
      UniqueFd pidfd(open_pidfd(cred.pid));
      if (!pidfd.valid()) continue;  // already gone
      int fd = pidfd.get();
      proc = processes.emplace(cred.pid, Process{std::move(pidfd), {}}).first;
      pid_t pid = cred.pid;
      loop.add(fd, [this, pid] { process_exited(pid); });
    }
    auto client = std::make_unique<Client>();
    client->id = next_client++;
    client->domid = domid;
    client->pid = cred.pid;
    client->sock = std::move(sock);
    ClientId id = client->id;
    int fd = client->sock.get();
    proc->second.clients.insert(id);
    clients.emplace(id, std::move(client));
    loop.add(fd, [this, id] { serve(id); });
  }
}

void HypervisorService::Impl::process_exited(pid_t pid) {
  auto it = processes.find(pid);
  if (it == processes.end()) return;
  drop_clients(it->second.clients);
  // drop_client erased the entry with its last client; make sure it is gone.
  it = processes.find(pid);
  if (it != processes.end()) {
    loop.remove(it->second.pidfd.get());
    processes.erase(it);
  }
}

void HypervisorService::Impl::drop_clients(std::set<ClientId> ids) {
  // Grant handles first: gntdev holds a reference on a notify-on-unmap event channel, so
  // a dying process's unmap notification still goes out through its ports.
  for (int pass = 0; pass < 2; ++pass)
    for (ClientId id : ids) {
      auto it = clients.find(id);
      if (it != clients.end() && (it->second->kind == ClientKind::kEvtchn) == (pass == 1)) drop_client(id);
    }
  drop_broken();
}

void HypervisorService::Impl::drop_client(ClientId id) {
  auto it = clients.find(id);
  if (it == clients.end()) return;
  loop.remove(it->second->sock.get());
  // Released while still registered: closing its ports looks the owner up by id.
  release_resources(*it->second);
  std::unique_ptr<Client> client = std::move(it->second);
  clients.erase(it);
  auto proc = processes.find(client->pid);
  if (proc != processes.end()) {
    proc->second.clients.erase(id);
    if (proc->second.clients.empty()) {
      loop.remove(proc->second.pidfd.get());
      processes.erase(proc);
    }
  }
}

void HypervisorService::Impl::release_resources(Client& client) {
  release_ports(client);
  for (auto& [ref, grant] : client.grants) revoke_grant(grant);
  client.grants.clear();
  for (auto& [id, mapping] : client.mappings) release_mapping(mapping);
  client.mappings.clear();
  if (client.slots) {
    ::munmap(client.slots, wire::kSlotsPerHandle * sizeof(port_state::Word));
    client.slots = nullptr;
  }
}

bool HypervisorService::Impl::reply(Client& client, const void* data, size_t size, std::span<const int> fds) {
  // A client that does not read its replies is dropped rather than allowed to stall the
  // daemon: the loop never blocks on a socket.
  if (client.broken) return false;
  if (send_packet(client.sock.get(), data, size, fds, true) != 0) {
    client.broken = true;
    broken_clients.push_back(client.id);
    return false;
  }
  return true;
}

bool HypervisorService::Impl::reply_error(Client& client, int error, uint64_t value) {
  wire::Reply r{{wire::kReply, sizeof(wire::Reply)}, error, 0, value};
  return reply(client, &r, sizeof(r));
}

bool HypervisorService::Impl::push(ClientId id, const void* data, size_t size, std::span<const int> fds) {
  auto it = clients.find(id);
  if (it == clients.end()) return false;
  return reply(*it->second, data, size, fds);
}

void HypervisorService::Impl::drop_broken() {
  while (!broken_clients.empty()) {
    ClientId id = broken_clients.back();
    broken_clients.pop_back();
    drop_client(id);  // may mark more clients broken (pushes to peers)
  }
}

void HypervisorService::Impl::serve(ClientId id) {
  auto it = clients.find(id);
  if (it == clients.end()) return;
  Client& client = *it->second;
  // Not static: counting serves other clients from inside a request (reap_exited).
  std::vector<std::byte> storage(wire::kMaxPacket);
  std::byte* buffer = storage.data();
  ReceivedPacket packet = receive_packet(client.sock.get(), buffer, storage.size(), true);
  if (packet.size == -EAGAIN || packet.size == -EINTR) return;
  if (packet.size == -EMSGSIZE) {
    reply_error(client, EMSGSIZE);
  } else if (packet.size <= 0) {  // end of stream or a broken connection
    // When the owner died, release all its handles together and in order (grant handles
    // first), whichever of its sockets the loop happened to see closing first.
    auto proc = processes.find(client.pid);
    pollfd exited{proc != processes.end() ? proc->second.pidfd.get() : -1, POLLIN, 0};
    if (proc != processes.end() && ::poll(&exited, 1, 0) == 1)
      process_exited(client.pid);
    else
      drop_client(id);
  } else if (packet.sender != client.pid) {
    // A forked child (or anyone the socket was passed to) acting on its parent's handle:
    // the resources are not its own, as /dev/xen/* would not let it either.
    reply_error(client, EBADF);
  } else {
    dispatch(client, std::span<const std::byte>(buffer, static_cast<size_t>(packet.size)), packet.fds);
  }
  drop_broken();
}

void HypervisorService::Impl::dispatch(Client& client, std::span<const std::byte> message,
                                       std::vector<UniqueFd>& fds) {
  wire::Header header{};
  if (message.size() < sizeof(header)) {
    reply_error(client, EINVAL);
    return;
  }
  std::memcpy(&header, message.data(), sizeof(header));
  if (header.size != message.size()) {
    reply_error(client, EINVAL);
    return;
  }
  auto expect_kind = [&](ClientKind kind) {
    if (client.kind == kind) return true;
    reply_error(client, EINVAL);
    return false;
  };
  switch (header.op) {
    case wire::kHelloEvtchn:
      if (expect_kind(ClientKind::kNone)) hello_evtchn(client, fds);
      return;
    case wire::kHelloGnttab:
    case wire::kHelloGntshr:
      if (!expect_kind(ClientKind::kNone)) return;
      if (message.size() != sizeof(wire::Header)) {
        reply_error(client, EINVAL);
        return;
      }
      client.kind = header.op == wire::kHelloGnttab ? ClientKind::kGnttab : ClientKind::kGntshr;
      reply_error(client, 0, client.id);
      return;
    case wire::kShare:
      if (expect_kind(ClientKind::kGntshr)) share(client, message, fds);
      return;
    case wire::kUnshare:
      if (expect_kind(ClientKind::kGntshr)) unshare(client, message);
      return;
    case wire::kMap:
      if (expect_kind(ClientKind::kGnttab)) map(client, message);
      return;
    case wire::kUnmap:
      if (expect_kind(ClientKind::kGnttab)) unmap(client, message);
      return;
    case wire::kBindUnbound:
      if (expect_kind(ClientKind::kEvtchn)) bind_unbound(client, message);
      return;
    case wire::kBindInterdomain:
      if (expect_kind(ClientKind::kEvtchn)) bind_interdomain(client, message);
      return;
    case wire::kUnbind:
      if (expect_kind(ClientKind::kEvtchn)) unbind(client, message);
      return;
    case wire::kClose:
      // The owner closed its handle: release now, even if a forked child keeps the socket.
      if (reply_error(client, 0)) drop_client(client.id);
      return;
    case wire::kCounts: {
      wire::CountsRequest request;
      if (!parse(message, request)) {
        reply_error(client, EINVAL);
        return;
      }
      if (request.domid > 0xffff || !domain(request.domid)) {
        reply_error(client, ESRCH);
        return;
      }
      ClientId asker = client.id;
      HypervisorCounts counts = domain_counts(static_cast<uint16_t>(request.domid), asker);
      // Reaping exits may have dropped the asker itself (its owner died meanwhile).
      auto alive = clients.find(asker);
      if (alive == clients.end()) return;
      wire::CountsReply r{};
      r.r = {{wire::kReply, sizeof(r)}, 0, 0, 0};
      r.grants = counts.grants;
      r.mappings = counts.mappings;
      r.ports = counts.ports;
      r.clients = counts.clients;
      reply(*alive->second, &r, sizeof(r));
      return;
    }
    default:
      reply_error(client, EINVAL);
      return;
  }
}

}  // namespace simxen
