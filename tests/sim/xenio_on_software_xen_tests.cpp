// The product's own Xen layer (xenio) over the software Xen: the frontend's way of sharing
// and signalling, in one domain, meets a backend's way of mapping, in another. This is the
// path the end-to-end tests take, checked here at the seam.
#include <gtest/gtest.h>
#include <poll.h>

#include <cstring>

#include "hypervisor_test_support.h"
#include "xenio/event_channels.h"
#include "xenio/grant_sharing.h"

namespace simxen::test {
namespace {

TEST(XenioOnSoftwareXen, FrontendSharesAndSignalsBackendMapsAndAnswers) {
  HypervisorHarness harness;
  LinkPair link;
  DomainProcess frontend(harness, 1, [&] {
    auto sharer = xenio::open_grant_sharer();
    auto pages = sharer->share(0, 4, true);
    std::memcpy(pages->data(), "request", 8);
    auto channels = xenio::open_event_channels();
    xenio::BoundPort port(*channels, channels->bind_unbound(0));
    std::vector<uint32_t> message(pages->refs().begin(), pages->refs().end());
    message.push_back(port.port());
    link.a.send_all(message);
    require(link.a.receive() == 1, "backend bound");
    port.notify();
    require(eventually_readable(channels->fd()), "backend's answer wakes us");
    require(channels->pending() == port.port(), "on our port");
    require(!channels->pending().has_value(), "nothing more");
    channels->unmask(port.port());
    require(std::memcmp(pages->data() + 3 * xenio::kXenPageSize, "response", 9) == 0, "backend's bytes");
  });
  DomainProcess backend(harness, 0, [&] {
    std::vector<uint32_t> message = link.b.receive_all();
    uint32_t remote_port = message.back();
    message.pop_back();
    auto mapper = xenio::open_grant_mapper();
    auto mapped = mapper->map(1, message, true);
    require(std::memcmp(mapped->data(), "request", 8) == 0, "frontend's bytes");
    auto channels = xenio::open_event_channels();
    xenio::BoundPort port(*channels, channels->bind_interdomain(1, remote_port));
    require(channels->pending() == port.port(), "bind leaves the port pending");
    channels->unmask(port.port());
    link.b.send(1);
    require(eventually_readable(channels->fd()), "frontend's notify wakes us");
    require(channels->pending() == port.port(), "on our port");
    channels->unmask(port.port());
    std::memcpy(mapped->data() + 3 * xenio::kXenPageSize, "response", 9);
    port.notify();
  });
  EXPECT_EQ(backend.wait(), 0);
  EXPECT_EQ(frontend.wait(), 0);
  EXPECT_EQ(harness.counts(0), HypervisorCounts{});
  EXPECT_EQ(harness.counts(1), HypervisorCounts{});
}

}  // namespace
}  // namespace simxen::test
