// Request handling: statuses for bad requests, HW_PARAM_QUERY, volume, TRIGGER rules.
#include <cstring>

#include "backend_fixture.h"

namespace backendtest {
namespace {

class ProtocolTest : public BackendFixture {};

constexpr int32_t kEinval = -22;
constexpr int32_t kEbusy = -16;

TEST_F(ProtocolTest, OpenOutsideTheConfigurationIsEinval) {
  start_backend({});
  grant_ref_t directory = frontend_->share_buffer(0, kBufferBytes);
  auto bad_rate = ScriptedFrontend::open_request(22050, XENSND_PCM_FORMAT_S16_LE, 2, kBufferBytes, kPeriodBytes, directory);
  EXPECT_EQ(frontend_->call(0, bad_rate).status, kEinval);
  auto bad_format = ScriptedFrontend::open_request(kRate, XENSND_PCM_FORMAT_U8, 2, kBufferBytes, kPeriodBytes, directory);
  EXPECT_EQ(frontend_->call(0, bad_format).status, kEinval);
  auto too_big = ScriptedFrontend::open_request(kRate, XENSND_PCM_FORMAT_S16_LE, 2, 65536 + 4096, kPeriodBytes, directory);
  EXPECT_EQ(frontend_->call(0, too_big).status, kEinval);
  // A directory naming more pages than were granted: refused, not a crash.
  auto short_directory = ScriptedFrontend::open_request(kRate, XENSND_PCM_FORMAT_S16_LE, 2, 65536, kPeriodBytes, directory);
  EXPECT_EQ(frontend_->call(0, short_directory).status, kEinval);
  EXPECT_EQ(open_stream(0), 0);
  EXPECT_EQ(open_stream(0), kEbusy);  // already open
}

TEST_F(ProtocolTest, ReadsAndWritesAreBoundedByTheBuffer) {
  start_backend({});
  EXPECT_EQ(frontend_->call(0, ScriptedFrontend::rw_request(XENSND_OP_WRITE, 0, kPeriodBytes)).status, kEinval);
  ASSERT_EQ(open_stream(0), 0);
  EXPECT_EQ(frontend_->call(0, ScriptedFrontend::rw_request(XENSND_OP_WRITE, kBufferBytes - 4, 8)).status, kEinval);
  EXPECT_EQ(frontend_->call(0, ScriptedFrontend::rw_request(XENSND_OP_WRITE, 0xFFFFFFF0u, 0x20)).status, kEinval);
  EXPECT_EQ(frontend_->call(0, ScriptedFrontend::rw_request(XENSND_OP_WRITE, 0, 0)).status, kEinval);
  EXPECT_EQ(frontend_->call(0, ScriptedFrontend::rw_request(XENSND_OP_READ, 0, 4)).status, kEinval);  // playback
  EXPECT_EQ(frontend_->call(0, ScriptedFrontend::rw_request(XENSND_OP_WRITE, kBufferBytes - 4, 4)).status, 0);
  EXPECT_EQ(frontend_->call(0, ScriptedFrontend::simple_request(200)).status, -95);  // unknown operation
}

TEST_F(ProtocolTest, StartIsRequiredOnceAndASecondStartIsRefused) {
  start_backend({});
  EXPECT_EQ(trigger(0, XENSND_OP_TRIGGER_START), kEinval);  // not open
  ASSERT_EQ(open_stream(0), 0);
  ASSERT_EQ(write_period(0, 0), 0);
  EXPECT_EQ(trigger(0, XENSND_OP_TRIGGER_RESUME), kEinval);
  EXPECT_EQ(trigger(0, XENSND_OP_TRIGGER_START), 0);
  EXPECT_EQ(trigger(0, XENSND_OP_TRIGGER_START), kEbusy);
  EXPECT_EQ(trigger(0, XENSND_OP_TRIGGER_PAUSE), 0);
  EXPECT_EQ(trigger(0, XENSND_OP_TRIGGER_RESUME), 0);
  EXPECT_EQ(trigger(0, XENSND_OP_TRIGGER_STOP), 0);
  EXPECT_EQ(trigger(0, XENSND_OP_TRIGGER_START), 0);
}

TEST_F(ProtocolTest, HwParamQueryNarrowsToTheConfiguration) {
  start_backend({});
  xensnd_req query = ScriptedFrontend::simple_request(XENSND_OP_HW_PARAM_QUERY);
  query.op.hw_param.formats = ~uint64_t{0};
  query.op.hw_param.rates = {1, 1000000};
  query.op.hw_param.channels = {1, 8};
  query.op.hw_param.buffer = {1, 1000000};
  query.op.hw_param.period = {1, 1000000};
  auto response = frontend_->call(0, query);
  ASSERT_EQ(response.status, 0);
  EXPECT_EQ(response.resp.hw_param.formats,
            (uint64_t{1} << XENSND_PCM_FORMAT_S16_LE) | (uint64_t{1} << XENSND_PCM_FORMAT_S32_LE));
  EXPECT_EQ(response.resp.hw_param.rates.min, 8000u);
  EXPECT_EQ(response.resp.hw_param.rates.max, 48000u);
  EXPECT_EQ(response.resp.hw_param.channels.max, 2u);
  EXPECT_EQ(response.resp.hw_param.buffer.max, 65536u / 2);  // frames of s16 mono
  query.op.hw_param.rates = {9000, 9000};
  EXPECT_EQ(frontend_->call(0, query).status, kEinval);
}

TEST_F(ProtocolTest, VolumeIsKeptPerChannel) {
  start_backend({});
  ASSERT_EQ(open_stream(0), 0);
  int32_t volumes[2] = {-3000, -12000};
  std::memcpy(frontend_->buffer(0), volumes, sizeof volumes);
  EXPECT_EQ(frontend_->call(0, ScriptedFrontend::rw_request(XENSND_OP_SET_VOLUME, 0, 8)).status, 0);
  std::memset(frontend_->buffer(0), 0, 8);
  EXPECT_EQ(frontend_->call(0, ScriptedFrontend::rw_request(XENSND_OP_GET_VOLUME, 64, 8)).status, 0);
  int32_t back[2];
  std::memcpy(back, frontend_->buffer(0) + 64, sizeof back);
  EXPECT_EQ(back[0], -3000);
  EXPECT_EQ(back[1], -12000);
  EXPECT_EQ(frontend_->call(0, ScriptedFrontend::rw_request(XENSND_OP_SET_VOLUME, 0, 12)).status, kEinval);
  frontend_->buffer(0)[0] = std::byte{1};
  frontend_->buffer(0)[1] = std::byte{0};
  EXPECT_EQ(frontend_->call(0, ScriptedFrontend::rw_request(XENSND_OP_MUTE, 0, 2)).status, 0);
}

TEST_F(ProtocolTest, VolumeRequestsAreEinvalLikeSndBeWhenDisabled) {
  start_backend({"--no-volume"});
  ASSERT_EQ(open_stream(0), 0);
  EXPECT_EQ(frontend_->call(0, ScriptedFrontend::rw_request(XENSND_OP_GET_VOLUME, 0, 8)).status, kEinval);
  EXPECT_EQ(frontend_->call(0, ScriptedFrontend::rw_request(XENSND_OP_MUTE, 0, 2)).status, kEinval);
}

}  // namespace
}  // namespace backendtest

