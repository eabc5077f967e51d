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
  SoftwareXen xen;
  const PcmFormat f{"S16_LE", 2, 48000, 2};
  const auto clip = make_clip(f, 0.3, 11);
  write_file(xen.dir() / "clip.raw", clip);
  RunResult played = aplay_raw(xen, f, xen.dir() / "clip.raw", "xensnd:DEV=0,PCM=0");
  ASSERT_TRUE(played.status.success()) << failure_text(played);
  expect_sink_equals(xen, clip);
}

TEST(Playback, PlugConvertsForTheCard) {
  // S24_3LE is not a sndif format: ALSA's plug converts it for the card.
  SoftwareXen xen;
  const PcmFormat f{"S24_3LE", 3, 48000, 2};
  write_file(xen.dir() / "clip.raw", make_clip(f, 0.3, 5));
  RunResult played = aplay_raw(xen, f, xen.dir() / "clip.raw", "plug:xensnd");
  ASSERT_TRUE(played.status.success()) << failure_text(played);
  auto wav = read_wav(xen.sink_wav());
  ASSERT_TRUE(wav.has_value());
  EXPECT_EQ(wav->data.size() % 4, 0u);
  EXPECT_GE(wav->data.size(), static_cast<size_t>(0.3 * 48000) * 2 * 2);
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
