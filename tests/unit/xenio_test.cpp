// The parts of xenio that are logic rather than library calls: run_transaction's retry
// discipline, BoundPort's ownership, XenError's errno.
#include <gmock/gmock.h>

#include "tests/unit/fakes/fake_event_channels.h"
#include "tests/unit/fakes/fake_xenstore.h"
#include "xenio/error.h"
#include "xenio/xenstore.h"

namespace xensnd::testing {
namespace {

TEST(RunTransaction, RetriesTheWholeBodyOnConflict) {
  FakeXenStore store;
  store.fail_next_commits(2);
  int runs = 0;
  EXPECT_TRUE(xenio::run_transaction(store, [&](xenio::XenStore::Transaction t) {
    ++runs;
    store.write("a", std::to_string(runs), t);
    return true;
  }));
  EXPECT_EQ(runs, 3);
  EXPECT_EQ(store.value("a"), "3");
  EXPECT_EQ(store.open_transactions(), 0u);
}

TEST(RunTransaction, BodyReturningFalseAbortsAndWritesNothing) {
  FakeXenStore store;
  EXPECT_FALSE(xenio::run_transaction(store, [&](xenio::XenStore::Transaction t) {
    store.write("a", "1", t);
    return false;
  }));
  EXPECT_FALSE(store.exists("a"));
  EXPECT_EQ(store.open_transactions(), 0u);
}

TEST(RunTransaction, ExceptionsAbortAndPropagate) {
  FakeXenStore store;
  EXPECT_THROW(xenio::run_transaction(store,
                                      [&](xenio::XenStore::Transaction t) -> bool {
                                        store.write("a", "1", t);
                                        throw std::runtime_error("boom");
                                      }),
               std::runtime_error);
  EXPECT_FALSE(store.exists("a"));
  EXPECT_EQ(store.open_transactions(), 0u);
}

TEST(RunTransaction, GivesUpWithEagainAfterTheLimit) {
  FakeXenStore store;
  store.fail_next_commits(1000);
  try {
    xenio::run_transaction(store, [&](xenio::XenStore::Transaction) { return true; }, 5);
    FAIL();
  } catch (const xenio::XenError& e) {
    EXPECT_EQ(e.errno_value(), EAGAIN);
  }
  EXPECT_EQ(store.failed_commits(), 5);
}

TEST(BoundPort, UnbindsOnDestructionAndMoves) {
  FakeEventHub hub;
  FakeEventChannels channels(hub);
  {
    xenio::BoundPort a(channels, channels.bind_unbound(0));
    EXPECT_EQ(hub.bound_ports(), 1u);
    xenio::BoundPort b(std::move(a));
    EXPECT_FALSE(a.bound());  // NOLINT: moved-from state is specified
    EXPECT_TRUE(b.bound());
    xenio::BoundPort c;
    c = std::move(b);
    EXPECT_EQ(hub.bound_ports(), 1u);
  }
  EXPECT_EQ(hub.bound_ports(), 0u);
}

TEST(BoundPort, UnbindFailureIsSwallowedOnDestruction) {
  FakeEventHub hub;
  FakeEventChannels channels(hub);
  xenio::EventPort port = channels.bind_unbound(0);
  {
    xenio::BoundPort p(channels, port);
    channels.unbind(port);  // gone already (e.g. the domain died)
  }
  SUCCEED();
}

TEST(XenError, CarriesErrno) {
  xenio::XenError e(ENOENT, "XenStore read x");
  EXPECT_EQ(e.errno_value(), ENOENT);
  EXPECT_THAT(e.what(), ::testing::HasSubstr("XenStore read x"));
  errno = EACCES;
  try {
    xenio::throw_errno("open /dev/xen/evtchn");
  } catch (const xenio::XenError& e2) {
    EXPECT_EQ(e2.errno_value(), EACCES);
  }
  errno = 0;
  try {
    xenio::throw_errno("nothing set");
  } catch (const xenio::XenError& e3) {
    EXPECT_EQ(e3.errno_value(), EIO);
  }
}

TEST(FakeEventChannels, DeliveryMasksUntilUnmask) {
  FakeEventHub hub;
  FakeEventChannels channels(hub);
  xenio::EventPort port = channels.bind_unbound(0);
  hub.notify_frontend(port);
  hub.notify_frontend(port);  // one pending bit
  EXPECT_EQ(channels.pending(), port);
  EXPECT_FALSE(channels.pending());
  hub.notify_frontend(port);  // masked: held
  EXPECT_FALSE(channels.pending());
  channels.unmask(port);
  EXPECT_EQ(channels.pending(), port);
}

}  // namespace
}  // namespace xensnd::testing
