// The CTL plugin (ctl.xensnd) through alsa-lib: amixer's view of the controls, PCM and mixer
// in one process with volume and mute reaching the backend's samples, a backend without
// volume (as snd_be), and a card owned by another process.
#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/e2e/e2e_helpers.h"

namespace xensnd::e2e {
namespace {

RunResult amixer(const SoftwareXen& xen, std::vector<std::string> args, const std::string& name) {
  std::vector<std::string> argv{"amixer", "-D", "xensnd"};
  argv.insert(argv.end(), args.begin(), args.end());
  return xen.run_guest(argv, std::chrono::seconds(20), name);
}

long fact_value(const std::string& out, const std::string& name) {
  const std::string key = "fact " + name + "=";
  const size_t at = out.find(key);
  if (at == std::string::npos) return -999999;
  return std::stol(out.substr(at + key.size()));
}

// Runs of equal sample magnitude (left channel) lasting at least `min_frames`, in order.
std::vector<int> level_runs(const WavData& wav, size_t min_frames) {
  const size_t frame = wav.channels * 2u;
  std::vector<int> levels;
  int current = -1;
  size_t length = 0;
  auto close_run = [&] {
    if (length >= min_frames && (levels.empty() || levels.back() != current)) levels.push_back(current);
  };
  for (size_t at = 0; at + frame <= wav.data.size(); at += frame) {
    const int16_t sample = static_cast<int16_t>(wav.data[at] | (wav.data[at + 1] << 8));
    const int magnitude = std::abs(int{sample});
    if (magnitude != current) {
      close_run();
      current = magnitude;
      length = 0;
    }
    ++length;
  }
  close_run();
  return levels;
}

TEST(Mixer, AmixerShowsPlaybackAndCaptureControlsInDb) {
  SoftwareXen xen;
  RunResult r = amixer(xen, {"contents"}, "amixer-contents");
  ASSERT_TRUE(r.status.success()) << failure_text(r);
  for (const char* name : {"'main Playback Volume'", "'main Playback Switch'", "'main Capture Volume'",
                           "'main Capture Switch'"})
    EXPECT_NE(r.out.find(name), std::string::npos) << name << " missing:\n" << r.out;
  EXPECT_NE(r.out.find("dBscale-min=-64.00dB,step=0.50dB"), std::string::npos) << r.out;
  // channels-max=8: one value per channel, all at the backend's 0 dB.
  EXPECT_NE(r.out.find("type=INTEGER,access=rw---R--,values=8,min=0,max=128,step=1"), std::string::npos) << r.out;

  RunResult set = amixer(xen, {"--", "sset", "main", "-6dB"}, "amixer-sset");
  ASSERT_TRUE(set.status.success()) << failure_text(set);
  EXPECT_NE(set.out.find("[-6.00dB]"), std::string::npos) << set.out;
}

TEST(Mixer, AVolumeChangeLeavesAReadyPcmReadyForItsPoller) {
  // The volume request waits for its answer on the stream's event channel and takes the
  // notification the PCM's readiness came with; the PCM's poller must still see it ready.
  SoftwareXen xen;
  RunResult r = xen.run_guest({XENSND_E2E_MIXER_TOOL, "mode=readiness", "element=main"}, std::chrono::seconds(30),
                              "mixer-readiness");
  ASSERT_TRUE(r.status.success()) << failure_text(r);
  EXPECT_EQ(fact_value(r.out, "ready_when_full"), 0);
  EXPECT_EQ(fact_value(r.out, "ready_after_position"), 1);
  EXPECT_EQ(fact_value(r.out, "volume_changed"), 1);
  EXPECT_EQ(fact_value(r.out, "ready_after_volume"), 1);
}

TEST(Mixer, VolumeAndMuteFromTheSameProcessReachTheSamples) {
  SoftwareXen xen;
  RunResult r = xen.run_guest({XENSND_E2E_MIXER_TOOL, "element=main", "phase_ms=500"}, std::chrono::seconds(30),
                              "mixer-scenario");
  ASSERT_TRUE(r.status.success()) << failure_text(r);
  EXPECT_EQ(fact_value(r.out, "min_centidb"), -6400);
  EXPECT_EQ(fact_value(r.out, "max_centidb"), 0);
  EXPECT_EQ(fact_value(r.out, "volume_read"), 128);   // the backend's 0 dB
  EXPECT_EQ(fact_value(r.out, "write_same"), 0);      // unchanged
  EXPECT_EQ(fact_value(r.out, "write_changed"), 1);
  EXPECT_EQ(fact_value(r.out, "write_back"), 1);
  EXPECT_EQ(fact_value(r.out, "centidb_after_set"), -600);

  auto wav = read_wav(xen.sink_wav(0, 0, 1));
  ASSERT_TRUE(wav.has_value()) << "no WAV at " << xen.sink_wav(0, 0, 1);
  // 8000 at 0 dB; x 10^(-6/20) = 4009.5 at -6 dB; 0 muted; -6 dB again. Changes take effect
  // where the backend's device plays them (up to a buffer, 85 ms, after the write), so each
  // 500 ms phase keeps a run of well over 200 ms.
  const std::vector<int> levels = level_runs(*wav, 48000 / 5);
  ASSERT_GE(levels.size(), 4u) << "levels found: " << ::testing::PrintToString(levels);
  EXPECT_EQ(levels[0], 8000);
  EXPECT_NEAR(levels[1], 4010, 1);
  EXPECT_EQ(levels[2], 0);
  EXPECT_NEAR(levels[3], 4010, 1);
}

TEST(Mixer, ABackendWithoutVolumeLeavesTheControlsOutWithOneLogLine) {
  SoftwareXenOptions options;
  options.backend_args = {"--no-volume"};
  SoftwareXen xen(options);
  RunResult r = amixer(xen, {"contents"}, "amixer-no-volume");
  ASSERT_TRUE(r.status.success()) << failure_text(r);
  EXPECT_EQ(r.out.find("Volume"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Switch"), std::string::npos) << r.out;
  size_t count = 0;
  for (size_t at = r.err.find("takes no volume requests"); at != std::string::npos;
       at = r.err.find("takes no volume requests", at + 1))
    ++count;
  EXPECT_EQ(count, 1u) << r.err;

  // Playing is unaffected.
  const PcmFormat format{"S16_LE", 2, 48000, 2};
  const auto clip = make_clip(format, 0.3, 61);
  write_file(xen.dir() / "clip.raw", clip);
  RunResult play = aplay_raw(xen, format, xen.dir() / "clip.raw");
  ASSERT_TRUE(play.status.success()) << failure_text(play);
  expect_sink_equals(xen, clip, 2);  // after the OPEN amixer made to ask for the volume
}

TEST(Mixer, WhileAnotherProcessOwnsTheCardTheMixerNamesIt) {
  SoftwareXen xen;
  auto owner = xen.start_guest({XENSND_E2E_MIXER_TOOL, "element=main", "phase_ms=500"}, "owner", true);
  ASSERT_TRUE(owner->read_lines_until("fact ready=", std::chrono::seconds(20)).has_value())
      << owner->stderr_text();
  RunResult r = amixer(xen, {"contents"}, "amixer-busy");
  EXPECT_FALSE(r.status.success()) << failure_text(r);
  EXPECT_NE(r.err.find("in use by process " + std::to_string(owner->pid())), std::string::npos) << r.err;
  EXPECT_TRUE(owner->wait(std::chrono::seconds(30)).success()) << owner->stderr_text();
}

}  // namespace
}  // namespace xensnd::e2e
