// Playback through the plugin with unmodified ALSA programs: what the backend receives is
// bit-exact what the application played.
#include <gtest/gtest.h>

#include "tests/e2e/e2e_helpers.h"

namespace xensnd::e2e {
namespace {

class BitExactPlayback : public ::testing::TestWithParam<PcmFormat> {};

TEST_P(BitExactPlayback, BackendReceivesExactlyWhatAplayPlayed) {
  const PcmFormat f = GetParam();
  SoftwareXen xen;
  const auto clip = make_clip(f, 0.6, 7);
  write_file(xen.dir() / "clip.raw", clip);
  RunResult played = aplay_raw(xen, f, xen.dir() / "clip.raw");
  ASSERT_TRUE(played.status.success()) << failure_text(played);
  expect_sink_equals(xen, clip);
}

INSTANTIATE_TEST_SUITE_P(Formats, BitExactPlayback,
                         ::testing::Values(PcmFormat{"S16_LE", 2, 48000, 2}, PcmFormat{"U8", 1, 8000, 1},
                                           PcmFormat{"S32_LE", 4, 44100, 6}, PcmFormat{"S32_LE", 4, 96000, 2},
                                           PcmFormat{"S16_BE", 2, 22050, 1}, PcmFormat{"S24_LE", 4, 16000, 8}),
                         [](const auto& info) { return info.param.label(); });

TEST(Playback, ArgsDefinitionSelectsTheDevice) {
  // Card 0 (the default) and card 1 with two PCM devices: DEV=1,PCM=1 must reach card 1's
  // second PCM and nothing else.
  SoftwareXen xen;
  RunResult attached = xen.toolstack(
      {"vsnd-attach", "--domid", std::to_string(SoftwareXen::kGuest), "--devid", "1", "--config",
       "CARD, short-name=second, sample-rates=48000, sample-formats=s16_le | PCM, name=first | "
       "STREAM, unique-id=one, type=P | PCM, name=second | STREAM, unique-id=two, type=P"},
      std::chrono::seconds(10));
  ASSERT_TRUE(attached.status.success()) << failure_text(attached);
  const PcmFormat f{"S16_LE", 2, 48000, 2};
  const auto clip = make_clip(f, 0.3, 11);
  write_file(xen.dir() / "clip.raw", clip);
  RunResult played = aplay_raw(xen, f, xen.dir() / "clip.raw", "xensnd:DEV=1,PCM=1");
  ASSERT_TRUE(played.status.success()) << failure_text(played);
  const auto sink_dir = xen.sink_wav().parent_path();
  expect_wav_equals(sink_dir / "vsnd-1-1-1-0-1.wav", clip);
  for (const auto& other : {"vsnd-1-0-0-0-1.wav", "vsnd-1-1-0-0-1.wav"})
    EXPECT_FALSE(std::filesystem::exists(sink_dir / other)) << other << " was opened instead";
}

TEST(Playback, PlugConvertsForTheCard) {
  // S24_3LE is not a sndif format: ALSA's plug converts it for the card. Every 24-bit sample
  // must arrive with its value, in its place.
  SoftwareXen xen;
  const PcmFormat f{"S24_3LE", 3, 48000, 2};
  const auto clip = make_clip(f, 0.3, 5);
  write_file(xen.dir() / "clip.raw", clip);
  RunResult played = aplay_raw(xen, f, xen.dir() / "clip.raw", "plug:xensnd");
  ASSERT_TRUE(played.status.success()) << failure_text(played);
  auto wav = read_wav(xen.sink_wav());
  ASSERT_TRUE(wav.has_value());
  ASSERT_EQ(wav->channels, 2u);
  ASSERT_EQ(wav->rate, 48000u);
  const std::vector<uint8_t> played_data = after_run_lead(*wav);
  const size_t samples = clip.size() / 3;
  const size_t width = played_data.size() >= samples * 4 ? 4 : 0;
  ASSERT_EQ(width, 4u) << "the card got " << played_data.size() << " bytes for " << samples
                       << " samples: plug chose neither S24_LE nor S32_LE";
  const bool s24_le = wav->format_tag == 0xFFFE;
  size_t wrong = 0, first_wrong = 0;
  for (size_t i = 0; i < samples; ++i) {
    const int32_t in = static_cast<int32_t>(static_cast<uint32_t>(clip[3 * i]) << 8 |
                                            static_cast<uint32_t>(clip[3 * i + 1]) << 16 |
                                            static_cast<uint32_t>(clip[3 * i + 2]) << 24) >> 8;
    const uint8_t* o = &played_data[4 * i];
    const int32_t out = static_cast<int32_t>(o[0] | o[1] << 8 | o[2] << 16 | static_cast<uint32_t>(o[3]) << 24);
    // S32_LE (a plain PCM WAV) holds the sample in the top 24 bits; S24_LE (an extensible
    // WAV of 24 valid bits in 32) in the low 24 bits.
    const int32_t got = !s24_le ? out >> 8 : static_cast<int32_t>(static_cast<uint32_t>(out) << 8) >> 8;
    if (got != in && wrong++ == 0) first_wrong = i;
  }
  EXPECT_EQ(wrong, 0u) << "first wrong sample " << first_wrong << " (of " << samples << ", card format "
                       << (s24_le ? "S24_LE" : "S32_LE") << ")";
}

TEST(Playback, SpeakerTestRuns) {
  SoftwareXen xen;
  RunResult r = xen.run_guest({"speaker-test", "-D", "xensnd", "-c", "2", "-r", "48000", "-F", "S16_LE",
                               "-t", "sine", "-l", "1", "-p", "100000"},
                              std::chrono::seconds(40), "speaker-test");
  ASSERT_TRUE(r.status.success()) << failure_text(r);
  auto wav = read_wav(xen.sink_wav());
  ASSERT_TRUE(wav.has_value()) << "speaker-test played nothing";
  size_t nonzero = 0;
  for (uint8_t b : wav->data) nonzero += b != 0;
  EXPECT_GT(nonzero, wav->data.size() / 4) << "the sine arrived as silence";
}

TEST(Playback, SoxPlaysThroughAlsa) {
  SoftwareXen xen;
  RunResult r = xen.run_guest({"sox", "-q", "-n", "-r", "48000", "-c", "2", "-b", "16", "-e", "signed-integer",
                               "-t", "alsa", "xensnd", "synth", "0.5", "sine", "440"},
                              std::chrono::seconds(30), "sox");
  ASSERT_TRUE(r.status.success()) << failure_text(r);
  auto wav = read_wav(xen.sink_wav());
  ASSERT_TRUE(wav.has_value());
  // 0.5 s of 48 kHz stereo S16, then at most the silence that ends the last period.
  EXPECT_GE(wav->data.size(), 24000u * 4);
  EXPECT_LE(wav->data.size(), 24000u * 4 + 12000u * 4);
  size_t nonzero = 0;
  for (size_t i = 0; i < 24000u * 4 && i < wav->data.size(); ++i) nonzero += wav->data[i] != 0;
  EXPECT_GT(nonzero, 24000u * 2) << "the sine arrived as silence";
}

}  // namespace
}  // namespace xensnd::e2e
