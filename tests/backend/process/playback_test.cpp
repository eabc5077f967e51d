// Playback: real-time pacing of CUR_POS, the WAV sink's exact content, positions after STOP.
#include <chrono>
#include <vector>

#include "backend/wav_file.h"
#include "backend_fixture.h"

namespace backendtest {
namespace {

using Clock = std::chrono::steady_clock;

struct PositionEvent {
  Clock::time_point when;
  uint64_t position;
};

class PlaybackTest : public BackendFixture {};

TEST_F(PlaybackTest, CurPosFollowsRealTimeAndTheWavHoldsExactlyTheFramesWritten) {
  start_backend({"--sink", "wav:" + dir_});
  // A 16-period buffer kept full: 320 ms of slack for this test process' scheduling on a
  // loaded machine, so an underrun here is the backend's fault.
  constexpr uint32_t kBigBuffer = 16 * kPeriodBytes;
  ASSERT_EQ(open_stream(0, kBigBuffer), 0);
  constexpr uint64_t kPeriods = 30;  // 600 ms
  uint64_t written = 0;
  while (written < 16) ASSERT_EQ(write_period(0, written++, kBigBuffer), 0);
  ASSERT_EQ(trigger(0, XENSND_OP_TRIGGER_START), 0);
  std::vector<PositionEvent> events;
  while (events.empty() || events.back().position < kPeriods * kPeriodBytes) {
    auto event = frontend_->wait_event(0, 2s);
    ASSERT_TRUE(event) << "no CUR_POS after position " << (events.empty() ? 0 : events.back().position);
    ASSERT_EQ(event->type, XENSND_EVT_CUR_POS);
    events.push_back({Clock::now(), event->op.cur_pos.position});
    // Keep the buffer full, as a frontend does.
    while (written < kPeriods && written * kPeriodBytes < event->op.cur_pos.position + kBigBuffer)
      ASSERT_EQ(write_period(0, written++, kBigBuffer), 0);
  }
  ASSERT_EQ(frontend_->call(0, ScriptedFrontend::simple_request(XENSND_OP_CLOSE)).status, 0);

  // A running byte count, one event per period, never past what was written.
  ASSERT_GE(events.size(), kPeriods / 2);
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_GT(events[i].position, events[i - 1].position);
    EXPECT_LE(events[i].position, kPeriods * kPeriodBytes);
  }
  // Real time: the bytes between the first and last event took their duration at 48 kHz.
  double seconds = std::chrono::duration<double>(events.back().when - events.front().when).count();
  double expected = double(events.back().position - events.front().position) / (kRate * kFrameBytes);
  std::printf("played %.3f s of audio in %.3f s\n", expected, seconds);
  // Events cannot come early (that would be faster than real time); they may come a little
  // late when this process is not scheduled at once.
  EXPECT_GE(seconds, 0.95 * expected);
  EXPECT_LE(seconds, 1.25 * expected + 0.05);

  // The WAV: header for 48 kHz s16 stereo, data exactly the written frames in order.
  xensnd::backend::WavReader wav(dir_ + "/vsnd-1-0-0-0-1.wav");
  EXPECT_EQ(wav.rate(), kRate);
  EXPECT_EQ(wav.channels(), 2);
  EXPECT_EQ(wav.container_bits(), 16);
  ASSERT_EQ(wav.data_bytes(), kPeriods * kPeriodBytes);
  std::vector<std::byte> data(wav.data_bytes());
  ASSERT_EQ(wav.read(data), data.size());
  for (size_t i = 0; i < data.size(); ++i) ASSERT_EQ(data[i], pattern(i)) << "byte " << i;
  // The end of the data, then CLOSE, is the end of the stream, not an underrun.
  std::string log = backend_->log();
  EXPECT_EQ(log.find("underrun #"), std::string::npos) << log;
  EXPECT_NE(log.find("0 underruns"), std::string::npos) << log;
}

TEST_F(PlaybackTest, CurPosRestartsAtZeroAfterStopByDefault) {
  start_backend({});
  ASSERT_EQ(open_stream(0), 0);
  ASSERT_EQ(write_period(0, 0), 0);
  ASSERT_EQ(write_period(0, 1), 0);
  ASSERT_EQ(trigger(0, XENSND_OP_TRIGGER_START), 0);
  auto first = frontend_->wait_event(0);
  ASSERT_TRUE(first);
  ASSERT_EQ(trigger(0, XENSND_OP_TRIGGER_STOP), 0);
  frontend_->take_events(0);
  ASSERT_EQ(write_period(0, 2), 0);
  ASSERT_EQ(trigger(0, XENSND_OP_TRIGGER_START), 0);
  auto after = frontend_->wait_event(0);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->op.cur_pos.position, kPeriodBytes);  // counted again from 0
}

TEST_F(PlaybackTest, CurPosKeepsCountingAfterStopWhenAsked) {
  start_backend({"--position-after-stop", "continue"});
  ASSERT_EQ(open_stream(0), 0);
  ASSERT_EQ(write_period(0, 0), 0);
  ASSERT_EQ(write_period(0, 1), 0);
  ASSERT_EQ(trigger(0, XENSND_OP_TRIGGER_START), 0);
  auto first = frontend_->wait_event(0);
  ASSERT_TRUE(first);
  ASSERT_EQ(trigger(0, XENSND_OP_TRIGGER_STOP), 0);
  for (auto& e : frontend_->take_events(0)) first = e;
  ASSERT_EQ(write_period(0, 2), 0);
  ASSERT_EQ(trigger(0, XENSND_OP_TRIGGER_START), 0);
  auto after = frontend_->wait_event(0);
  ASSERT_TRUE(after);
  EXPECT_GT(after->op.cur_pos.position, first->op.cur_pos.position);
}

