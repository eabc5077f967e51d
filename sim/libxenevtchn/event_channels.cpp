// xenevtchn_*: ports are bound through the service, which tells each end where its peer's
// port word and eventfd are; notify, pending and unmask then touch only those (an atomic
// compare-and-swap, and one eventfd read or write), as fast as the kernel device would be.
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
extern "C" {  // the header has no C++ guard of its own
#include <xenevtchn.h>
}

#include <cerrno>
#include <cstring>
#include <new>
#include <vector>

#include "sim/hypervisor/hypervisor_client.h"
#include "sim/libxenevtchn/event_channel_handle.h"

namespace wire = simxen::wire;
namespace client = simxen::client;
namespace port_state = simxen::port_state;
using simxen::UniqueFd;
using simxen::evtchn::LocalPort;
using simxen::evtchn::PeerEnd;
using simxen::evtchn::PeerHandle;

namespace {

constexpr size_t kStateBytes = wire::kSlotsPerHandle * sizeof(port_state::Word);
constexpr uint32_t kDomidSelf = 0x7ff0;

template <typename T>
T fail(int error, T result) {
  errno = error;
  return result;
}

void signal_eventfd(int fd) {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(fd, &one, sizeof(one));
}

port_state::Word* map_state(int memfd) {
  void* slots = ::mmap(nullptr, kStateBytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
  return slots == MAP_FAILED ? nullptr : static_cast<port_state::Word*>(slots);
}

// The peer handle `info` names, reusing our mapping of it when we have one.
std::shared_ptr<PeerHandle> peer_handle(xenevtchn_handle* xce, const wire::PeerInfo& info,
                                        std::vector<UniqueFd>& fds) {
  if (auto known = xce->peers[info.handle_id].lock()) return known;
  if (fds.size() != 2) return nullptr;
  std::erase_if(xce->peers, [](const auto& entry) { return entry.second.expired(); });
  auto peer = std::make_shared<PeerHandle>();
  peer->slots = map_state(fds[1].get());
  if (!peer->slots) return nullptr;
  peer->eventfd = std::move(fds[0]);
  xce->peers[info.handle_id] = peer;
  return peer;
}

void set_peer(xenevtchn_handle* xce, uint32_t port, const wire::PeerInfo& info, std::vector<UniqueFd>& fds) {
  auto it = xce->ports.find(port);
  if (it == xce->ports.end() || info.slot >= wire::kSlotsPerHandle) return;
  auto handle = peer_handle(xce, info, fds);
  if (handle) it->second.peer = PeerEnd{handle, info.slot, info.generation};
}

// What the service pushes between replies: our unbound port got a peer, or lost it.
client::PushHandler push_handler(xenevtchn_handle* xce) {
  return [xce](std::span<const std::byte> message, std::vector<UniqueFd>& fds) {
    wire::Header header;
    std::memcpy(&header, message.data(), sizeof(header));
    if (header.op == wire::kPushPeer && message.size() == sizeof(wire::PushPeer)) {
      wire::PushPeer push;
      std::memcpy(&push, message.data(), sizeof(push));
      set_peer(xce, push.port, push.peer, fds);
    } else if (header.op == wire::kPushPeerGone && message.size() == sizeof(wire::PushPeerGone)) {
      wire::PushPeerGone gone;
      std::memcpy(&gone, message.data(), sizeof(gone));
      auto it = xce->ports.find(gone.port);
      if (it != xce->ports.end()) it->second.peer.reset();
    }
  };
}

int request(xenevtchn_handle* xce, const void* message, size_t size, client::Response& response) {
  int rc = client::transact(xce->sock.get(), message, size, {}, response, push_handler(xce));
  return rc != 0 ? rc : response.error;
}

// Sends an event to `port`'s peer. False when the peer is unknown or has gone.
bool deliver_to_peer(const LocalPort& port) {
  if (!port.peer) return false;
  port_state::Word& word = port.peer->handle->slots[port.peer->slot];
  if (port_state::generation(word.load(std::memory_order_acquire)) != port.peer->generation) return false;
  if (port_state::raise(word, port.peer->generation)) signal_eventfd(port.peer->handle->eventfd.get());
  return true;
}

xenevtchn_port_or_error_t bind(xenevtchn_handle* xce, uint32_t op, uint32_t domid, uint32_t remote_port) {
  if (!xce) return fail(EBADF, -1);
  std::lock_guard guard(xce->lock);
  // As Linux's evtchn device for a handle restricted to one domain.
  if (xce->restricted_to && (op == wire::kBindUnbound || *xce->restricted_to != domid)) return fail(EACCES, -1);
  wire::BindRequest message{{op, sizeof(message)}, domid, remote_port};
  client::Response response;
  int rc = request(xce, &message, sizeof(message), response);
  if (rc != 0) return fail(rc, -1);
  wire::BindReply reply;
  if (response.bytes.size() != sizeof(reply)) return fail(EPROTO, -1);
  std::memcpy(&reply, response.bytes.data(), sizeof(reply));
  if (reply.slot >= wire::kSlotsPerHandle || reply.r.value == 0 || reply.r.value > 0x7fffffff)
    return fail(EPROTO, -1);
  uint32_t port = static_cast<uint32_t>(reply.r.value);
  xce->ports[port] = LocalPort{reply.slot, reply.generation, std::nullopt};
  if (reply.has_peer) set_peer(xce, port, reply.peer, response.fds);
  return static_cast<xenevtchn_port_or_error_t>(port);
}

}  // namespace

namespace simxen::evtchn {
PeerHandle::~PeerHandle() {
  if (slots) ::munmap(slots, kStateBytes);
}
}  // namespace simxen::evtchn

xenevtchn_handle::~xenevtchn_handle() {
  if (slots) ::munmap(slots, kStateBytes);
}

extern "C" {

xenevtchn_handle* xenevtchn_open(struct xentoollog_logger* /*logger*/, unsigned int flags) {
  auto* xce = new (std::nothrow) xenevtchn_handle;
  if (!xce) return fail<xenevtchn_handle*>(ENOMEM, nullptr);
  std::unique_ptr<xenevtchn_handle> handle(xce);
  handle->owner = ::getpid();
  int cloexec = (flags & XENEVTCHN_NO_CLOEXEC) ? 0 : EFD_CLOEXEC;
  handle->eventfd.reset(::eventfd(0, EFD_SEMAPHORE | cloexec));
  UniqueFd memfd(::memfd_create("xen-event-ports", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!handle->eventfd.valid() || !memfd.valid()) return nullptr;
  if (::ftruncate(memfd.get(), kStateBytes) < 0 ||
      ::fcntl(memfd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
    return nullptr;
  handle->slots = map_state(memfd.get());
  if (!handle->slots) return nullptr;
  int rc = client::connect_hypervisor(handle->sock, "xenevtchn");
  if (rc == 0) {
    wire::Header hello{wire::kHelloEvtchn, sizeof(hello)};
    int fds[2] = {handle->eventfd.get(), memfd.get()};
    client::Response response;
    rc = client::transact(handle->sock.get(), &hello, sizeof(hello), fds, response);
    if (rc == 0) rc = response.error;
  }
  if (rc != 0) return fail<xenevtchn_handle*>(rc, nullptr);
  return handle.release();
}

xenevtchn_handle* xenevtchn_fdopen(struct xentoollog_logger* /*logger*/, int /*fd*/, unsigned open_flags) {
  // A simulated handle is three descriptors (socket, eventfd, port words): one inherited fd
  // cannot rebuild it, so a daemon's re-exec live update is not simulated.
  return fail<xenevtchn_handle*>((open_flags & XENEVTCHN_NO_CLOEXEC) ? EINVAL : ENOSYS, nullptr);
}

int xenevtchn_close(xenevtchn_handle* xce) {
  if (!xce) return 0;
  if (xce->owner == ::getpid()) {
    // Release now; waiting for the socket to close would wait for forked children too.
    std::lock_guard guard(xce->lock);
    wire::Header bye{wire::kClose, sizeof(bye)};
    client::Response response;
    request(xce, &bye, sizeof(bye), response);
  }
  delete xce;
  return 0;
}

int xenevtchn_fd(xenevtchn_handle* xce) { return xce ? xce->eventfd.get() : fail(EBADF, -1); }

int xenevtchn_notify(xenevtchn_handle* xce, evtchn_port_t port) {
  if (!xce) return fail(EBADF, -1);
  std::lock_guard guard(xce->lock);
  auto it = xce->ports.find(port);
  if (it == xce->ports.end()) return fail(ENOTCONN, -1);  // as Linux: not bound by this handle
  // Our own end was closed under us (save/restore): the hypervisor drops the event.
  uint64_t own = xce->slots[it->second.slot].load(std::memory_order_acquire);
  if (port_state::generation(own) != it->second.generation) return 0;
  if (!deliver_to_peer(it->second)) {
    // A peer may have bound our unbound port since: the service has pushed it to us.
    client::drain_pushes(xce->sock.get(), push_handler(xce));
    it = xce->ports.find(port);
    if (it != xce->ports.end()) deliver_to_peer(it->second);
  }
  return 0;  // an unbound port, or one whose peer has gone: dropped, and not an error on Xen
}

xenevtchn_port_or_error_t xenevtchn_bind_unbound_port(xenevtchn_handle* xce, uint32_t domid) {
  return bind(xce, wire::kBindUnbound, domid, 0);
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle* xce, uint32_t domid,
                                                     evtchn_port_t remote_port) {
  return bind(xce, wire::kBindInterdomain, domid, remote_port);
}

xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle* xce, unsigned int /*virq*/) {
  // A software Xen raises no virtual interrupts.
  return xce ? fail(ENOSYS, -1) : fail(EBADF, -1);
}

int xenevtchn_unbind(xenevtchn_handle* xce, evtchn_port_t port) {
  if (!xce) return fail(EBADF, -1);
  std::lock_guard guard(xce->lock);
  auto it = xce->ports.find(port);
  if (it == xce->ports.end()) return fail(ENOTCONN, -1);
  LocalPort local = it->second;
  xce->ports.erase(it);
  if (xce->owner != ::getpid()) return 0;
  wire::UnbindRequest message{{wire::kUnbind, sizeof(message)}, port, 0};
  client::Response response;
  int rc = request(xce, &message, sizeof(message), response);
  // ENOTCONN: the service already closed it (save/restore); the handle still had it.
  if (rc != 0 && rc != ENOTCONN) return fail(rc, -1);
  if (rc == 0 && port_state::generation(response.value) == local.generation &&
      (response.value & port_state::kDelivered)) {
    // Delivered but never consumed: take its count off the eventfd, or pending() would
    // find nothing for it later.
    pollfd p{xce->eventfd.get(), POLLIN, 0};
    uint64_t count;
    if (::poll(&p, 1, 0) == 1 && ::read(xce->eventfd.get(), &count, sizeof(count)) == sizeof(count)) {
    } else {
      ++xce->stray_wakeups;
    }
  }
  return 0;
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle* xce) {
  if (!xce) return fail(EBADF, -1);
  for (;;) {
    // Blocks unless the caller made the fd O_NONBLOCK (then EAGAIN), like /dev/xen/evtchn.
    uint64_t count;
    if (::read(xce->eventfd.get(), &count, sizeof(count)) != sizeof(count)) return -1;
    std::lock_guard guard(xce->lock);
    // Round robin from the port after the last one returned, so no port starves another.
    auto take = [&](auto first, auto last) -> uint32_t {
      for (auto it = first; it != last; ++it)
        if (port_state::take_delivered(xce->slots[it->second.slot], it->second.generation)) return it->first;
      return 0;
    };
    auto middle = xce->ports.upper_bound(xce->last_pending);
    uint32_t port = take(middle, xce->ports.end());
    if (!port) port = take(xce->ports.begin(), middle);
    if (port) {
      xce->last_pending = port;
      return static_cast<xenevtchn_port_or_error_t>(port);
    }
    if (xce->stray_wakeups > 0) --xce->stray_wakeups;
  }
}

int xenevtchn_unmask(xenevtchn_handle* xce, evtchn_port_t port) {
  if (!xce) return fail(EBADF, -1);
  std::lock_guard guard(xce->lock);
  auto it = xce->ports.find(port);
  if (it == xce->ports.end()) return 0;  // Linux ignores ports the handle lacks
  if (port_state::unmask(xce->slots[it->second.slot], it->second.generation)) signal_eventfd(xce->eventfd.get());
  return 0;
}

int xenevtchn_restrict(xenevtchn_handle* xce, domid_t domid) {
  if (!xce) return fail(EBADF, -1);
  std::lock_guard guard(xce->lock);
  if (xce->restricted_to) return fail(EACCES, -1);
  if (domid == 0 || domid >= 0x7ff0) return fail(EINVAL, -1);
  xce->restricted_to = domid;
  return 0;
}

}  // extern "C"
