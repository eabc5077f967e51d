// A sound server on top of the plugin: PulseAudio opens xensnd as its ALSA sink (both of its
// scheduling modes: interrupt-driven, and timer-based with rewinds) and mixes for clients.
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/e2e/e2e_helpers.h"

namespace xensnd::e2e {
namespace {

using namespace std::chrono_literals;

class PulseAudioOnTop : public ::testing::TestWithParam<int> {};

TEST_P(PulseAudioOnTop, PaplayReachesTheBackend) {
  // pulseaudio hangs at startup with the sanitizer runtimes preloaded (before loading us).
  if (sanitizer_build()) GTEST_SKIP() << "pulseaudio does not start under a preloaded ASan runtime";
  SoftwareXen xen;
  const auto home = xen.dir() / "pulse";
  std::filesystem::create_directories(home);
  Environment env = xen.guest_env();
  env["HOME"] = home.string();
  env["XDG_RUNTIME_DIR"] = home.string();
  const std::string socket = (home / "native").string();
  ChildProcess pulse({"pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--log-target=stderr",
                      "-L", "module-alsa-sink device=xensnd sink_name=xen tsched=" + std::to_string(GetParam()),
                      "-L", "module-native-protocol-unix socket=" + socket + " auth-anonymous=1"},
                     env, xen.logs(), "pulseaudio");
  ASSERT_TRUE(wait_for_path(socket, 20s)) << pulse.stderr_text();
  const PcmFormat f{"S16_LE", 2, 48000, 2};
  write_wav(xen.dir() / "tone.wav", 1, 2, 48000, 16, make_clip(f, 1.0, 71));
  Environment client = env;
  client["PULSE_SERVER"] = "unix:" + socket;
  RunResult played = run({"paplay", (xen.dir() / "tone.wav").string()}, client, xen.logs(), "paplay", 20s);
  EXPECT_TRUE(played.status.success()) << failure_text(played);
  pulse.signal(SIGTERM);
  pulse.wait(10s);
  // PulseAudio opened the card more than once (probing, then playing); the clip went to one
  // of the opens, resampled and mixed: check that about a second of non-silent audio arrived.
  size_t loudest = 0;
  for (unsigned open = 1; open <= 4; ++open) {
    auto wav = read_wav(xen.sink_wav(0, 0, open));
    if (!wav) continue;
    size_t nonzero = 0;
    for (uint8_t b : wav->data) nonzero += b != 0;
    loudest = std::max(loudest, nonzero);
  }
  EXPECT_GT(loudest, size_t{48000} * 4 / 2) << "less than half a second of audio reached the backend";
}

INSTANTIATE_TEST_SUITE_P(Scheduling, PulseAudioOnTop, ::testing::Values(0, 1),
                         [](const auto& info) { return info.param ? "TimerBased" : "InterruptDriven"; });

}  // namespace
}  // namespace xensnd::e2e