TEST_F(PlaybackTest, StarvingTheDeviceIsAnObservableUnderrun) {
  start_backend({"--sink", "wav:" + dir_});
  ASSERT_EQ(open_stream(0), 0);
  ASSERT_EQ(write_period(0, 0), 0);
  ASSERT_EQ(trigger(0, XENSND_OP_TRIGGER_START), 0);
  // The one period is played; nothing follows it in time.
  auto event = frontend_->wait_event(0);
  ASSERT_TRUE(event);
  // Let real time pass without writing: a capture READ is answered only after a period of
  // recording (20 ms), long after the playback device ran dry.
  ASSERT_EQ(open_stream(1), 0);
  ASSERT_EQ(trigger(1, XENSND_OP_TRIGGER_START), 0);
  ASSERT_EQ(frontend_->call(1, ScriptedFrontend::rw_request(XENSND_OP_READ, 0, kPeriodBytes)).status, 0);
  ASSERT_EQ(write_period(0, 1), 0);
  ASSERT_EQ(frontend_->call(0, ScriptedFrontend::simple_request(XENSND_OP_CLOSE)).status, 0);
  std::string log = backend_->log();
  EXPECT_NE(log.find("underrun #1"), std::string::npos) << log;
  // Only what was written is in the file: no silence stands in for the missing data.
  xensnd::backend::WavReader wav(dir_ + "/vsnd-1-0-0-0-1.wav");
  EXPECT_EQ(wav.data_bytes(), 2 * kPeriodBytes);
}

}  // namespace
}  // namespace backendtest

namespace backendtest {
namespace {

// WRITE is answered only once the paced device accepted the data: eight periods through a
// four-period device take at least four periods of real time after START.
TEST_F(PlaybackTest, WriteIsAnsweredOnlyOnceTheDeviceAcceptedIt) {
  start_backend({});
  ASSERT_EQ(open_stream(0), 0);
  for (uint64_t p = 0; p < 4; ++p) ASSERT_EQ(write_period(0, p), 0);
  ASSERT_EQ(trigger(0, XENSND_OP_TRIGGER_START), 0);
  auto started = std::chrono::steady_clock::now();
  for (uint64_t p = 4; p < 8; ++p) ASSERT_EQ(write_period(0, p), 0);
  auto took = std::chrono::steady_clock::now() - started;
  // Four periods of 20 ms must have been played to make room (a little clock slack).
  EXPECT_GE(took, 78ms);
  EXPECT_LT(took, 2s);
}

}  // namespace
}  // namespace backendtest

namespace backendtest {
namespace {

// Free-run: no pacing. Two seconds of audio are taken as fast as they come (well under
// real time), with every frame in the WAV.
TEST_F(PlaybackTest, FreeRunConsumesWithoutPacing) {
  start_backend({"--free-run", "--sink", "wav:" + dir_});
  ASSERT_EQ(open_stream(0), 0);
  ASSERT_EQ(trigger(0, XENSND_OP_TRIGGER_START), 0);
  constexpr uint64_t kPeriods = 100;  // 2 s at 48 kHz
  auto started = std::chrono::steady_clock::now();
  for (uint64_t p = 0; p < kPeriods; ++p) ASSERT_EQ(write_period(0, p), 0);
  auto took = std::chrono::steady_clock::now() - started;
  std::printf("2 s of audio taken in %.3f s\n", std::chrono::duration<double>(took).count());
  EXPECT_LT(took, 1s);
  ASSERT_EQ(frontend_->call(0, ScriptedFrontend::simple_request(XENSND_OP_CLOSE)).status, 0);
  xensnd::backend::WavReader wav(dir_ + "/vsnd-1-0-0-0-1.wav");
  ASSERT_EQ(wav.data_bytes(), kPeriods * kPeriodBytes);
  std::vector<std::byte> data(wav.data_bytes());
  ASSERT_EQ(wav.read(data), data.size());
  for (size_t i = 0; i < data.size(); ++i) ASSERT_EQ(data[i], pattern(i)) << "byte " << i;
}

// The host ALSA sink, on alsa-lib's always-present "null" device.
TEST_F(PlaybackTest, AlsaSinkPlaysIntoAHostDevice) {
  start_backend({"--sink", "alsa:null"});
  ASSERT_EQ(open_stream(0), 0);
  ASSERT_EQ(write_period(0, 0), 0);
  ASSERT_EQ(write_period(0, 1), 0);
  ASSERT_EQ(trigger(0, XENSND_OP_TRIGGER_START), 0);
  ASSERT_TRUE(frontend_->wait_event(0));
  ASSERT_EQ(frontend_->call(0, ScriptedFrontend::simple_request(XENSND_OP_CLOSE)).status, 0);
  std::string log = backend_->log();
  EXPECT_NE(log.find("playing into ALSA device null"), std::string::npos) << log;
  EXPECT_EQ(log.find("sink failed"), std::string::npos) << log;
}

// A sink that cannot be opened fails OPEN with -EIO and a message, not the process.
TEST_F(PlaybackTest, AnUnopenableAlsaDeviceFailsOpen) {
  start_backend({"--sink", "alsa:no_such_device_here"});
  EXPECT_EQ(open_stream(0), -5);
  EXPECT_NE(backend_->log().find("cannot open ALSA device no_such_device_here"), std::string::npos);
  EXPECT_EQ(open_stream(1), 0);  // the process serves on
}

}  // namespace
}  // namespace backendtest
