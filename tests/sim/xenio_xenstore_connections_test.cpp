// xenio's XenStore over the software xenstored and the real libxenstore: which connections
// it opens. libxenstore starts a reader thread on a connection at its first watch, and from
// then on every answer there is read by that thread and handed to the caller through a
// condition variable (a thread wake-up more per request): xenio sends its requests on a
// connection that is never watched.
#include <gtest/gtest.h>
#include <poll.h>

#include "sim_daemon.h"
#include "xenio/xenstore.h"

namespace simtest {
namespace {

TEST(XenioXenStoreConnections, RequestsGoOnAConnectionThatIsNeverWatched) {
  SimDaemon daemon;
  use_domain(daemon, 0);
  const uint64_t before = daemon.counts(0).at("xs_connections");
  auto store = xenio::open_xenstore();
  store->write("data/a", "1");
  EXPECT_EQ(daemon.counts(0).at("xs_connections"), before + 1) << "look-ups only: one connection";

  store->watch("data", "token");
  EXPECT_EQ(daemon.counts(0).at("xs_connections"), before + 2) << "the watch has a connection of its own";
  EXPECT_EQ(daemon.counts(0).at("xs_watches"), 1u);

  // Events still come, for writes made on the other connection.
  auto next_event = [&]() -> std::optional<xenio::XenStoreWatchEvent> {
    pollfd p{store->watch_fd(), POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) return std::nullopt;  // bounded: a lost event fails, not hangs
    return store->next_watch_event();
  };
  auto registration = next_event();
  ASSERT_TRUE(registration.has_value());
  EXPECT_EQ(registration->path, "data");
  store->write("data/a", "2");
  auto change = next_event();
  ASSERT_TRUE(change.has_value());
  EXPECT_EQ(change->path, "data/a");
  EXPECT_EQ(store->read("data/a"), "2");

  store->unwatch("data", "token");
  EXPECT_EQ(daemon.counts(0).at("xs_watches"), 0u);
}

}  // namespace
}  // namespace simtest
