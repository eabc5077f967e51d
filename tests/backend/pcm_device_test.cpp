#include "backend/pcm_device.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "backend/endpoint_spec.h"
#include "backend/xen_status.h"
#include "protocol/sndif_abi.h"

namespace xensnd::backend {
namespace {

constexpr int64_t kMs = 1'000'000;

struct Recording {
  std::vector<std::byte> bytes;
};

class RecordingSink final : public PlaybackSink {
 public:
  explicit RecordingSink(Recording& out) : out_(out) {}
  void play(std::span<const std::byte> frames) override { out_.bytes.insert(out_.bytes.end(), frames.begin(), frames.end()); }

 private:
  Recording& out_;
};

class CountingSource final : public CaptureSource {
 public:
  void capture(std::span<std::byte> out) override {
    for (auto& b : out) b = std::byte(next_++ & 0xff);
  }

 private:
  uint32_t next_ = 0;
};

// 8000 Hz, mono s16: 2-byte frames, a 160-byte period is 80 frames = 10 ms.
PcmDevice::Setup setup(StreamType type, PositionAfterStop after_stop = PositionAfterStop::kRestart) {
  PcmDevice::Setup s;
  s.params.rate = 8000;
  s.params.format = XENSND_PCM_FORMAT_S16_LE;
  s.params.channels = 1;
  s.params.sample_bytes = 2;
  s.params.buffer_bytes = 640;
  s.params.period_bytes = 160;
  s.type = type;
  s.fifo_bytes = 640;
  s.position_after_stop = after_stop;
  s.name = "test";
  return s;
}

std::vector<std::byte> ramp(size_t n, int start = 0) {
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::byte((start + i) & 0xff);
  return v;
}

class PcmDeviceTest : public ::testing::Test {
 protected:
  Log log_{LogLevel::kError};
  Recording played_;
  LoopbackBus bus_;
  std::unique_ptr<PcmDevice> playback(PositionAfterStop after_stop = PositionAfterStop::kRestart) {
    return std::make_unique<PcmDevice>(setup(StreamType::kPlayback, after_stop),
                                       std::make_unique<RecordingSink>(played_), nullptr, &bus_,
                                       LoopbackBus::StreamKey{0, 0}, log_);
  }
};

TEST_F(PcmDeviceTest, PlaysAtTheRateAndReportsEveryPeriod) {
  auto device = playback();
  auto data = ramp(640);
  EXPECT_EQ(device->accept(data), 640u);
  EXPECT_EQ(device->accept(data), 0u);  // the FIFO holds one buffer
  device->tick(5 * kMs);                // not started: nothing plays
  EXPECT_TRUE(played_.bytes.empty());
  ASSERT_EQ(device->trigger(XENSND_OP_TRIGGER_START, 100 * kMs), kStatusOk);
  EXPECT_EQ(device->next_deadline(), 110 * kMs);
  device->tick(105 * kMs);
  EXPECT_EQ(played_.bytes.size(), 80u);
  EXPECT_FALSE(device->take_position_report());
  device->tick(110 * kMs);
  EXPECT_EQ(played_.bytes.size(), 160u);
  EXPECT_EQ(device->take_position_report(), 160u);
  EXPECT_FALSE(device->take_position_report());
  device->tick(140 * kMs);
  EXPECT_EQ(device->take_position_report(), 640u);  // coalesced: the latest position
  EXPECT_EQ(played_.bytes, data);
  EXPECT_EQ(bus_.available({0, 0}), 640u);  // the loopback got the same frames
  EXPECT_EQ(device->underruns(), 0u);
}

TEST_F(PcmDeviceTest, RunningDryIsAnUnderrunAndTheClockRestartsWithData) {
  auto device = playback();
  device->accept(ramp(160));
  device->trigger(XENSND_OP_TRIGGER_START, 0);
  EXPECT_EQ(device->next_deadline(), 10 * kMs);  // the period boundary, also the FIFO's end
  device->tick(30 * kMs);
  EXPECT_EQ(device->underruns(), 0u);  // dry; an underrun only if data follows
  EXPECT_EQ(played_.bytes.size(), 160u);
  EXPECT_FALSE(device->next_deadline());  // waits for data
  device->accept(ramp(160, 160));
  device->tick(50 * kMs);  // restarts from here
  EXPECT_EQ(device->underruns(), 1u);
  EXPECT_EQ(played_.bytes.size(), 160u);
  device->tick(60 * kMs);
  EXPECT_EQ(played_.bytes.size(), 320u);
  EXPECT_EQ(device->position(), 320u);
}

TEST_F(PcmDeviceTest, ADrainedStreamThatStopsIsNotAnUnderrun) {
  auto device = playback();
  device->accept(ramp(320));
  device->trigger(XENSND_OP_TRIGGER_START, 0);
  device->tick(100 * kMs);  // played all of it long ago
  EXPECT_EQ(played_.bytes.size(), 320u);
  device->trigger(XENSND_OP_TRIGGER_STOP, 100 * kMs);
  device->accept(ramp(160));
  device->trigger(XENSND_OP_TRIGGER_START, 200 * kMs);
  device->tick(300 * kMs);
  device->trigger(XENSND_OP_TRIGGER_PAUSE, 300 * kMs);
  EXPECT_EQ(device->underruns(), 0u);
}

TEST_F(PcmDeviceTest, TriggerStateMachineFollowsSndBe) {
  auto device = playback();
  EXPECT_EQ(device->trigger(XENSND_OP_TRIGGER_PAUSE, 0), kStatusInvalid);
  EXPECT_EQ(device->trigger(XENSND_OP_TRIGGER_RESUME, 0), kStatusInvalid);
  device->accept(ramp(640));
  EXPECT_EQ(device->trigger(XENSND_OP_TRIGGER_START, 0), kStatusOk);
  EXPECT_EQ(device->trigger(XENSND_OP_TRIGGER_START, 0), kStatusBusy);  // START twice
  EXPECT_EQ(device->trigger(XENSND_OP_TRIGGER_PAUSE, 10 * kMs), kStatusOk);
  device->tick(500 * kMs);  // paused: nothing more plays
  EXPECT_EQ(played_.bytes.size(), 160u);
  EXPECT_EQ(device->trigger(XENSND_OP_TRIGGER_START, 0), kStatusBusy);
  EXPECT_EQ(device->trigger(XENSND_OP_TRIGGER_RESUME, 600 * kMs), kStatusOk);
  device->tick(610 * kMs);
  EXPECT_EQ(played_.bytes.size(), 320u);
  EXPECT_EQ(device->trigger(XENSND_OP_TRIGGER_STOP, 610 * kMs), kStatusOk);
  EXPECT_EQ(device->fifo_used(), 0u);  // dropped, as ALSA's drop
  EXPECT_EQ(device->position(), 0u);   // restarts, as snd_be's ALSA path
  EXPECT_EQ(device->trigger(XENSND_OP_TRIGGER_START, 700 * kMs), kStatusOk);
  EXPECT_EQ(device->trigger(9, 0), kStatusInvalid);
}

TEST_F(PcmDeviceTest, PositionKeepsCountingAfterStopWhenAsked) {
  auto device = playback(PositionAfterStop::kContinue);
  device->accept(ramp(320));
  device->trigger(XENSND_OP_TRIGGER_START, 0);
  device->tick(20 * kMs);
  EXPECT_EQ(device->take_position_report(), 320u);
  device->trigger(XENSND_OP_TRIGGER_STOP, 20 * kMs);
  device->accept(ramp(160));
  device->trigger(XENSND_OP_TRIGGER_START, 100 * kMs);
  device->tick(110 * kMs);
  EXPECT_EQ(device->take_position_report(), 480u);
}

TEST_F(PcmDeviceTest, CaptureRecordsAtTheRateAndCountsOverruns) {
  auto source = std::make_unique<CountingSource>();
  PcmDevice device(setup(StreamType::kCapture), nullptr, std::move(source), nullptr, {0, 0}, log_);
  std::vector<std::byte> out(320);
  EXPECT_EQ(device.deliver(out), 0u);  // not started
  device.trigger(XENSND_OP_TRIGGER_START, 0);
  device.tick(20 * kMs);
  EXPECT_EQ(device.take_position_report(), 320u);
  EXPECT_EQ(device.deliver(out), 320u);
  EXPECT_EQ(out, ramp(320));
  device.tick(200 * kMs);  // 2880 bytes recorded into a 640-byte FIFO
  EXPECT_EQ(device.overruns(), 1u);
  EXPECT_EQ(device.fifo_used(), 640u);
  EXPECT_EQ(device.position(), 3200u);
}

// A source that remembers the largest recording asked of it at once.
class MeasuringSource final : public CaptureSource {
 public:
  explicit MeasuringSource(size_t& largest) : largest_(largest) {}
  void capture(std::span<std::byte> out) override {
    largest_ = std::max(largest_, out.size());
    for (auto& b : out) b = std::byte(next_++ & 0xff);
  }

