// The xenbus life cycle as snd_be runs it, and the process' own life (ready, exit codes).
#include "backend/vsnd_device.h"
#include "backend_fixture.h"

namespace backendtest {
namespace {

class LifecycleTest : public BackendFixture {};

TEST_F(LifecycleTest, PublishesNoVersionsUnlessAsked) {
  start_backend({});
  simtest::use_domain(*sim_, 0);
  auto store = xenio::open_xenstore();
  EXPECT_FALSE(store->read(frontend_->backend_path() + "/versions"));
}

TEST_F(LifecycleTest, PublishesVersionsWhenAsked) {
  start_backend({"--publish-versions"});
  simtest::use_domain(*sim_, 0);
  auto store = xenio::open_xenstore();
  EXPECT_EQ(store->read(frontend_->backend_path() + "/versions"), "2");
}

TEST_F(LifecycleTest, AMissingTransportNodeKeepsTheDeviceClosed) {
  start_backend({}, false);
  ASSERT_TRUE(frontend_->wait_backend_state(2));
  frontend_->publish({"1/evt-ring-ref"});
  ASSERT_TRUE(frontend_->wait_backend_state(6)) << backend_->log();
  EXPECT_NE(backend_->log().find("/0/1/evt-ring-ref is missing"), std::string::npos) << backend_->log();
}

TEST_F(LifecycleTest, ReconnectsAfterTheFrontendClosed) {
  start_backend({"--sink", "wav:" + dir_});
  ASSERT_EQ(open_stream(0), 0);
  frontend_->set_state(5);  // Closing
  ASSERT_TRUE(frontend_->wait_backend_state(2)) << backend_->log();  // through 5 and 6
  frontend_->set_state(6);
  frontend_->drop_transport();
  frontend_->set_state(1);
  frontend_->publish();
  ASSERT_TRUE(frontend_->wait_backend_state(4)) << backend_->log();
  EXPECT_EQ(open_stream(0), 0);  // a fresh stream: the old OPEN is gone with the old rings
  // The second OPEN of stream 0/0 since the backend started gets its own file.
  ASSERT_EQ(write_period(0, 0), 0);
  ASSERT_EQ(frontend_->call(0, ScriptedFrontend::simple_request(XENSND_OP_CLOSE)).status, 0);
  EXPECT_EQ(read_file(dir_ + "/vsnd-1-0-0-0-2.wav").size(), 44 + kPeriodBytes);
}

TEST_F(LifecycleTest, ReconnectsWhenTheFrontendReinitialises) {
  start_backend({});
  frontend_->set_state(1);
  ASSERT_TRUE(frontend_->wait_backend_state(2)) << backend_->log();
  frontend_->drop_transport();
  frontend_->publish();
  ASSERT_TRUE(frontend_->wait_backend_state(4)) << backend_->log();
  EXPECT_EQ(open_stream(0), 0);
}

TEST_F(LifecycleTest, SigtermExitsCleanlyAndFinalizesTheWav) {
  start_backend({"--sink", "wav:" + dir_});
  ASSERT_EQ(open_stream(0), 0);
  ASSERT_EQ(write_period(0, 0), 0);
  ASSERT_EQ(write_period(0, 1), 0);
  ASSERT_EQ(trigger(0, XENSND_OP_TRIGGER_START), 0);
  ASSERT_TRUE(frontend_->wait_event(0));
  EXPECT_EQ(backend_->stop(), 0);
  auto wav = read_file(dir_ + "/vsnd-1-0-0-0-1.wav");
  ASSERT_GE(wav.size(), 44u + kPeriodBytes);
  uint32_t data_size = uint32_t(wav[40]) | uint32_t(wav[41]) << 8 | uint32_t(wav[42]) << 16 | uint32_t(wav[43]) << 24;
  EXPECT_EQ(data_size, wav.size() - 44);
}

TEST_F(LifecycleTest, BadCommandLineAndUnreachableXenStoreExitWithAMessage) {
  auto bad = simtest::run_process({XENSND_BACKEND_EXE, "--sink", "speaker"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("unknown sink 'speaker'"), std::string::npos) << bad.err;
  auto no_dir = simtest::run_process({XENSND_BACKEND_EXE, "--sink", "wav:" + dir_ + "/missing"});
  EXPECT_EQ(no_dir.exit_code, 2);
  EXPECT_NE(no_dir.err.find(dir_ + "/missing does not exist"), std::string::npos) << no_dir.err;
  auto no_file = simtest::run_process({XENSND_BACKEND_EXE, "--source", "0/1=wav:" + dir_ + "/none.wav"});
  EXPECT_EQ(no_file.exit_code, 2);
  EXPECT_NE(no_file.err.find(dir_ + "/none.wav"), std::string::npos) << no_file.err;
  auto env = sim_->environment();
  env["XENSTORED_PATH"] = dir_ + "/no-such-socket";
  auto unreachable = simtest::run_process({XENSND_BACKEND_EXE}, env);
  EXPECT_EQ(unreachable.exit_code, 1);
  EXPECT_NE(unreachable.err.find("error"), std::string::npos) << unreachable.err;
}

}  // namespace
}  // namespace backendtest

namespace backendtest {
namespace {

TEST_F(LifecycleTest, ToolstackDetachClosesTheDeviceAndReattachIsServed) {
  start_backend({});
  ASSERT_EQ(open_stream(0), 0);
  auto env = sim_->environment();
  auto detached = simtest::run_process({XENSND_TOOLSTACK_EXE, "vsnd-detach", "--domid", "1", "--devid", "0",
                                        "--timeout", "5"}, env);
  ASSERT_EQ(detached.exit_code, 0) << detached.err;
  EXPECT_EQ(detached.err.find("did not close"), std::string::npos) << detached.err << backend_->log();
  frontend_.reset();
  frontend_ = nullptr;
  auto attached = simtest::run_process(
      {XENSND_TOOLSTACK_EXE, "vsnd-attach", "--domid", "1", "--devid", "0", "--config", kCardConfig}, env);
  ASSERT_EQ(attached.exit_code, 0) << attached.err;
  frontend_ = std::make_unique<ScriptedFrontend>(1, 0, 0, 2);
  connect();
  EXPECT_EQ(open_stream(0), 0);
}

TEST_F(LifecycleTest, ServesTheGuestAgainAfterSaveRestore) {
  start_backend({});
  ASSERT_EQ(open_stream(0), 0);
  auto restored = simtest::run_process({XENSND_TOOLSTACK_EXE, "save-restore", "--domid", "1"}, sim_->environment());
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  // The restored guest's frontend starts over: fresh grants and ports, state Initialising.
  frontend_->drop_transport();
  ASSERT_TRUE(frontend_->wait_backend_state(2)) << backend_->log();
  frontend_->publish();
  ASSERT_TRUE(frontend_->wait_backend_state(4)) << backend_->log();
  EXPECT_EQ(open_stream(0), 0);
}

}  // namespace
}  // namespace backendtest

namespace backendtest {
namespace {

// A card configuration the backend cannot use (here: a stream of a PCM that does not start
// at index 0) keeps the device Closed, with the reason in the log.
TEST_F(LifecycleTest, ABrokenCardConfigurationKeepsTheDeviceClosed) {
  start_backend({}, false);
  ASSERT_TRUE(frontend_->wait_backend_state(2));
  frontend_->write_node("2/0/type", "p");
  frontend_->write_node("2/0/unique-id", "stray");
  frontend_->publish();
  ASSERT_TRUE(frontend_->wait_backend_state(6)) << backend_->log();
  std::string log = backend_->log();
  size_t at = log.find("cannot connect: ");
  ASSERT_NE(at, std::string::npos) << log;
  std::string reason = log.substr(at, log.find('\n', at) - at);
  std::printf("%s\n", reason.c_str());
  EXPECT_NE(reason.find("/local/domain/1/device/vsnd/0"), std::string::npos) << reason;
}

// A card declaring more streams than the backend serves is refused before any ring thread
// starts (the frontend publishes a complete transport for every one of them).
TEST_F(LifecycleTest, ACardWithTooManyStreamsStaysClosed) {
  start_backend({}, false);
  constexpr size_t kStreams = xensnd::backend::kMaxStreamsPerCard + 1;
  frontend_ = std::make_unique<ScriptedFrontend>(1, 0, 0, kStreams);
  ASSERT_TRUE(frontend_->wait_backend_state(2));
  for (size_t s = 2; s < kStreams; ++s) {
    frontend_->write_node("0/" + std::to_string(s) + "/type", "p");
    frontend_->write_node("0/" + std::to_string(s) + "/unique-id", "extra" + std::to_string(s));
  }
  frontend_->publish();
  ASSERT_TRUE(frontend_->wait_backend_state(6)) << backend_->log();
  std::string log = backend_->log();
  EXPECT_NE(log.find("declares " + std::to_string(kStreams) + " streams, more than the " +
                     std::to_string(xensnd::backend::kMaxStreamsPerCard)),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find(": connected (ring"), std::string::npos) << "a ring thread started\n" << log;
}

}  // namespace
}  // namespace backendtest

namespace backendtest {
namespace {

// libxl__initiate_device_generic_remove (domain destroy, xl detach): dom0 writes, in ONE
// transaction, online=0 and state=5 into the backend node, then waits up to 10 s for state 6
// before removing the device by force. A backend that misses it costs every domU teardown
// 10 s. The answer must not depend on the frontend (whose nodes may be going as the domain
// dies), only on the backend node.
void remove_like_libxl(const simtest::SimDaemon& sim, const std::string& backend_path) {
  simtest::use_domain(sim, 0);
  auto toolstack = xenio::open_xenstore();
  simtest::use_domain(sim, 1);
  xenio::run_transaction(*toolstack, [&](xenio::XenStore::Transaction t) {
    toolstack->write(backend_path + "/online", "0", t);
    toolstack->write(backend_path + "/state", "5", t);
    return true;
  });
}

TEST_F(LifecycleTest, LibxlRemovalAfterTheFrontendClosedIsAnsweredWithClosed) {
  start_backend({});
  ASSERT_EQ(open_stream(0), 0);
  frontend_->set_state(5);
  ASSERT_TRUE(frontend_->wait_backend_state(2)) << backend_->log();  // back in InitWait
  frontend_->set_state(6);
  remove_like_libxl(*sim_, frontend_->backend_path());
  EXPECT_TRUE(frontend_->wait_backend_state(6)) << backend_->log();
}

TEST_F(LifecycleTest, LibxlRemovalWhileConnectedIsAnsweredWithClosed) {
  start_backend({});
  ASSERT_EQ(open_stream(0), 0);
  remove_like_libxl(*sim_, frontend_->backend_path());
  EXPECT_TRUE(frontend_->wait_backend_state(6)) << backend_->log();
}

}  // namespace
}  // namespace backendtest
