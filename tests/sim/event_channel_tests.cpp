// Event channels on the software Xen, through the drop-in libxenevtchn: the two ends are
// separate processes of separate domains, with the semantics real Xen and Linux's
// /dev/xen/evtchn were seen to have.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>
extern "C" {
#include <xenevtchn.h>
}

#include <cerrno>
#include <cstring>

#include "hypervisor_test_support.h"

namespace simxen::test {
namespace {

xenevtchn_handle* open_nonblocking() {
  xenevtchn_handle* xce = xenevtchn_open(nullptr, 0);
  require(xce != nullptr, "xenevtchn_open: " + std::string(strerror(errno)));
  int fd = xenevtchn_fd(xce);
  require(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0, "O_NONBLOCK");
  return xce;
}

bool readable_now(xenevtchn_handle* xce) {
  pollfd p{xenevtchn_fd(xce), POLLIN, 0};
  return poll(&p, 1, 0) == 1;
}

bool readable_within(xenevtchn_handle* xce, int ms) {
  pollfd p{xenevtchn_fd(xce), POLLIN, 0};
  return poll(&p, 1, ms) == 1;
}

void require_nothing_pending(xenevtchn_handle* xce, const std::string& when) {
  require(!readable_now(xce), "fd not readable " + when);
  errno = 0;
  require(xenevtchn_pending(xce) == -1 && errno == EAGAIN, "pending: EAGAIN " + when);
}

// The guest (domain 1) allocates a port for domain 0 and sends its number over `link`; the
// backend binds to it. Returns the local port.
int bind_backend(xenevtchn_handle* xce, const Link& link) {
  uint32_t remote = link.receive();
  int port = xenevtchn_bind_interdomain(xce, 1, remote);
  require(port > 0, "bind_interdomain: " + std::string(strerror(errno)));
  return port;
}

TEST(EventChannel, NotifyInOneProcessWakesPollInAnother) {
  HypervisorHarness harness;
  LinkPair link;
  DomainProcess guest(harness, 1, [&] {
    xenevtchn_handle* xce = open_nonblocking();
    int port = xenevtchn_bind_unbound_port(xce, 0);
    require(port > 0, "bind_unbound_port");
    link.a.send(static_cast<uint32_t>(port));
    require(link.a.receive() == 1, "backend bound");
    require(xenevtchn_notify(xce, port) == 0, "notify");
    // And the other way: the backend's notify wakes us.
    require(readable_within(xce, 20000), "guest woken");
    require(xenevtchn_pending(xce) == port, "guest's pending is its own port");
    xenevtchn_close(xce);
  });
  DomainProcess backend(harness, 0, [&] {
    xenevtchn_handle* xce = open_nonblocking();
    int port = bind_backend(xce, link.b);
    // bind_interdomain leaves the new port pending.
    require(xenevtchn_pending(xce) == port, "first pending after bind is the new port");
    require(xenevtchn_unmask(xce, port) == 0, "unmask");
    require_nothing_pending(xce, "after the bind's event");
    link.b.send(1);
    require(readable_within(xce, 20000), "backend woken by the guest's notify");
    require(xenevtchn_pending(xce) == port, "pending returns the port");
    require(xenevtchn_unmask(xce, port) == 0, "unmask");
    require(xenevtchn_notify(xce, port) == 0, "notify back");
    xenevtchn_close(xce);
  });
  EXPECT_EQ(backend.wait(), 0);
  EXPECT_EQ(guest.wait(), 0);
  EXPECT_EQ(harness.counts(0), HypervisorCounts{});
  EXPECT_EQ(harness.counts(1), HypervisorCounts{});
}

TEST(EventChannel, NotifiesCoalesceAndStayMaskedUntilUnmask) {
  HypervisorHarness harness;
  LinkPair link;
  DomainProcess guest(harness, 1, [&] {
    xenevtchn_handle* xce = open_nonblocking();
    int port = xenevtchn_bind_unbound_port(xce, 0);
    link.a.send(static_cast<uint32_t>(port));
    // Rounds of n notifies, each acknowledged once sent, until n = 0.
    for (uint32_t n; (n = link.a.receive()) != 0;) {
      for (uint32_t i = 0; i < n; ++i) require(xenevtchn_notify(xce, port) == 0, "notify");
      link.a.send(n);
    }
  });
  DomainProcess backend(harness, 0, [&] {
    xenevtchn_handle* xce = open_nonblocking();
    int port = bind_backend(xce, link.b);
    require(xenevtchn_pending(xce) == port, "bind's event");
    require_nothing_pending(xce, "once the bind's event is taken");
    // Delivery masked the port: notifies only set its one pending bit.
    link.b.send(3);
    require(link.b.receive() == 3, "three notifies sent");
    require_nothing_pending(xce, "while masked");
    require(xenevtchn_unmask(xce, port) == 0, "unmask");
    require(readable_now(xce), "unmask delivers what arrived while masked");
    require(xenevtchn_pending(xce) == port, "one event for three notifies");
    require_nothing_pending(xce, "after the coalesced event");
    require(xenevtchn_unmask(xce, port) == 0, "unmask with nothing pending");
    require_nothing_pending(xce, "after an idle unmask");
    link.b.send(1);
    require(link.b.receive() == 1, "one more notify sent");
    require(readable_now(xce) && xenevtchn_pending(xce) == port, "unmasked port delivers at once");
    link.b.send(0);
  });
  EXPECT_EQ(backend.wait(), 0);
  EXPECT_EQ(guest.wait(), 0);
}

TEST(EventChannel, NotifiesBeforeTheReceiverLooksAreOneEvent) {
  HypervisorHarness harness;
  LinkPair link;
  DomainProcess guest(harness, 1, [&] {
    xenevtchn_handle* xce = open_nonblocking();
    int port = xenevtchn_bind_unbound_port(xce, 0);
    link.a.send(static_cast<uint32_t>(port));
    require(link.a.receive() == 1, "backend ready");
    for (int i = 0; i < 5; ++i) require(xenevtchn_notify(xce, port) == 0, "notify");
    link.a.send(1);
    require(link.a.receive() == 1, "backend done");
  });
  DomainProcess backend(harness, 0, [&] {
    xenevtchn_handle* xce = open_nonblocking();
    int port = bind_backend(xce, link.b);
    require(xenevtchn_pending(xce) == port && xenevtchn_unmask(xce, port) == 0, "bind's event");
    link.b.send(1);
    require(link.b.receive() == 1, "guest notified five times");
    require(xenevtchn_pending(xce) == port, "one event");
    require_nothing_pending(xce, "after five notifies");
    link.b.send(1);
  });
  EXPECT_EQ(backend.wait(), 0);
  EXPECT_EQ(guest.wait(), 0);
}

TEST(EventChannel, NotifyAfterThePeerExitedReturnsZero) {
  HypervisorHarness harness;
  LinkPair link;
  DomainProcess guest(harness, 1, [&] {
    xenevtchn_handle* xce = open_nonblocking();
    int port = xenevtchn_bind_unbound_port(xce, 0);
    link.a.send(static_cast<uint32_t>(port));
    require(link.a.receive() == 1, "backend bound");
    require(xenevtchn_notify(xce, port) == 0, "notify a live peer");
    require(link.a.receive() == 2, "backend exited");
    require(xenevtchn_notify(xce, port) == 0, "notify a port whose peer has gone: 0, as Xen");
    // The port is unbound again, waiting for domain 0: a new backend can bind it.
    link.a.send(1);
    link.a.send(static_cast<uint32_t>(port));
    require(readable_within(xce, 20000), "new backend's notify arrives");
    require(xenevtchn_pending(xce) == port, "on the same port");
  });
  DomainProcess backend(harness, 0, [&] {
    xenevtchn_handle* xce = open_nonblocking();
    bind_backend(xce, link.b);
    link.b.send(1);
    // Exit without unbinding.
  });
  EXPECT_EQ(backend.wait(), 0);
  EXPECT_EQ(harness.counts(0).ports, 0u);
  EXPECT_EQ(harness.counts(1).ports, 1u);
  link.b.send(2);
  DomainProcess second(harness, 0, [&] {
    require(link.b.receive() == 1, "guest notified the dead peer");
    xenevtchn_handle* xce = open_nonblocking();
    xenevtchn_port_or_error_t remote = static_cast<xenevtchn_port_or_error_t>(link.b.receive());
    int port = xenevtchn_bind_interdomain(xce, 1, remote);
    require(port > 0, "rebind the unbound port");
    require(xenevtchn_notify(xce, port) == 0, "notify");
  });
  EXPECT_EQ(second.wait(), 0);
  EXPECT_EQ(guest.wait(), 0);
  EXPECT_EQ(harness.counts(0), HypervisorCounts{});
  EXPECT_EQ(harness.counts(1), HypervisorCounts{});
}

TEST(EventChannel, ADomainMayBindToItself) {
  HypervisorHarness harness;
  DomainProcess guest(harness, 1, [&] {
    xenevtchn_handle* a = open_nonblocking();
    xenevtchn_handle* b = open_nonblocking();
    int unbound = xenevtchn_bind_unbound_port(a, 1);
    int bound = xenevtchn_bind_interdomain(b, 1, static_cast<uint32_t>(unbound));
    require(unbound > 0 && bound > 0 && bound != unbound, "self bind");
    require(xenevtchn_pending(b) == bound && xenevtchn_unmask(b, bound) == 0, "bind's event");
    require_nothing_pending(a, "on the unbound side before any notify");
    require(xenevtchn_notify(b, bound) == 0 && xenevtchn_pending(a) == unbound, "b -> a");
    require(xenevtchn_notify(a, unbound) == 0 && xenevtchn_pending(b) == bound, "a -> b");
    // One handle for both ends works too.
    int p = xenevtchn_bind_unbound_port(a, 1);
    int q = xenevtchn_bind_interdomain(a, 1, static_cast<uint32_t>(p));
    require(xenevtchn_pending(a) == q && xenevtchn_unmask(a, q) == 0, "bind's event, same handle");
    require(xenevtchn_notify(a, q) == 0 && xenevtchn_pending(a) == p, "q -> p in one handle");
  });
  EXPECT_EQ(guest.wait(), 0);
}

TEST(EventChannel, BindRulesFollowXen) {
  HypervisorHarness harness;
  LinkPair link;
  DomainProcess guest(harness, 1, [&] {
    xenevtchn_handle* xce = open_nonblocking();
    int for_dom2 = xenevtchn_bind_unbound_port(xce, 2);
    link.a.send(static_cast<uint32_t>(for_dom2));
    require(link.a.receive() == 1, "checked");
  });
  DomainProcess backend(harness, 0, [&] {
    xenevtchn_handle* xce = open_nonblocking();
    uint32_t for_dom2 = link.b.receive();
    errno = 0;
    require(xenevtchn_bind_interdomain(xce, 1, for_dom2) == -1 && errno == EINVAL,
            "a port waiting for another domain: EINVAL");
    errno = 0;
    require(xenevtchn_bind_interdomain(xce, 1, 999) == -1 && errno == EINVAL, "no such port: EINVAL");
    errno = 0;
    require(xenevtchn_bind_interdomain(xce, 77, 1) == -1 && errno == ESRCH, "no such domain: ESRCH");
    errno = 0;
    require(xenevtchn_notify(xce, 5) == -1 && errno == ENOTCONN, "notify a port not ours: ENOTCONN");
    errno = 0;
    require(xenevtchn_unbind(xce, 5) == -1 && errno == ENOTCONN, "unbind a port not ours: ENOTCONN");
    link.b.send(1);
  });
  EXPECT_EQ(backend.wait(), 0);
  EXPECT_EQ(guest.wait(), 0);
}

TEST(EventChannel, PortLimitRestrictAndUnsupportedCalls) {
  HypervisorHarness harness;
  DomainProcess guest(harness, 1, [&] {
    // 1023 ports per domain (xl's default max_event_channels), over several handles.
    std::vector<xenevtchn_handle*> handles;
    int bound = 0;
    for (int h = 0; h < 2; ++h) {
      handles.push_back(open_nonblocking());
      for (int i = 0; i < 600 && bound < 1023; ++i, ++bound)
        require(xenevtchn_bind_unbound_port(handles.back(), 0) > 0, "bind within the limit");
    }
    errno = 0;
    require(xenevtchn_bind_unbound_port(handles[0], 0) == -1 && errno == ENOSPC, "limit: ENOSPC");
    require(xenevtchn_unbind(handles[0], 1) == 0, "unbind one");
    require(xenevtchn_bind_unbound_port(handles[1], 0) == 1, "the lowest free port is reused");

    xenevtchn_handle* restricted = open_nonblocking();
    require(xenevtchn_restrict(restricted, 2) == 0, "restrict to domain 2");
    errno = 0;
    require(xenevtchn_restrict(restricted, 3) == -1 && errno == EACCES, "restricted once only");
    errno = 0;
    require(xenevtchn_bind_interdomain(restricted, 0, 5) == -1 && errno == EACCES, "other domain: EACCES");
    errno = 0;
    require(xenevtchn_bind_unbound_port(restricted, 2) == -1 && errno == EACCES, "unbound: EACCES");
    errno = 0;
    require(xenevtchn_bind_virq(restricted, 0) == -1 && errno == ENOSYS, "no virtual IRQs");
    errno = 0;
    require(xenevtchn_fdopen(nullptr, xenevtchn_fd(restricted), 0) == nullptr && errno == ENOSYS, "fdopen");
  });
  EXPECT_EQ(guest.wait(), 0);
}

TEST(EventChannel, BlockingPendingWaitsForTheEvent) {
  HypervisorHarness harness;
  LinkPair link;
  DomainProcess guest(harness, 1, [&] {
    xenevtchn_handle* xce = xenevtchn_open(nullptr, 0);
    int port = xenevtchn_bind_unbound_port(xce, 0);
    link.a.send(static_cast<uint32_t>(port));
    require(link.a.receive() == 1, "backend about to block");
    require(xenevtchn_notify(xce, port) == 0, "notify");
  });
  DomainProcess backend(harness, 0, [&] {
    xenevtchn_handle* xce = xenevtchn_open(nullptr, 0);  // blocking, as snd_be uses it
    int port = bind_backend(xce, link.b);
    require(xenevtchn_pending(xce) == port && xenevtchn_unmask(xce, port) == 0, "bind's event");
    link.b.send(1);
    require(xenevtchn_pending(xce) == port, "blocking pending returns the notified port");
  });
  EXPECT_EQ(backend.wait(), 0);
  EXPECT_EQ(guest.wait(), 0);
}

TEST(EventChannel, SaveRestoreMakesNotifiesNoOps) {
  HypervisorHarness harness;
  LinkPair peers, to_guest, to_backend;  // each used by the two parties its name says
  DomainProcess guest(harness, 1, [&] {
    xenevtchn_handle* xce = open_nonblocking();
    int port = xenevtchn_bind_unbound_port(xce, 0);
    peers.a.send(static_cast<uint32_t>(port));
    require(to_guest.b.receive() == 1, "invalidated");
    require(xenevtchn_notify(xce, port) == 0, "the restored guest's stale port: a no-op");
    peers.a.send(1);
    require(peers.a.receive() == 1, "backend notified");
    require_nothing_pending(xce, "after the backend notified a port of the old instance");
    require(xenevtchn_unbind(xce, port) == 0, "unbinding a stale port is fine");
  });
  DomainProcess backend(harness, 0, [&] {
    xenevtchn_handle* xce = open_nonblocking();
    int port = bind_backend(xce, peers.b);
    require(xenevtchn_pending(xce) == port && xenevtchn_unmask(xce, port) == 0, "bind's event");
    to_backend.b.send(1);
    require(peers.b.receive() == 1, "guest notified");
    require_nothing_pending(xce, "after the invalidated guest notified");
    require(xenevtchn_notify(xce, port) == 0, "notify a port whose peer was invalidated: 0");
    peers.b.send(1);
  });
  EXPECT_EQ(to_backend.a.receive(), 1u);
  EXPECT_EQ(harness.counts(1).ports, 1u);
  harness.invalidate(1);
  EXPECT_EQ(harness.counts(1).ports, 0u);
  to_guest.a.send(1);
  EXPECT_EQ(backend.wait(), 0);
  EXPECT_EQ(guest.wait(), 0);
}

}  // namespace
}  // namespace simxen::test
