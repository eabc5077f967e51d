#include "protocol/card_connection.h"

#include <gmock/gmock.h>
#include <poll.h>

#include "protocol/errors.h"
#include "tests/unit/connected_card_fixture.h"

namespace xensnd::testing {
namespace {

using ::testing::HasSubstr;

TEST_F(ConnectedCardTest, ConnectsThroughTheBackendsStartTransients) {
  connect();
  EXPECT_TRUE(card->connected());
  EXPECT_EQ(backend.state(), 4);
  EXPECT_EQ(store.value("device/vsnd/0/state"), "4");
  EXPECT_EQ(backend.connected_streams(), 1u);
  ASSERT_NE(card->stream(0, 0), nullptr);
  EXPECT_EQ(card->stream(0, 1), nullptr);
  EXPECT_EQ(card->config().short_name, "VCard");
  EXPECT_EQ(store.value("device/vsnd/0/version"), "2");
  // snd_be publishes no `versions`: protocol 2, a debugging note and no warning (every
  // open against snd_be would warn otherwise).
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  ASSERT_EQ(debug_notes.size(), 1u);
  EXPECT_THAT(debug_notes[0], HasSubstr("versions is missing"));
}

TEST_F(ConnectedCardTest, AllStreamsOfTheCardInOneTransactionStateAfterCommit) {
  store.write("device/vsnd/0/0/1/type", "c");
  store.write("device/vsnd/0/0/1/unique-id", "alsa<mic>");
  store.write("device/vsnd/0/1/0/type", "p");
  store.write("device/vsnd/0/1/0/unique-id", "pulse<sink>");
  connect();
  EXPECT_EQ(backend.connected_streams(), 3u);
  // The commit that published the transport nodes: `version` and all 12 nodes together,
  // and the frontend's state 3 only right after it.
  const auto& h = store.history();
  auto first = std::find(h.begin(), h.end(), "/local/domain/1/device/vsnd/0/version=2");
  ASSERT_NE(first, h.end());
  auto initialised = std::find(first, h.end(), "/local/domain/1/device/vsnd/0/state=3");
  ASSERT_NE(initialised, h.end());
  int transport_writes = 0;
  for (auto it = first; it != initialised; ++it) {
    EXPECT_EQ(it->rfind("/local/domain/1/device/vsnd/0", 0), 0u) << *it;
    ++transport_writes;
  }
  EXPECT_EQ(transport_writes, 13);  // 3 streams x 4 nodes + version, nothing else between
}

TEST_F(ConnectedCardTest, PublishingRetriesOnConflict) {
  store.fail_next_commits(3);
  connect();
  EXPECT_TRUE(card->connected());
  EXPECT_GE(store.failed_commits(), 3);
}

TEST_F(ConnectedCardTest, VersionsListWithoutTwoIsRefused) {
  store.write(backend.backend_path() + "/versions", "1,3");
  try {
    connect();
    FAIL();
  } catch (const FrontendError& e) {
    EXPECT_THAT(e.what(), HasSubstr("protocol 2"));
  }
}

TEST_F(ConnectedCardTest, VersionsListWithTwoNeedsNoWarning) {
  store.write(backend.backend_path() + "/versions", "1,2");
  connect();
  EXPECT_TRUE(warnings.empty());
  EXPECT_TRUE(debug_notes.empty());
}

TEST_F(ConnectedCardTest, BackendRefusingTheRingsFailsClearlyAndCleansUp) {
  backend.refuse_connection = true;
  try {
    connect();
    FAIL();
  } catch (const FrontendError& e) {
    EXPECT_THAT(e.what(), HasSubstr("Closed"));
  }
  EXPECT_EQ(grants.live_grants(), 0u);
  EXPECT_EQ(hub.bound_ports(), 0u);
  EXPECT_FALSE(store.exists("device/vsnd/0/0/0/ring-ref"));
  EXPECT_EQ(store.value("device/vsnd/0/state"), "6");
}

TEST_F(ConnectedCardTest, BackendNeverConnectingTimesOut) {
  backend.never_connect = true;
  ConnectOptions o = options();
  o.handshake_timeout = std::chrono::milliseconds(200);
  try {
    connect_card(platform, o);
    FAIL();
  } catch (const FrontendError& e) {
    EXPECT_EQ(e.errno_value(), ETIMEDOUT);
    EXPECT_THAT(e.what(), HasSubstr("InitWait"));
  }
  EXPECT_EQ(grants.live_grants(), 0u);
}

TEST_F(ConnectedCardTest, MissingDeviceOrConfig) {
  ConnectOptions o = options();
  o.device_id = 5;
  EXPECT_THROW(connect_card(platform, o), ConfigError);
  store.write("device/vsnd/0/0/0/type", "x");
  EXPECT_THROW(connect(), ConfigError);
}

TEST_F(ConnectedCardTest, RefusesNon4KPages) {
  ConnectOptions o = options();
  o.page_size = 65536;
  try {
    connect_card(platform, o);
    FAIL();
  } catch (const FrontendError& e) {
    EXPECT_THAT(e.what(), HasSubstr("65536"));
  }
  EXPECT_EQ(grants.live_grants(), 0u);
}

TEST_F(ConnectedCardTest, CleanTeardown) {
  connect();
  open_default();
  EXPECT_GT(grants.live_grants(), 0u);
  card.reset();
  EXPECT_EQ(grants.live_grants(), 0u);
  EXPECT_EQ(hub.bound_ports(), 0u);
  EXPECT_FALSE(store.exists("device/vsnd/0/0/0/ring-ref"));
  EXPECT_FALSE(store.exists("device/vsnd/0/0/0/evt-event-channel"));
  EXPECT_FALSE(store.exists("device/vsnd/0/version"));
  EXPECT_EQ(store.value("device/vsnd/0/state"), "6");
  EXPECT_EQ(backend.state(), 2);  // ready for the next frontend
  EXPECT_EQ(store.active_watches(), 0u);
  // The card settings are the toolstack's: untouched.
  EXPECT_EQ(store.value("device/vsnd/0/0/0/unique-id"), "alsa<default>");
  // Closing came before Closed.
  const auto& h = store.history();
  auto closing = std::find(h.begin(), h.end(), "/local/domain/1/device/vsnd/0/state=5");
  auto closed = std::find(h.begin(), h.end(), "/local/domain/1/device/vsnd/0/state=6");
  EXPECT_LT(closing, closed);
}

TEST_F(ConnectedCardTest, ReconnectAfterCleanTeardown) {
  connect();
  card.reset();
  connect();
  EXPECT_TRUE(card->connected());
  EXPECT_EQ(backend.state(), 4);
}

TEST_F(ConnectedCardTest, StaleConnectedCardIsResetFirst) {
  // What a frontend process killed while connected leaves behind: its nodes and states.
  store.write("device/vsnd/0/version", "2");
  store.write("device/vsnd/0/0/0/ring-ref", "99999");
  store.write("device/vsnd/0/0/0/event-channel", "99");
  store.write("device/vsnd/0/state", "4");
  backend.set_state(4);
  connect();
  EXPECT_TRUE(card->connected());
  EXPECT_EQ(backend.state(), 4);
  EXPECT_NE(store.value("device/vsnd/0/0/0/ring-ref"), "99999");
  bool warned = std::any_of(warnings.begin(), warnings.end(), [](const std::string& w) { return w.find("resetting") != std::string::npos; });
  EXPECT_TRUE(warned);
  // Reset order: Closing, Closed, then Initialising.
  const auto& h = store.history();
  auto pos = [&](const std::string& e, decltype(h.begin()) from) { return std::find(from, h.end(), e); };
  auto stale_closing = pos("/local/domain/1/device/vsnd/0/state=5", h.begin());
  ASSERT_NE(stale_closing, h.end());
  auto closed = pos("/local/domain/1/device/vsnd/0/state=6", stale_closing);
  auto init = pos("/local/domain/1/device/vsnd/0/state=1", closed);
  EXPECT_NE(closed, h.end());
  EXPECT_NE(init, h.end());
}

TEST_F(ConnectedCardTest, BackendLeavingConnectedDisconnectsStreams) {
  connect();
  open_default();
  EXPECT_TRUE(card->check_backend());
  backend.set_state(5);
  EXPECT_FALSE(card->check_backend());
  EXPECT_FALSE(card->connected());
  EXPECT_TRUE(stream0().disconnected());
  EXPECT_THAT(stream0().disconnect_reason(), HasSubstr("left Connected"));
  EXPECT_THROW(stream0().trigger(Trigger::kStart), BackendGoneError);
  stream0().close();  // safe after the backend went away
  EXPECT_FALSE(stream0().is_open());
}

TEST_F(ConnectedCardTest, WatchFdSignalsBackendStateChanges) {
  connect();
  card->check_backend();  // consumes what the handshake queued
  pollfd p{card->watch_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0);
  backend.set_state(6);
  EXPECT_EQ(::poll(&p, 1, 0), 1);
  EXPECT_FALSE(card->check_backend());
  EXPECT_EQ(::poll(&p, 1, 0), 0);
  // Once disconnected, later changes are still consumed (no busy poll loop).
  backend.set_state(2);
  EXPECT_EQ(::poll(&p, 1, 0), 1);
  EXPECT_FALSE(card->check_backend());
  EXPECT_EQ(::poll(&p, 1, 0), 0);
}

TEST_F(ConnectedCardTest, TeardownDoesNotWaitForABackendThatStoppedAnswering) {
  ConnectOptions o = options();
  o.teardown_timeout = std::chrono::milliseconds(3000);
  card = connect_card(platform, o);
  open_default();
  backend.hold = true;             // alive in XenStore, silent on the ring
  backend.never_connect = true;    // and it will not react to Closing either
  store.set_change_hook(nullptr);  // (the fake stops following the frontend)
  auto begin = std::chrono::steady_clock::now();
  card.reset();
  // CLOSE times out (300 ms + the buffer's 86 ms); the 3 s teardown wait is skipped.
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::milliseconds(2500));
  EXPECT_EQ(store.value("device/vsnd/0/state"), "6");
  EXPECT_EQ(grants.live_grants(), 0u);
}

TEST_F(ConnectedCardTest, TeardownAsksASilentBackendOnlyOnce) {
  store.write("device/vsnd/0/0/1/type", "c");
  store.write("device/vsnd/0/0/1/unique-id", "alsa<capture>");
  connect();
  open_default();
  StreamParams p{XENSND_PCM_FORMAT_S16_LE, 2, 48000, 16384, 4096};
  card->stream(0, 1)->open(p);
  backend.hold = true;             // alive in XenStore, silent on every ring
  backend.never_connect = true;
  store.set_change_hook(nullptr);
  card.reset();
  // The first CLOSE timed out; waiting the same time again for the other stream of the
  // same backend would only make the application wait longer.
  int closes = 0;
  for (const auto& stream_requests : backend.requests)
    for (const xensnd_req& r : stream_requests) closes += r.operation == XENSND_OP_CLOSE;
  EXPECT_EQ(closes, 1);
  EXPECT_EQ(store.value("device/vsnd/0/state"), "6");
  EXPECT_EQ(grants.live_grants(), 0u);
}

TEST_F(ConnectedCardTest, DeviceRemovedDisconnectsAndTeardownDoesNotRecreateIt) {
  connect();
  store.remove("device/vsnd/0");
  EXPECT_FALSE(card->check_backend());
  card.reset();
  EXPECT_FALSE(store.exists("device/vsnd/0"));
}

}  // namespace
}  // namespace xensnd::testing
