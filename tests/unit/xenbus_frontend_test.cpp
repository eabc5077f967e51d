#include "protocol/xenbus_frontend.h"

#include <gmock/gmock.h>

#include <set>

#include "protocol/errors.h"
#include "tests/unit/fakes/fake_backend.h"

namespace xensnd::testing {
namespace {

using namespace std::chrono_literals;

class XenbusFrontendTest : public ::testing::Test {
 protected:
  void SetUp() override { write_toolstack_nodes(store); }
  std::chrono::steady_clock::time_point soon() { return std::chrono::steady_clock::now() + 500ms; }
  FakeXenStore store{kFrontendDomain};
  const std::string dev = "device/vsnd/0";
};

// A XenStore whose watch never runs dry: a backend rewriting its state node in a loop.
class FloodedXenStore final : public xenio::XenStore {
 public:
  explicit FloodedXenStore(FakeXenStore& inner) : inner_(inner) {}
  int events_taken = 0;

  std::optional<std::string> read(std::string_view p, Transaction t) override { return inner_.read(p, t); }
  void write(std::string_view p, std::string_view v, Transaction t) override { inner_.write(p, v, t); }
  void mkdir(std::string_view p, Transaction t) override { inner_.mkdir(p, t); }
  void remove(std::string_view p, Transaction t) override { inner_.remove(p, t); }
  std::optional<std::vector<std::string>> directory(std::string_view p, Transaction t) override {
    return inner_.directory(p, t);
  }
  std::vector<xenio::XenStorePermission> permissions(std::string_view p, Transaction t) override {
    return inner_.permissions(p, t);
  }
  void set_permissions(std::string_view p, const std::vector<xenio::XenStorePermission>& perms,
                       Transaction t) override {
    inner_.set_permissions(p, perms, t);
  }
  Transaction begin_transaction() override { return inner_.begin_transaction(); }
  bool commit_transaction(Transaction t) override { return inner_.commit_transaction(t); }
  void abort_transaction(Transaction t) override { inner_.abort_transaction(t); }
  void watch(std::string_view p, std::string_view token) override { inner_.watch(p, token); }
  void unwatch(std::string_view p, std::string_view token) override { inner_.unwatch(p, token); }
  int watch_fd() const override { return inner_.watch_fd(); }
  std::optional<xenio::XenStoreWatchEvent> next_watch_event() override {
    // Stops after 10 million so that a frontend draining forever fails instead of hanging.
    if (++events_taken > 10000000) return std::nullopt;
    return xenio::XenStoreWatchEvent{"/local/domain/0/backend/vsnd/1/0/state", "xensnd-frontend"};
  }
  std::string domain_path(xenio::DomainId domid) override { return inner_.domain_path(domid); }

 private:
  FakeXenStore& inner_;
};

// libxenstore's queue: every write to a watched node queues one event in memory until it is
// taken; a watch queues its registration event.
class QueueingXenStore final : public xenio::XenStore {
 public:
  QueueingXenStore(FakeXenStore& inner, std::string flooded_path) : inner_(inner), flooded_(std::move(flooded_path)) {}
  size_t queued = 0;
  std::set<std::string> watched;
  void flood(size_t writes) {
    if (watched.count(flooded_)) queued += writes;
  }

  std::optional<std::string> read(std::string_view p, Transaction t) override { return inner_.read(p, t); }
  void write(std::string_view p, std::string_view v, Transaction t) override { inner_.write(p, v, t); }
  void mkdir(std::string_view p, Transaction t) override { inner_.mkdir(p, t); }
  void remove(std::string_view p, Transaction t) override { inner_.remove(p, t); }
  std::optional<std::vector<std::string>> directory(std::string_view p, Transaction t) override {
    return inner_.directory(p, t);
  }
  std::vector<xenio::XenStorePermission> permissions(std::string_view p, Transaction t) override {
    return inner_.permissions(p, t);
  }
  void set_permissions(std::string_view p, const std::vector<xenio::XenStorePermission>& perms,
                       Transaction t) override {
    inner_.set_permissions(p, perms, t);
  }
  Transaction begin_transaction() override { return inner_.begin_transaction(); }
  bool commit_transaction(Transaction t) override { return inner_.commit_transaction(t); }
  void abort_transaction(Transaction t) override { inner_.abort_transaction(t); }
  void watch(std::string_view p, std::string_view) override {
    watched.insert(std::string(p));
    ++queued;
  }
  void unwatch(std::string_view p, std::string_view) override {
    watched.erase(std::string(p));
    if (p == flooded_) queued = 0;  // every queued event is the flooded node's
  }
  int watch_fd() const override { return inner_.watch_fd(); }
  std::optional<xenio::XenStoreWatchEvent> next_watch_event() override {
    if (queued == 0) return std::nullopt;
    --queued;
    return xenio::XenStoreWatchEvent{flooded_, "xensnd-frontend"};
  }
  std::string domain_path(xenio::DomainId domid) override { return inner_.domain_path(domid); }