namespace backendtest {
namespace {

TEST_F(ProtocolTest, VolumeAndMuteApplyToThePlayedSamples) {
  start_backend({"--sink", "wav:" + dir_});
  ASSERT_EQ(open_stream(0), 0);
  frontend_->buffer(0)[0] = std::byte{1};  // channel 0 muted
  frontend_->buffer(0)[1] = std::byte{0};
  ASSERT_EQ(frontend_->call(0, ScriptedFrontend::rw_request(XENSND_OP_MUTE, 0, 2)).status, 0);
  ASSERT_EQ(write_period(0, 0), 0);
  ASSERT_EQ(trigger(0, XENSND_OP_TRIGGER_START), 0);
  ASSERT_EQ(frontend_->call(0, ScriptedFrontend::simple_request(XENSND_OP_CLOSE)).status, 0);
  auto wav = read_file(dir_ + "/vsnd-1-0-0-0-1.wav");
  ASSERT_EQ(wav.size(), 44 + kPeriodBytes);
  for (uint32_t frame = 0; frame < kPeriodBytes / kFrameBytes; ++frame) {
    const std::byte* f = wav.data() + 44 + frame * kFrameBytes;
    ASSERT_EQ(f[0], std::byte{0});
    ASSERT_EQ(f[1], std::byte{0});
    ASSERT_EQ(f[2], pattern(frame * kFrameBytes + 2));
    ASSERT_EQ(f[3], pattern(frame * kFrameBytes + 3));
  }
}

}  // namespace
}  // namespace backendtest

