// Capture: the source's frames arrive in the READs, from a WAV file or a loopback of the
// card's playback stream.
#include <algorithm>
#include <vector>

#include "backend/wav_file.h"
#include "backend_fixture.h"

namespace backendtest {
namespace {

class CaptureTest : public BackendFixture {
 protected:
  // READs `periods` periods from the capture stream (1), in buffer order.
  std::vector<std::byte> read_periods(uint64_t periods) {
    std::vector<std::byte> captured;
    for (uint64_t p = 0; p < periods; ++p) {
      uint32_t offset = static_cast<uint32_t>((p % (kBufferBytes / kPeriodBytes)) * kPeriodBytes);
      auto response = frontend_->call(1, ScriptedFrontend::rw_request(XENSND_OP_READ, offset, kPeriodBytes));
      EXPECT_EQ(response.status, 0);
      captured.insert(captured.end(), frontend_->buffer(1) + offset, frontend_->buffer(1) + offset + kPeriodBytes);
    }
    return captured;
  }
};

TEST_F(CaptureTest, DeliversTheWavSourcesFramesThenSilence) {
  std::string source = dir_ + "/source.wav";
  constexpr uint64_t kSourceBytes = 5 * kPeriodBytes + 1000;
  {
    xensnd::backend::PcmParams params;
    params.rate = kRate;
    params.format = XENSND_PCM_FORMAT_S16_LE;
    params.channels = 2;
    params.sample_bytes = 2;
    xensnd::backend::WavWriter writer(source, params);
    std::vector<std::byte> frames(kSourceBytes);
    for (size_t i = 0; i < frames.size(); ++i) frames[i] = pattern(i);
    writer.append(frames);
  }
  start_backend({"--source", "0/1=wav:" + source});
  ASSERT_EQ(open_stream(1), 0);
  ASSERT_EQ(trigger(1, XENSND_OP_TRIGGER_START), 0);
  auto captured = read_periods(7);
  for (size_t i = 0; i < kSourceBytes; ++i) ASSERT_EQ(captured[i], pattern(i)) << "byte " << i;
  for (size_t i = kSourceBytes; i < captured.size(); ++i) ASSERT_EQ(captured[i], std::byte{0}) << "byte " << i;
  // Capture positions are reported too.
  auto event = frontend_->wait_event(1);
  ASSERT_TRUE(event);
  EXPECT_GE(event->op.cur_pos.position, kPeriodBytes);
}

TEST_F(CaptureTest, SineSourceIsNotSilent) {
  start_backend({"--source", "sine:1000"});
  ASSERT_EQ(open_stream(1), 0);
  ASSERT_EQ(trigger(1, XENSND_OP_TRIGGER_START), 0);
  auto captured = read_periods(1);
  int16_t peak = 0;
  for (size_t i = 0; i + 1 < captured.size(); i += 2) {
    int16_t v = static_cast<int16_t>(uint16_t(captured[i]) | uint16_t(captured[i + 1]) << 8);
    peak = std::max<int16_t>(peak, v);
  }
  EXPECT_NEAR(peak, 16383, 200);  // half scale
}

TEST_F(CaptureTest, LoopbackRecordsWhatThePlaybackStreamPlays) {
  start_backend({"--source", "0/1=loopback:0/0"});
  // Playback keeps 16 periods queued: 320 ms of slack for this process' scheduling.
  constexpr uint32_t kBigBuffer = 16 * kPeriodBytes;
  ASSERT_EQ(open_stream(0, kBigBuffer), 0);
  ASSERT_EQ(open_stream(1), 0);
  for (uint64_t p = 0; p < 16; ++p) ASSERT_EQ(write_period(0, p, kBigBuffer), 0);
  ASSERT_EQ(trigger(0, XENSND_OP_TRIGGER_START), 0);
  ASSERT_EQ(trigger(1, XENSND_OP_TRIGGER_START), 0);
  // One period recorded, one played, in step: both streams run at 48 kHz.
  std::vector<std::byte> captured;
  for (uint64_t p = 0; p < 16; ++p) {
    auto part = read_periods(1);
    captured.insert(captured.end(), part.begin(), part.end());
    ASSERT_EQ(write_period(0, 16 + p, kBigBuffer), 0);
  }
  // Silence until the loopback had two periods, then the played bytes, in order.
  auto first = std::find_if(captured.begin(), captured.end(), [](std::byte b) { return b != std::byte{0}; });
  ASSERT_NE(first, captured.end()) << "nothing of the playback was recorded";
  size_t start = static_cast<size_t>(first - captured.begin());
  EXPECT_EQ(start % kFrameBytes, 0u);
  ASSERT_GE(captured.size() - start, 8 * kPeriodBytes);
  for (size_t i = start; i < captured.size(); ++i) ASSERT_EQ(captured[i], pattern(i - start)) << "byte " << i;
}

}  // namespace
}  // namespace backendtest