 private:
  FakeXenStore& inner_;
  std::string flooded_;
};

// Batches of 64 turned the flood into memory: the rest stayed queued for ever.
TEST_F(XenbusFrontendTest, AWatchFloodIsShedAtEachLookNotQueued) {
  QueueingXenStore queue(store, "/local/domain/0/backend/vsnd/1/0/state");
  XenbusFrontend fe(queue, dev);
  fe.watch();
  queue.flood(10000);
  EXPECT_TRUE(fe.drain_watch_events());
  // More than a batch of 64 per look (time permitting), and looks empty the queue.
  EXPECT_LT(queue.queued, 10000u - 64u) << "one look took only one batch of a flood";
  for (int look = 0; look < 10000 && queue.queued > 0; ++look) fe.drain_watch_events();
  EXPECT_EQ(queue.queued, 0u);
  // Still watching both nodes afterwards.
  EXPECT_EQ(queue.watched.size(), 2u);
  EXPECT_TRUE(queue.watched.count("/local/domain/0/backend/vsnd/1/0/state"));
  EXPECT_TRUE(queue.watched.count(dev + "/backend"));
  // An ordinary trickle is simply taken.
  queue.flood(3);
  EXPECT_TRUE(fe.drain_watch_events());
  EXPECT_EQ(queue.queued, 0u);
}

TEST_F(XenbusFrontendTest, AWatchFloodCannotKeepTheFrontendDraining) {
  FloodedXenStore flooded(store);
  XenbusFrontend fe(flooded, dev);
  EXPECT_TRUE(fe.drain_watch_events());
  // It stopped by itself (a time limit of milliseconds), long before the endless source ran
  // dry at 10 million.
  EXPECT_LT(flooded.events_taken, 10000000);
  // A wait still ends at its deadline, naming the state it saw.
  flooded.events_taken = 0;
  EXPECT_THROW(fe.wait_for(HandshakePhase::kBackendConnected, soon()), FrontendError);
}

TEST_F(XenbusFrontendTest, ReadsBackendLocation) {
  XenbusFrontend fe(store, dev);
  EXPECT_EQ(fe.backend_path(), "/local/domain/0/backend/vsnd/1/0");
  EXPECT_EQ(fe.backend_id(), 0);
  EXPECT_EQ(fe.frontend_state(), BusState::kInitialising);
}

TEST_F(XenbusFrontendTest, MissingOrBadBackendNodes) {
  auto error_of = [&](const std::string& path) -> std::string {
    try {
      XenbusFrontend fe(store, path);
    } catch (const FrontendError& e) {
      EXPECT_EQ(e.errno_value(), ENODEV);
      return e.what();
    }
    return "no error";
  };
  EXPECT_THAT(error_of("device/vsnd/9"), ::testing::HasSubstr("no vsnd device at device/vsnd/9"));
  store.write("device/vsnd/9/state", "1");  // a device without its backend node
  EXPECT_THAT(error_of("device/vsnd/9"), ::testing::HasSubstr("device/vsnd/9/backend is missing"));
  const int listings = store.directory_requests();
  XenbusFrontend found(store, dev);
  EXPECT_EQ(store.directory_requests(), listings) << "a device with its nodes is not listed as well";
  store.write(dev + "/backend-id", "-1");
  EXPECT_THROW(XenbusFrontend(store, dev), FrontendError);
  store.write(dev + "/backend-id", "0");
  store.write(dev + "/backend", "relative/path");
  EXPECT_THROW(XenbusFrontend(store, dev), FrontendError);
}

TEST_F(XenbusFrontendTest, StateWritesAreTransactionsThatDoNotRecreateARemovedDevice) {
  XenbusFrontend fe(store, dev);
  EXPECT_TRUE(fe.write_state(BusState::kInitialised));
  EXPECT_EQ(store.value(dev + "/state"), "3");
  store.remove(dev);
  EXPECT_FALSE(fe.write_state(BusState::kClosed));
  EXPECT_FALSE(store.exists(dev));
  EXPECT_EQ(store.open_transactions(), 0u);
}

TEST_F(XenbusFrontendTest, StateWriteRetriesOnConflict) {
  XenbusFrontend fe(store, dev);
  store.fail_next_commits(5);
  EXPECT_TRUE(fe.write_state(BusState::kConnected));
  EXPECT_EQ(store.value(dev + "/state"), "4");
  EXPECT_EQ(store.failed_commits(), 5);
}

TEST_F(XenbusFrontendTest, PublishesEverythingInOneTransactionWithRelativePaths) {
  XenbusFrontend fe(store, dev);
  int commits = store.commits();
  fe.publish(2, {{dev + "/0/0", 11, 21, 12, 22}, {dev + "/0/1", 13, 23, 14, 24}}, BusState::kInitialised);
  EXPECT_EQ(store.commits(), commits + 1);
  EXPECT_EQ(store.value(dev + "/state"), "3") << "the state in the same commit";
  EXPECT_EQ(store.value(dev + "/version"), "2");
  EXPECT_EQ(store.value(dev + "/0/0/ring-ref"), "11");
  EXPECT_EQ(store.value(dev + "/0/0/event-channel"), "21");
  EXPECT_EQ(store.value(dev + "/0/0/evt-ring-ref"), "12");
  EXPECT_EQ(store.value(dev + "/0/0/evt-event-channel"), "22");
  EXPECT_EQ(store.value(dev + "/0/1/evt-event-channel"), "24");
  // Nothing outside our own domain's tree was written.
  for (const std::string& e : store.history())
    if (e.find("ring-ref") != std::string::npos) {
      EXPECT_EQ(e.rfind("/local/domain/1/", 0), 0u) << e;
    }
}

TEST_F(XenbusFrontendTest, PublishToARemovedDeviceFailsWithoutWriting) {
  XenbusFrontend fe(store, dev);
  store.remove(dev);
  EXPECT_THROW(fe.publish(2, {{dev + "/0/0", 1, 2, 3, 4}}, BusState::kInitialised), FrontendError);
  EXPECT_FALSE(store.exists(dev));
}

TEST_F(XenbusFrontendTest, WaitTimesOutNamingTheState) {
  XenbusFrontend fe(store, dev);
  fe.watch();
  try {
    fe.wait_for(HandshakePhase::kBackendInitWait, std::chrono::steady_clock::now() + 50ms);
    FAIL();
  } catch (const FrontendError& e) {
    EXPECT_EQ(e.errno_value(), ETIMEDOUT);
    EXPECT_THAT(e.what(), ::testing::HasSubstr("Initialising (1)"));
  }
}

TEST_F(XenbusFrontendTest, WaitForTheReleaseTimesOutInAWholeSentence) {
  XenbusFrontend fe(store, dev);
  fe.watch();
  store.write(fe.backend_path() + "/state", "4");  // Connected: has not released anything
  try {
    fe.wait_for(HandshakePhase::kBackendReleased, std::chrono::steady_clock::now() + 20ms);
    FAIL();
  } catch (const FrontendError& e) {
    EXPECT_EQ(e.errno_value(), ETIMEDOUT);
    EXPECT_THAT(e.what(), ::testing::HasSubstr("while waiting for it to release the old connection"));
  }
}

TEST_F(XenbusFrontendTest, WaitWakesOnTheBackendsStateChange) {
  XenbusFrontend fe(store, dev);
  fe.watch();
  // The backend moves when our state changes (as a hook on the store).
  store.set_change_hook([&](const std::string& path) {
    if (path == "/local/domain/1/device/vsnd/0/state" && store.value(path) == "3")
      store.write("/local/domain/0/backend/vsnd/1/0/state", "4");
  });
  fe.write_state(BusState::kInitialised);
  EXPECT_EQ(fe.wait_for(HandshakePhase::kBackendConnected, soon()), BusState::kConnected);
  store.set_change_hook(nullptr);
}

// Each event wakes libxenstore's reader thread, the watch pump's thread and a look at both
// states: a watch on the device directory fired on every one of our own writes there.
TEST_F(XenbusFrontendTest, OurOwnWritesDoNotWakeTheWatchButTheDevicesRemovalDoes) {
  XenbusFrontend fe(store, dev);
  fe.watch();
  EXPECT_TRUE(fe.drain_watch_events()) << "xenstored fires a new watch once";
  fe.write_state(BusState::kInitialising);
  fe.publish(2, {{dev + "/0/0", 11, 21, 12, 22}}, BusState::kInitialised);
  fe.write_state(BusState::kConnected);
  fe.finish_disconnect({dev + "/0/0"});
  EXPECT_FALSE(fe.drain_watch_events());
  store.remove(dev);
  EXPECT_TRUE(fe.drain_watch_events());
}

TEST_F(XenbusFrontendTest, WaitFailsWhenTheDeviceIsRemoved) {
  XenbusFrontend fe(store, dev);
  fe.watch();
  store.remove(dev);
  try {
    fe.wait_for(HandshakePhase::kBackendInitWait, soon());
    FAIL();
  } catch (const FrontendError& e) {
    EXPECT_EQ(e.errno_value(), ENODEV);
  }
}

TEST_F(XenbusFrontendTest, PrepareWaitsOutTheBackendsStartTransients) {
  FakeGrantTable grants;
  FakeEventHub hub;
  FakeBackend backend(store, grants, hub);  // 5 -> 6 -> 1 -> 2 when it sees us
  XenbusFrontend fe(store, dev);
  fe.watch();
  store.write(dev + "/state", "6");  // what an earlier clean close left
  backend.set_state(2);
  fe.prepare({dev + "/0/0"}, soon(), nullptr);
  EXPECT_EQ(fe.frontend_state(), BusState::kInitialising);
  EXPECT_EQ(fe.backend_state(), BusState::kInitWait);
}

// Every XenStore request is a round trip (on real Xen through the hypervisor to dom0), and a
// transaction costs two besides its content: clearing the transport nodes goes in the one
// transaction of the state write that follows it, at open and at close.
TEST_F(XenbusFrontendTest, ClearingTheTransportNodesTakesTheStateWriteAlong) {
  XenbusFrontend fe(store, dev);
  fe.watch();
  fe.publish(2, {{dev + "/0/0", 11, 21, 12, 22}}, BusState::kConnected);
  int commits = store.commits();
  fe.finish_disconnect({dev + "/0/0"});
  EXPECT_EQ(store.commits(), commits + 1) << "the nodes' removal and Closed in one commit";
  EXPECT_EQ(store.value(dev + "/state"), "6");

  store.write(fe.backend_path() + "/state", "2");  // InitWait: prepare() need not wait
  commits = store.commits();
  fe.prepare({dev + "/0/0"}, soon(), nullptr);
  EXPECT_EQ(store.commits(), commits + 1) << "clearing and Initialising in one commit";
  EXPECT_EQ(fe.frontend_state(), BusState::kInitialising);
}

TEST_F(XenbusFrontendTest, PrepareDoesNotRewriteAnInitialisingState) {
  XenbusFrontend fe(store, dev);
  fe.watch();
  store.write(fe.backend_path() + "/state", "2");
  const size_t writes = store.history().size();
  fe.prepare({dev + "/0/0"}, soon(), nullptr);
  EXPECT_EQ(store.history().size(), writes) << "the toolstack's Initialising stays as it is: a write fires the backend's watch";
  EXPECT_EQ(fe.frontend_state(), BusState::kInitialising);
}

// The open's configuration read lists the card's and streams' directories after the claim:
// when they showed no frontend node, an earlier session closed cleanly and there is nothing
// to clear; the transaction that would look is five round trips to XenStore.
TEST_F(XenbusFrontendTest, PrepareSkipsTheClearingWhenNoNodesWereSeen) {
  XenbusFrontend fe(store, dev);
  fe.watch();
  store.write(fe.backend_path() + "/state", "2");
  const int commits = store.commits();
  const int listings = store.directory_requests();
  fe.prepare({dev + "/0/0"}, soon(), nullptr, /*nodes_may_be_left=*/false);
  EXPECT_EQ(store.commits(), commits) << "no transaction: nothing to clear, the state already Initialising";
  EXPECT_EQ(store.directory_requests(), listings + 1) << "only the first look's check of the device";
  EXPECT_EQ(fe.frontend_state(), BusState::kInitialising);

  store.write(dev + "/state", "6");  // Closed, as a clean close leaves it: the state still moves
  fe.prepare({dev + "/0/0"}, soon(), nullptr, /*nodes_may_be_left=*/false);
  EXPECT_EQ(store.commits(), commits + 1) << "the state write alone";
  EXPECT_EQ(store.remove_requests(), 0);
  EXPECT_EQ(fe.frontend_state(), BusState::kInitialising);
}

// A look at the states after a wake-up lists the device directory only when an event could
// have been its removal (the sentinel's watch): a listing at every look cost a round trip
// each, five an open and close.
TEST_F(XenbusFrontendTest, WaitListsTheDeviceOnlyAfterAnEventThatCouldBeItsRemoval) {
  XenbusFrontend fe(store, dev);
  fe.watch();
  store.write(fe.backend_path() + "/state", "2");
  EXPECT_EQ(fe.wait_for(HandshakePhase::kBackendInitWait, soon()), BusState::kInitWait);
  store.set_change_hook([&](const std::string& path) {
    if (path == "/local/domain/1/device/vsnd/0/state" && store.value(path) == "3")
      store.write("/local/domain/0/backend/vsnd/1/0/state", "4");
  });
  fe.write_state(BusState::kInitialised);
  store.set_change_hook(nullptr);
  const int listings = store.directory_requests();
  EXPECT_EQ(fe.wait_for(HandshakePhase::kBackendConnected, soon()), BusState::kConnected);
  EXPECT_EQ(store.directory_requests(), listings) << "only the backend's state changed";

  store.remove(dev);  // a removal after the first look is still seen, by its event
  try {
    fe.wait_for(HandshakePhase::kBackendReleased, soon());
    FAIL() << "the removal was not noticed";
  } catch (const FrontendError& e) {
    EXPECT_EQ(e.errno_value(), ENODEV) << e.what();
  }
}

TEST_F(XenbusFrontendTest, FinishDisconnectRemovesOnlyOurNodes) {
  XenbusFrontend fe(store, dev);
  fe.publish(2, {{dev + "/0/0", 11, 21, 12, 22}}, BusState::kInitialised);
  fe.finish_disconnect({dev + "/0/0"});
  EXPECT_FALSE(store.exists(dev + "/0/0/ring-ref"));
  EXPECT_FALSE(store.exists(dev + "/version"));
  EXPECT_TRUE(store.exists(dev + "/0/0/unique-id"));
  EXPECT_EQ(store.value(dev + "/state"), "6");
}

// Each XenStore request is a round trip (on real Xen through the hypervisor to dom0), and
// an open clears the transport nodes an earlier session may have left, which are usually
// not there: only the nodes present are removed.
TEST_F(XenbusFrontendTest, ClearingTransportNodesRemovesOnlyThosePresent) {
  XenbusFrontend fe(store, dev);
  const std::vector<std::string> streams{dev + "/0/0", dev + "/0/1"};
  fe.finish_disconnect(streams);
  EXPECT_EQ(store.remove_requests(), 0) << "nothing was published";
  fe.publish(2, {{dev + "/0/0", 11, 21, 12, 22}}, BusState::kInitialised);
  fe.finish_disconnect(streams);
  EXPECT_EQ(store.remove_requests(), 5) << "version and the four nodes of the one stream published";
  EXPECT_FALSE(store.exists(dev + "/0/0/ring-ref"));
  EXPECT_FALSE(store.exists(dev + "/version"));
}

}  // namespace
}  // namespace xensnd::testing
