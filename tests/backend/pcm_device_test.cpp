#include "backend/pcm_device.h"

#include <gtest/gtest.h>

#include <vector>

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
  EXPECT_EQ(device->underruns(), 1u);
  EXPECT_EQ(played_.bytes.size(), 160u);
  EXPECT_FALSE(device->next_deadline());  // waits for data
  device->accept(ramp(160, 160));
  device->tick(50 * kMs);  // restarts from here
  EXPECT_EQ(played_.bytes.size(), 160u);
  device->tick(60 * kMs);
  EXPECT_EQ(played_.bytes.size(), 320u);
  EXPECT_EQ(device->position(), 320u);
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

}  // namespace
}  // namespace xensnd::backend
