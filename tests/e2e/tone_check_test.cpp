// The tone check itself: it must pass a clean (even resampled-looking) tone and catch each
// fault a sound path can make, wherever in the wave it lands.
#include "tests/e2e/tone_check.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numbers>

namespace xensnd::e2e {
namespace {

constexpr unsigned kRate = 48000;

// `frames` of the tone from frame `from`, quantized to 16 bits as a WAV holds it.
std::vector<double> tone(size_t from, size_t frames, double hz = kToneHz) {
  std::vector<double> x;
  for (size_t n = from; n < from + frames; ++n)
    x.push_back(std::lround(kToneAmplitude * std::sin(2 * std::numbers::pi * hz * n / kRate) * 32767) / 32768.0);
  return x;
}

std::vector<double> concat(std::vector<double> a, const std::vector<double>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(ToneCheck, CleanToneBetweenSilencesHasNoSplice) {
  auto x = concat(concat(std::vector<double>(1000, 0.0), tone(0, kRate)), std::vector<double>(500, 0.0));
  ToneReport r = analyse_tone(x, kRate, kToneHz, 4);
  EXPECT_TRUE(r.splices.empty()) << r.describe(kRate);
  EXPECT_NEAR(r.seconds, 1.0, 0.001);
  EXPECT_NEAR(r.frequency, kToneHz, 0.5);
  EXPECT_NEAR(r.amplitude, kToneAmplitude, 0.001);
}

TEST(ToneCheck, SilenceMixedInIsASpliceNotAnotherFrequency) {
  // 3072 frames of silence in 1 s of tone would read as 6 % lower by crossings over the span.
  auto x = concat(concat(tone(0, kRate / 2), std::vector<double>(3072, 0.0)), tone(kRate / 2, kRate / 2));
  ToneReport r = analyse_tone(x, kRate, kToneHz, 4);
  EXPECT_GE(r.splices.size(), 1u) << r.describe(kRate);
  EXPECT_NEAR(r.frequency, kToneHz, 0.5) << r.describe(kRate);
}

TEST(ToneCheck, ToneAtAnotherRateReadsAsAnotherFrequency) {
  // What the frequency is there for: a stream played at 44.1 kHz for 48 kHz, or the reverse.
  ToneReport slow = analyse_tone(tone(0, kRate, kToneHz * 44100 / 48000), kRate, kToneHz, 4);
  EXPECT_NEAR(slow.frequency, kToneHz * 44100 / 48000, 0.5) << slow.describe(kRate);
  ToneReport fast = analyse_tone(tone(0, kRate, kToneHz * 48000 / 44100), kRate, kToneHz, 4);
  EXPECT_NEAR(fast.frequency, kToneHz * 48000 / 44100, 0.5) << fast.describe(kRate);
}

TEST(ToneCheck, ToneOffByOnePercentIsNotASplice) {
  // Adaptive resampling between two clocks shifts the pitch by far less than this.
  ToneReport r = analyse_tone(tone(0, kRate, kToneHz * 1.01), kRate, kToneHz, 4);
  EXPECT_TRUE(r.splices.empty()) << r.describe(kRate);
}

class ToneCheckBlock : public ::testing::TestWithParam<size_t> {};

TEST_P(ToneCheckBlock, DroppedBlockIsOneSplice) {
  const size_t block = GetParam();
  auto x = concat(tone(0, 20000), tone(20000 + block, 20000));
  ToneReport r = analyse_tone(x, kRate, kToneHz, 4);
  ASSERT_EQ(r.splices.size(), 1u) << r.describe(kRate);
  EXPECT_NEAR(static_cast<double>(r.splices[0]), 20000, 2);
}

TEST_P(ToneCheckBlock, RepeatedBlockIsCaught) {
  const size_t block = GetParam();
  auto x = concat(concat(tone(0, 20000), tone(20000 - block, block)), tone(20000, 20000));
  ToneReport r = analyse_tone(x, kRate, kToneHz, 4);
  EXPECT_GE(r.splices.size(), 1u) << r.describe(kRate);
}

TEST_P(ToneCheckBlock, StaleBlockFromALapAgoIsCaught) {
  // What a ring whose wrapped part was not refreshed plays: a block from 8192 frames back.
  const size_t block = GetParam();
  auto x = concat(concat(tone(0, 20000), tone(20000 - 8192, block)), tone(20000 + block, 20000));
  ToneReport r = analyse_tone(x, kRate, kToneHz, 4);
  EXPECT_GE(r.splices.size(), 1u) << r.describe(kRate);
}

TEST_P(ToneCheckBlock, SilentGapIsCaught) {
  const size_t block = GetParam();
  auto x = concat(concat(tone(0, 20000), std::vector<double>(block, 0.0)), tone(20000 + block, 20000));
  ToneReport r = analyse_tone(x, kRate, kToneHz, 4);
  EXPECT_GE(r.splices.size(), 1u) << r.describe(kRate);
}

// Every block size a sound path moves data in, and the sizes whose phase shift comes closest
// to a whole number of the tone's periods (48 and 385 frames: 0.3 % and 0.03 % of a cycle off).
INSTANTIATE_TEST_SUITE_P(Frames, ToneCheckBlock, ::testing::Values(1, 48, 64, 256, 385, 768, 1024, 8192));

TEST(ToneCheck, ReadsTheWavEncodingsServersWrite) {
  WavData wav;
  wav.channels = 2;
  wav.rate = kRate;
  wav.format_tag = 3;
  wav.bits_per_sample = 32;
  const float samples[] = {0.25f, -1.0f, -0.5f, 1.0f};
  wav.data.resize(sizeof samples);
  std::memcpy(wav.data.data(), samples, sizeof samples);
  auto left = wav_channel(wav, 0);
  ASSERT_TRUE(left);
  EXPECT_EQ(*left, (std::vector<double>{0.25, -0.5}));
  wav.format_tag = 1;
  wav.bits_per_sample = 16;
  wav.data = {0x00, 0x40, 0x00, 0x80};  // 0.5, -1.0
  wav.channels = 2;
  auto right = wav_channel(wav, 1);
  ASSERT_TRUE(right);
  EXPECT_EQ(*right, (std::vector<double>{-1.0}));
  wav.bits_per_sample = 24;
  EXPECT_FALSE(wav_channel(wav, 0)) << "an encoding it cannot read is said, not guessed";
}

}  // namespace
}  // namespace xensnd::e2e
