// PulseAudio on top of the plugin with Debian's stock default.pa plus the shipped
// conf/pulse/xensnd.pa (sound_servers.h), at the latencies clients ask for and with a rewind,
// checked on the backend's WAV.
//
// Which scheduling PulseAudio 16 uses is not ours to choose: it asks for timer-based
// scheduling (tsched=1, its default) but turns it off by itself inside a virtual machine
// ("Disabling timer-based scheduling because running inside a VM", whatever tsched= says),
// which a Xen guest is, and so is the usual CI machine; then it schedules on period wake-ups
// and still rewinds. The cases run whichever mode PulseAudio picks, as a guest would.
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/e2e/e2e_helpers.h"
#include "tests/e2e/sound_server_checks.h"
#include "tests/e2e/sound_servers.h"

namespace xensnd::e2e {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

SoftwareXenOptions stereo_card() {
  SoftwareXenOptions options;
  options.vsnd_config =
      "CARD, short-name=xensnd-e2e, long-name=xensnd end-to-end test card, sample-rates=44100;48000, "
      "sample-formats=s16_le;s32_le;f32_le, channels-min=1, channels-max=2, buffer-size=262144 | "
      "PCM, name=main | STREAM, unique-id=speaker, type=P | STREAM, unique-id=microphone, type=C";
  return options;
}

std::chrono::milliseconds play_timeout(double seconds) {
  return std::chrono::milliseconds(static_cast<long>(seconds * 1000)) + 20s;
}

class PulseAudioShipped : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    if (sanitizer_build()) GTEST_SKIP() << "pulseaudio does not start under a preloaded ASan runtime";
  }
};

// paplay asking for a latency (ms; 0: paplay's default, the largest buffer PulseAudio offers).
TEST_P(PulseAudioShipped, PaplayAtLatency) {
  const double seconds = sound_seconds();
  SoftwareXen xen(stereo_card());
  PulseAudioServer pulse(xen);
  const fs::path tone = xen.dir() / "tone.wav";
  write_tone(tone, seconds);
  std::vector<std::string> argv{"paplay", tone.string()};
  if (GetParam() > 0) argv.insert(argv.begin() + 1, "--latency-msec=" + std::to_string(GetParam()));
  RunResult played = run(argv, pulse.client_env(), xen.logs(), "paplay", play_timeout(seconds));
  EXPECT_TRUE(played.status.success()) << failure_text(played) << "\n" << pulse.log();
  EXPECT_TRUE(wait_for_more_played(xen, 0.5, 10s)) << "the sink stopped playing\n" << pulse.log();
  pulse.stop();
  expect_whole_tone_played(xen, seconds);
  EXPECT_EQ(backend_xruns(xen), "") << pulse.log();
}

INSTANTIATE_TEST_SUITE_P(LatencyMs, PulseAudioShipped, ::testing::Values(0, 21, 5),
                         [](const auto& info) { return info.param ? std::to_string(info.param) : "Default"; });

// PulseAudio fills the device buffer ahead and rewinds it when a new stream must be heard at
// once: a second client (playing silence, so the tone stays checkable) starts in the middle
// of the tone, and the sink rewinds what it had written ahead (checked in its log).
TEST(PulseAudioShippedRewinds, SecondClientRewindsTheSink) {
  if (sanitizer_build()) GTEST_SKIP() << "pulseaudio does not start under a preloaded ASan runtime";
  const double seconds = sound_seconds();
  SoftwareXen xen(stereo_card());
  PulseAudioServer pulse(xen, /*debug_log=*/true);
  const fs::path tone = xen.dir() / "tone.wav", silence = xen.dir() / "silence.wav";
  write_tone(tone, seconds);
  write_wav(silence, 1, 2, 48000, 16, std::vector<uint8_t>(48000 * 4, 0));
  ChildProcess first({"paplay", tone.string()}, pulse.client_env(), xen.logs(), "paplay-tone");
  // The second client starts once the sink has played a second of the tone.
  ASSERT_TRUE(wait_for_played_bytes(xen, 48000 * 4, 20s)) << pulse.log();
  RunResult second = run({"paplay", silence.string()}, pulse.client_env(), xen.logs(), "paplay-silence", 20s);
  EXPECT_TRUE(second.status.success()) << failure_text(second);
  const ExitStatus played = first.wait(play_timeout(seconds));
  EXPECT_TRUE(played.success()) << played.describe() << "\n" << pulse.log();
  EXPECT_TRUE(wait_for_more_played(xen, 0.5, 10s)) << "the sink stopped playing\n" << pulse.log();
  pulse.stop();
  EXPECT_NE(pulse.full_log().find("Requested to rewind"), std::string::npos)
      << "the sink never rewound: the case does not test rewinds\n" << pulse.log();
  expect_whole_tone_played(xen, seconds);
  EXPECT_EQ(backend_xruns(xen), "") << pulse.log();
}

}  // namespace
}  // namespace xensnd::e2e
