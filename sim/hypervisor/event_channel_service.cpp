// Event channels: ports are allocated and connected here, and each end learns where its
// peer's PortWord and eventfd are. Events themselves go straight between processes; the
// service raises a port only where Xen itself would (the pending bit bind_interdomain leaves,
// notify-on-unmap).
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <cerrno>
#include <cstring>
#include <string>

#include "sim/hypervisor/service_state.h"

namespace simxen {
namespace {

constexpr uint32_t kDomidSelf = 0x7ff0;  // DOMID_SELF
constexpr size_t kStateBytes = wire::kSlotsPerHandle * sizeof(port_state::Word);

bool is_eventfd(int fd) {
  char target[64] = {};
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
  return n > 0 && std::strcmp(target, "anon_inode:[eventfd]") == 0;
}

bool is_state_memfd(int fd) {
  int seals = ::fcntl(fd, F_GET_SEALS);
  struct stat st{};
  return seals >= 0 && (seals & F_SEAL_SHRINK) && ::fstat(fd, &st) == 0 &&
         static_cast<size_t>(st.st_size) >= kStateBytes;
}

void signal_eventfd(int fd) {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(fd, &one, sizeof(one));
}

}  // namespace

void HypervisorService::Impl::hello_evtchn(Client& client, std::vector<UniqueFd>& fds) {
  if (fds.size() != 2 || !is_eventfd(fds[0].get()) || !is_state_memfd(fds[1].get())) {
    reply_error(client, EINVAL);
    return;
  }
  void* slots = ::mmap(nullptr, kStateBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fds[1].get(), 0);
  if (slots == MAP_FAILED) {
    reply_error(client, errno);
    return;
  }
  client.kind = ClientKind::kEvtchn;
  client.eventfd = std::move(fds[0]);
  client.state_memfd = std::move(fds[1]);
  client.slots = static_cast<port_state::Word*>(slots);
  client.slot_used.assign(wire::kSlotsPerHandle, false);
  reply_error(client, 0, client.id);
}

namespace {

// Lowest free port from 1, as Xen's get_free_port; 0 is never valid.
uint32_t free_port(const Domain& dom) {
  uint32_t port = 1;
  for (const auto& [used, state] : dom.ports) {
    if (used != port) break;
    ++port;
  }
  return port <= kPortLimitPerDomain ? port : 0;
}

struct NewPort {
  uint32_t port;
  uint32_t slot;
  uint32_t generation;
};

// Both binds need a free port of the domain and a free state slot of the handle, the slot
// reset to a fresh word of its next generation; nullopt when either is used up (ENOSPC).
std::optional<NewPort> take_port_and_slot(Client& client, const Domain& dom) {
  uint32_t port = free_port(dom);
  auto slot_it = std::find(client.slot_used.begin(), client.slot_used.end(), false);
  if (port == 0 || slot_it == client.slot_used.end()) return std::nullopt;
  uint32_t slot = static_cast<uint32_t>(slot_it - client.slot_used.begin());
  client.slot_used[slot] = true;
  uint32_t gen = port_state::generation(client.slots[slot].load());
  client.slots[slot].store(port_state::fresh(gen));
  return NewPort{port, slot, gen};
}

}  // namespace

void HypervisorService::Impl::bind_unbound(Client& client, std::span<const std::byte> message) {
  wire::BindRequest request;
  if (message.size() != sizeof(request)) {
    reply_error(client, EINVAL);
    return;
  }
  std::memcpy(&request, message.data(), sizeof(request));
  uint32_t remote = request.remote_domid == kDomidSelf ? client.domid : request.remote_domid;
  Domain* dom = domain(client.domid);
  if (remote > 0xffff || !dom) {
    reply_error(client, EINVAL);
    return;
  }
  std::optional<NewPort> taken = take_port_and_slot(client, *dom);
  if (!taken) {
    reply_error(client, ENOSPC);
    return;
  }
  auto [port, slot, gen] = *taken;
  dom->ports[port] = Port{client.id, slot, gen, false, static_cast<uint16_t>(remote), 0};
  client.ports.insert(port);
  wire::BindReply r{};
  r.r = {{wire::kReply, sizeof(r)}, 0, 0, port};
  r.slot = slot;
  r.generation = gen;
  reply(client, &r, sizeof(r));
}

void HypervisorService::Impl::bind_interdomain(Client& client, std::span<const std::byte> message) {
  wire::BindRequest request;
  if (message.size() != sizeof(request)) {
    reply_error(client, EINVAL);
    return;
  }
  std::memcpy(&request, message.data(), sizeof(request));
  uint32_t remote = request.remote_domid == kDomidSelf ? client.domid : request.remote_domid;
  Domain* dom = domain(client.domid);
  Domain* rdom = domain(remote);
  if (!dom || !rdom) {
    reply_error(client, ESRCH);  // Xen: no such domain
    return;
  }
  auto rit = rdom->ports.find(request.remote_port);
  // Xen: the remote port must be unbound and waiting for this very domain.
  if (rit == rdom->ports.end() || rit->second.connected || rit->second.remote_domid != client.domid) {
    reply_error(client, EINVAL);
    return;
  }
  auto peer_it = clients.find(rit->second.client);
  if (peer_it == clients.end()) {
    reply_error(client, EINVAL);
    return;
  }
  Client& peer = *peer_it->second;
  std::optional<NewPort> taken = take_port_and_slot(client, *dom);
  if (!taken) {
    reply_error(client, ENOSPC);
    return;
  }
  auto [port, slot, gen] = *taken;
  Port& remote_port = rit->second;
  remote_port.connected = true;
  remote_port.remote_domid = client.domid;
  remote_port.remote_port = port;
  Port local{client.id, slot, gen, true, static_cast<uint16_t>(remote), request.remote_port};
  dom->ports[port] = local;
  client.ports.insert(port);

  // The unbound end learns its peer first, so that once the binder's call returns (and it
  // tells the other side through XenStore) the other side's next notify already reaches it.
  wire::PushPeer announce{};
  announce.h = {wire::kPushPeer, sizeof(announce)};
  announce.port = request.remote_port;
  announce.peer = {client.id, slot, gen};
  int binder_fds[2] = {client.eventfd.get(), client.state_memfd.get()};
  push(peer.id, &announce, sizeof(announce), binder_fds);

  // Xen leaves the new local end pending, so no event sent before the bind is lost.
  raise_port(local);

  wire::BindReply r{};
  r.r = {{wire::kReply, sizeof(r)}, 0, 0, port};
  r.slot = slot;
  r.generation = gen;
  r.has_peer = 1;
  r.peer = {peer.id, remote_port.slot, remote_port.generation};
  int peer_fds[2] = {peer.eventfd.get(), peer.state_memfd.get()};
  reply(client, &r, sizeof(r), peer_fds);
}

void HypervisorService::Impl::unbind(Client& client, std::span<const std::byte> message) {
  wire::UnbindRequest request;
  if (message.size() != sizeof(request)) {
    reply_error(client, EINVAL);
    return;
  }
  std::memcpy(&request, message.data(), sizeof(request));
  if (!client.ports.count(request.port)) {
    reply_error(client, ENOTCONN);  // as Linux's evtchn device for a port the file lacks
    return;
  }
  Port& port = domain(client.domid)->ports.at(request.port);
  uint32_t slot = port.slot;
  uint64_t old = port_state::retire(client.slots[slot]);
  unbind_port(client, request.port);
  reply_error(client, 0, old);
}

uint64_t HypervisorService::Impl::close_port(uint16_t domid, uint32_t port) {
  Domain* dom = domain(domid);
  if (!dom) return 0;
  auto it = dom->ports.find(port);
  if (it == dom->ports.end()) return 0;
  Port closing = it->second;
  dom->ports.erase(it);
  if (closing.connected) {
    // Xen: the other end stays allocated, unbound, waiting for this domain again.
    if (Domain* rdom = domain(closing.remote_domid)) {
      auto rit = rdom->ports.find(closing.remote_port);
      if (rit != rdom->ports.end() && rit->second.connected && rit->second.remote_domid == domid &&
          rit->second.remote_port == port) {
        rit->second.connected = false;
        rit->second.remote_port = 0;
        wire::PushPeerGone gone{{wire::kPushPeerGone, sizeof(gone)}, closing.remote_port, 0};
        push(rit->second.client, &gone, sizeof(gone));
      }
    }
  }
  auto cit = clients.find(closing.client);
  if (cit == clients.end()) return 0;
  Client& owner = *cit->second;
  owner.ports.erase(port);
  owner.slot_used[closing.slot] = false;
  // A new generation: every stale notify, pending or unmask on the slot is now a no-op.
  return port_state::retire(owner.slots[closing.slot]);
}

void HypervisorService::Impl::raise_port(const Port& port) {
  auto it = clients.find(port.client);
  if (it == clients.end() || !it->second->slots) return;
  if (port_state::raise(it->second->slots[port.slot], port.generation))
    signal_eventfd(it->second->eventfd.get());
}

void HypervisorService::Impl::send_event(uint16_t domid, uint32_t port) {
  Domain* dom = domain(domid);
  if (!dom) return;
  auto it = dom->ports.find(port);
  if (it == dom->ports.end() || !it->second.connected) return;  // unbound: dropped, as Xen
  Domain* rdom = domain(it->second.remote_domid);
  if (!rdom) return;
  auto rit = rdom->ports.find(it->second.remote_port);
  if (rit != rdom->ports.end()) raise_port(rit->second);
}

void HypervisorService::Impl::release_ports(Client& client) {
  std::set<uint32_t> ports = client.ports;
  for (uint32_t port : ports) unbind_port(client, port);
}

void HypervisorService::Impl::unbind_port(Client& owner, uint32_t number) {
  Domain* dom = domain(owner.domid);
  auto it = dom ? dom->ports.find(number) : decltype(dom->ports.end()){};
  if (!dom || it == dom->ports.end()) return;
  if (it->second.holds == 0) {
    close_port(owner.domid, number);
    return;
  }
  // Still named by a notify-on-release: the handle lets go of it, the port stays bound.
  Port& port = it->second;
  port_state::retire(owner.slots[port.slot]);
  owner.slot_used[port.slot] = false;
  owner.ports.erase(number);
  port.client = 0;
  port.orphaned = true;
}

bool HypervisorService::Impl::hold_port(uint16_t domid, uint32_t number) {
  Domain* dom = domain(domid);
  if (!dom) return false;
  auto it = dom->ports.find(number);
  if (it == dom->ports.end() || it->second.orphaned) return false;
  ++it->second.holds;
  return true;
}

void HypervisorService::Impl::release_hold(uint16_t domid, uint32_t number) {
  Domain* dom = domain(domid);
  if (!dom) return;
  auto it = dom->ports.find(number);
  if (it == dom->ports.end() || it->second.holds == 0) return;
  if (--it->second.holds == 0 && it->second.orphaned) close_port(domid, number);
}

}  // namespace simxen