 private:
  size_t& largest_;
  uint32_t next_ = 0;
};

// The stream thread ran an hour late (the process was stopped): the device owes an hour of
// audio, recorded a FIFO at a time (fuzz/findings: it once asked for all of it at once).
TEST_F(PcmDeviceTest, CaptureAfterALongStallRecordsAFifoAtATime) {
  size_t largest = 0;
  PcmDevice device(setup(StreamType::kCapture), nullptr, std::make_unique<MeasuringSource>(largest), nullptr,
                   {0, 0}, log_);
  device.trigger(XENSND_OP_TRIGGER_START, 0);
  constexpr int64_t kHourNs = 3600'000 * kMs;
  device.tick(kHourNs);
  constexpr uint64_t kHourBytes = 3600ull * 8000 * 2;
  EXPECT_EQ(device.position(), kHourBytes);
  EXPECT_LE(largest, 640u);
  EXPECT_EQ(device.overruns(), 1u);
  EXPECT_EQ(device.fifo_used(), 640u);
  // The FIFO holds the first frames of the stall; the source went on through all of it, so
  // what is recorded next continues in time.
  std::vector<std::byte> out(640);
  EXPECT_EQ(device.deliver(out), 640u);
  EXPECT_EQ(out, ramp(640));
  device.tick(kHourNs + 20 * kMs);
  std::vector<std::byte> next(320);
  EXPECT_EQ(device.deliver(next), 320u);
  EXPECT_EQ(next, ramp(320, static_cast<int>(kHourBytes % 256)));
}

TEST_F(PcmDeviceTest, FreeRunPlaysEverythingAtOnce) {
  auto s = setup(StreamType::kPlayback);
  s.free_run = true;
  PcmDevice device(s, std::make_unique<RecordingSink>(played_), nullptr, nullptr, {0, 0}, log_);
  device.trigger(XENSND_OP_TRIGGER_START, 0);
  device.accept(ramp(640));
  device.tick(0);
  EXPECT_EQ(played_.bytes.size(), 640u);
  EXPECT_EQ(device.take_position_report(), 640u);
  EXPECT_FALSE(device.next_deadline());
  device.tick(kMs);
  EXPECT_EQ(device.underruns(), 0u);
}

// --capture-bursts: positions follow the recording clock, the data reaches READs only at
// each burst time (PulseAudio's record stream without a fragment size, behind snd_be).
TEST_F(PcmDeviceTest, CaptureBurstsHoldTheRecordedFramesUntilEachBurst) {
  auto s = setup(StreamType::kCapture);
  s.capture_burst_ms = 100;  // 800 frames, 1600 bytes a burst
  PcmDevice device(s, nullptr, std::make_unique<CountingSource>(), nullptr, {0, 0}, log_);
  std::vector<std::byte> out(1600);
  device.trigger(XENSND_OP_TRIGGER_START, 0);
  device.tick(50 * kMs);
  EXPECT_EQ(device.position(), 800u);                // recorded in real time...
  EXPECT_EQ(device.take_position_report(), 800u);    // ...and reported so
  EXPECT_EQ(device.deliver(out), 0u);                // but not yet handed over
  EXPECT_LE(device.next_deadline().value(), 60 * kMs);
  device.tick(99 * kMs);
  EXPECT_EQ(device.deliver(out), 0u);
  device.tick(100 * kMs);                            // the burst: everything recorded so far
  EXPECT_EQ(device.deliver(out), 1600u);
  EXPECT_EQ(out, ramp(1600));
  device.tick(150 * kMs);
  EXPECT_EQ(device.fifo_used(), 0u);
  device.tick(200 * kMs);
  EXPECT_EQ(device.fifo_used(), 1600u);
  EXPECT_EQ(device.overruns(), 0u);  // a burst fits on top of the buffer
  // A frontend that reads nothing for long loses frames as an overrun.
  device.tick(300 * kMs);
  EXPECT_EQ(device.overruns(), 1u);
  EXPECT_EQ(device.fifo_used(), 2240u);  // the buffer (640) and one burst
  EXPECT_EQ(device.position(), 4800u);
}

TEST_F(PcmDeviceTest, CaptureBurstsRestartAtResumeAndAreDroppedAtStop) {
  auto s = setup(StreamType::kCapture);
  s.capture_burst_ms = 100;
  PcmDevice device(s, nullptr, std::make_unique<CountingSource>(), nullptr, {0, 0}, log_);
  device.trigger(XENSND_OP_TRIGGER_START, 0);
  device.tick(50 * kMs);
  device.trigger(XENSND_OP_TRIGGER_STOP, 50 * kMs);
  device.trigger(XENSND_OP_TRIGGER_START, 1000 * kMs);
  device.tick(1099 * kMs);
  EXPECT_EQ(device.fifo_used(), 0u);  // nothing of the first run, the burst a full 100 ms on
  device.tick(1100 * kMs);
  EXPECT_EQ(device.fifo_used(), 1600u);
}

// --positions audio-timestamp: snd_be's ALSA path into a plugin device.
TEST_F(PcmDeviceTest, AudioTimestampPositionsStayAtZeroThenReportTheWrittenTotalInUnderrun) {
  auto s = setup(StreamType::kPlayback);
  s.positions = PositionSource::kAudioTimestamp;
  PcmDevice device(s, std::make_unique<RecordingSink>(played_), nullptr, nullptr, {0, 0}, log_);
  device.accept(ramp(640));  // 40 ms
  device.trigger(XENSND_OP_TRIGGER_START, 0);
  EXPECT_EQ(device.next_deadline(), 10 * kMs);  // the per-period timer
  device.tick(10 * kMs);
  EXPECT_EQ(device.take_position_report(), 0u);  // playing, yet the position stays 0
  device.tick(20 * kMs);
  EXPECT_EQ(device.take_position_report(), 0u);
  EXPECT_EQ(played_.bytes.size(), 320u);
  device.tick(45 * kMs);  // ran dry at 40 ms
  EXPECT_EQ(device.take_position_report(), 640u);  // the total written since OPEN
  device.accept(ramp(320, 640));
  device.tick(55 * kMs);  // recovers: positions restart from what was written before
  EXPECT_EQ(device.take_position_report(), 640u);
  EXPECT_EQ(device.reported_position(), 640u);
  // STOP/START does not reset the counters (they reset only at OPEN).
  device.trigger(XENSND_OP_TRIGGER_STOP, 60 * kMs);
  device.accept(ramp(640, 960));
  device.trigger(XENSND_OP_TRIGGER_START, 100 * kMs);
  device.tick(110 * kMs);
  EXPECT_EQ(device.take_position_report(), 640u);
  device.tick(200 * kMs);  // dry again: the total, 960 + 640
  EXPECT_EQ(device.take_position_report(), 1600u);
}

TEST_F(PcmDeviceTest, AudioTimestampCapturePositionsStayAtZero) {
  auto s = setup(StreamType::kCapture);
  s.positions = PositionSource::kAudioTimestamp;
  PcmDevice device(s, nullptr, std::make_unique<CountingSource>(), nullptr, {0, 0}, log_);
  device.trigger(XENSND_OP_TRIGGER_START, 0);
  device.tick(30 * kMs);
  EXPECT_EQ(device.take_position_report(), 0u);
  std::vector<std::byte> out(320);
  EXPECT_EQ(device.deliver(out), 320u);  // the data itself flows
}

// --stall-after: positions keep coming, they stop moving, and so does the device.
TEST_F(PcmDeviceTest, StalledDeviceKeepsReportingAFrozenPosition) {
  auto s = setup(StreamType::kPlayback);
  s.stall_after_ms = 20;
  PcmDevice device(s, std::make_unique<RecordingSink>(played_), nullptr, nullptr, {0, 0}, log_);
  device.accept(ramp(640));
  device.trigger(XENSND_OP_TRIGGER_START, 0);
  device.tick(15 * kMs);
  EXPECT_FALSE(device.stalled());
  EXPECT_EQ(device.take_position_report(), 240u);
  device.tick(30 * kMs);
  EXPECT_TRUE(device.stalled());
  EXPECT_EQ(device.take_position_report(), 320u);  // played up to the stall, reported at 30 ms
  EXPECT_EQ(device.next_deadline(), 40 * kMs);
  device.tick(40 * kMs);
  EXPECT_EQ(device.take_position_report(), 320u);  // still arriving, no longer moving
  device.tick(500 * kMs);
  EXPECT_EQ(device.take_position_report(), 320u);
  EXPECT_EQ(played_.bytes.size(), 320u);
  EXPECT_EQ(device.fifo_used(), 320u);
  EXPECT_EQ(device.underruns(), 0u);
  // Control still works: STOP ends the reports, the stall stays.
  EXPECT_EQ(device.trigger(XENSND_OP_TRIGGER_STOP, 500 * kMs), kStatusOk);
  EXPECT_FALSE(device.next_deadline());
  EXPECT_EQ(device.trigger(XENSND_OP_TRIGGER_START, 600 * kMs), kStatusOk);
  EXPECT_TRUE(device.stalled());
}

TEST_F(PcmDeviceTest, StalledCaptureRecordsNothingMore) {
  auto s = setup(StreamType::kCapture);
  s.stall_after_ms = 20;
  PcmDevice device(s, nullptr, std::make_unique<CountingSource>(), nullptr, {0, 0}, log_);
  device.trigger(XENSND_OP_TRIGGER_START, 0);
  device.tick(100 * kMs);
  EXPECT_TRUE(device.stalled());
  EXPECT_EQ(device.position(), 320u);
  EXPECT_EQ(device.fifo_used(), 320u);
}

// A loopback capture clocked past what its playback thread has published yet (that thread
// is late: a loaded machine) records those frames when they come, never silence in their
// place; once the playback has nothing more to play, silence.
TEST_F(PcmDeviceTest, LoopbackWaitsForALatePlaybackThreadAndRecordsSilenceOnlyWhenItRunsDry) {
  PcmDevice::Setup play_setup = setup(StreamType::kPlayback);
  play_setup.fifo_bytes = 8000;
  auto play = std::make_unique<PcmDevice>(play_setup, std::make_unique<RecordingSink>(played_), nullptr, &bus_,
                                          LoopbackBus::StreamKey{0, 0}, log_);
  PcmDevice::Setup record_setup = setup(StreamType::kCapture);
  record_setup.fifo_bytes = 8000;
  std::string error;
  const std::optional<SourceSpec> spec = parse_source_spec("loopback:0/0", error);
  ASSERT_TRUE(spec) << error;
  PcmDevice record(record_setup, nullptr, make_source(*spec, record_setup.params, {}, bus_, log_), nullptr, {0, 0}, log_);
  const std::vector<std::byte> clip = ramp(4000, 1);  // 2000 frames: 250 ms
  ASSERT_EQ(play->accept(clip), clip.size());
  play->trigger(XENSND_OP_TRIGGER_START, 0);
  record.trigger(XENSND_OP_TRIGGER_START, 0);
  play->tick(150 * kMs);    // 1200 frames published: more than the 100 ms cushion
  record.tick(150 * kMs);   // all of them recorded
  EXPECT_EQ(record.position(), 2400u);
  record.tick(200 * kMs);   // 400 frames due, but the playback thread has not run
  EXPECT_EQ(record.position(), 2400u);
  ASSERT_TRUE(record.next_deadline());
  EXPECT_LE(*record.next_deadline(), 201 * kMs);  // it looks again soon
  play->tick(250 * kMs);    // plays the rest of the clip
  record.tick(250 * kMs);
  EXPECT_EQ(record.position(), 4000u);
  std::vector<std::byte> got(4000);
  ASSERT_EQ(record.deliver(got), 4000u);
  EXPECT_EQ(got, clip);  // every frame played, none replaced by silence
  play->tick(300 * kMs);    // ran dry: owes nothing more
  record.tick(300 * kMs);
  EXPECT_EQ(record.position(), 4800u);
  std::vector<std::byte> silence(800);
  ASSERT_EQ(record.deliver(silence), 800u);
  EXPECT_EQ(silence, std::vector<std::byte>(800));
}

}  // namespace
}  // namespace xensnd::backend