namespace backendtest {
namespace {

// ring.h's hold-off, exactly like libxenbe: a response is pushed, but the frontend is
// notified only when its rsp_event asks for that response.
TEST_F(ProtocolTest, NotifiesOnlyWhenRspEventAsks) {
  start_backend({});
  ASSERT_EQ(open_stream(0), 0);
  frontend_->take_events(0);
  // A frontend that left rsp_event behind (never re-armed): the answer comes silently.
  RING_IDX cons = frontend_->rsp_cons(0);
  frontend_->set_rsp_event(0, cons + 5);
  frontend_->send(0, ScriptedFrontend::simple_request(XENSND_OP_HW_PARAM_QUERY));
  // Until the answer is there (bounded), and a while after it: no notification.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (frontend_->shared_rsp_prod(0) == cons && std::chrono::steady_clock::now() < deadline)
    ASSERT_FALSE(frontend_->notified_within(20ms));
  EXPECT_EQ(frontend_->shared_rsp_prod(0), cons + 1);  // answered...
  EXPECT_FALSE(frontend_->notified_within(200ms));     // ...not notified
  ASSERT_TRUE(frontend_->wait_response(0));
  // Re-armed as RING_FINAL_CHECK_FOR_RESPONSES does: the next answer is notified.
  frontend_->set_rsp_event(0, frontend_->rsp_cons(0) + 1);
  frontend_->send(0, ScriptedFrontend::simple_request(XENSND_OP_HW_PARAM_QUERY));
  EXPECT_TRUE(frontend_->notified_within(2s));
}

}  // namespace
}  // namespace backendtest

namespace backendtest {
namespace {

// As snd_be: more than the device holds, written before START, blocks the ring thread for
// good. The backend says so, and a frontend closing the device still gets it back.
TEST_F(ProtocolTest, WritingPastTheDeviceBeforeStartBlocksLikeSndBe) {
  start_backend({"--device-buffer", std::to_string(2 * kPeriodBytes)});
  ASSERT_EQ(open_stream(0), 0);
  ASSERT_EQ(write_period(0, 0), 0);
  ASSERT_EQ(write_period(0, 1), 0);
  frontend_->send(0, ScriptedFrontend::rw_request(XENSND_OP_WRITE, 2 * kPeriodBytes, kPeriodBytes));
  EXPECT_FALSE(frontend_->wait_response(0, 300ms));
  EXPECT_NE(backend_->log().find("snd_be deadlocks here"), std::string::npos) << backend_->log();
  frontend_->set_state(5);
  EXPECT_TRUE(frontend_->wait_backend_state(2)) << backend_->log();
}

// A req_prod more than a ring ahead: that stream is no longer served, nothing crashes, the
// other streams and the device's life cycle go on.
TEST_F(ProtocolTest, ARunawayRequestIndexStopsOnlyThatStream) {
  start_backend({});
  frontend_->publish_bogus_req_prod(0, 1000);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (backend_->log().find("ring protocol violated") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline)
    frontend_->notified_within(20ms);
  EXPECT_NE(backend_->log().find("ring protocol violated"), std::string::npos) << backend_->log();
  EXPECT_EQ(open_stream(1), 0);
  frontend_->set_state(5);
  EXPECT_TRUE(frontend_->wait_backend_state(2)) << backend_->log();
}

}  // namespace
}  // namespace backendtest
