// What unit tests covered only below alsa-lib, now through it: delay between two positions,
// drain's timeout, hw_params after refinement, the channel-map callbacks, a reopen in the
// same process after a disconnection, and the timeout options changing behaviour.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "tests/e2e/e2e_helpers.h"

namespace xensnd::e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
const PcmFormat kFormat{"S16_LE", 2, 48000, 2};

RunResult scenario(const SoftwareXen& xen, const std::vector<std::string>& args, const std::string& name,
                   const Environment* env = nullptr) {
  std::vector<std::string> argv{scenario_tool().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, env ? *env : xen.guest_env(), xen.logs(), name, 40s);
}

// The guest environment with `pcm.NAME { type xensnd OPTIONS }` defined.
Environment with_pcm(const SoftwareXen& xen, const std::string& name, const std::string& options) {
  const auto conf = xen.dir() / (name + ".conf");
  std::ofstream(conf) << "<" << build_alsa_config().string() << ">\npcm." << name << " { type xensnd " << options
                      << " }\n";
  Environment env = xen.guest_env();
  env["ALSA_CONFIG_PATH"] = conf.string();
  return env;
}

// A sound server reading a quantum of 64 frames from a timer (PipeWire's source) must find
// data at most ticks, as from a device that records as it goes: the backend's device runs at
// a fraction of the period and READs are that size, so the capture pointer moves in small
// steps, not a 1024-frame period at a time (which made PipeWire's clients drop blocks). The
// median step is robust to the client being descheduled now and then.
TEST(AlsaApi, CapturePointerMovesInStepsMuchSmallerThanAPeriod) {
  SoftwareXenOptions options;
  options.backend_args = {"--source", "sine:440"};
  SoftwareXen xen(options);
  RunResult r = scenario(xen, {"capture-steps", "frames=48000", "period=1024", "periods=8"}, "capture-steps");
  ASSERT_TRUE(r.status.success()) << failure_text(r);
  EXPECT_LE(fact(r, "median_step"), 1024 / 4) << r.out;
}

TEST(AlsaApi, DelayMovesBetweenPositions) {
  SoftwareXen xen;
  // Periods of 100 ms: ten CUR_POS a second. Sampled every 2 ms for 250 ms, a delay that only
  // moved with the positions would take 3 or 4 values, and interpolation about a hundred.
  RunResult r = scenario(xen, {"delay", "period=4800", "periods=4"}, "delay");
  ASSERT_TRUE(r.status.success()) << failure_text(r);
  EXPECT_GE(fact(r, "delay_distinct"), 20) << r.out;
  EXPECT_EQ(fact(r, "delay_increases"), 0) << "delay went up while nothing was written:\n" << r.out;
  // 250 ms played: at least 150 ms of frames gone (start-up takes the rest).
  EXPECT_LE(fact(r, "delay_last"), fact(r, "delay_first") - 7200) << r.out;
  EXPECT_LE(fact(r, "delay_first"), fact(r, "buffer")) << r.out;
}

TEST(AlsaApi, DrainEndsWithinTheResponseTimeoutWhenTheBackendStopsAnswering) {
  // The backend answers WRITEs 5 s late, and serves one request at a time, so the START that
  // a drain from PREPARED sends waits behind them. A WRITE's clock starts when the backend can
  // start on it (the START behind it) and allows the response timeout plus the buffer's
  // duration (1 s here): the drain ends with -ENODEV and a message naming the WRITE once that
  // has passed, not at 5 s and not earlier. Twice, with two response timeouts: the option
  // decides. (The drain's own deadline, "drain timed out", lies beyond every request's
  // allowance, so this is how a drain ends against a silent backend.)
  for (const long timeout_ms : {400L, 1400L}) {
    SCOPED_TRACE("response_timeout_ms " + std::to_string(timeout_ms));
    SoftwareXenOptions options;
    options.backend_args = {"--fault", "delay-response:op=write,ms=5000"};
    SoftwareXen xen(options);
    const Environment env = with_pcm(xen, "slow", "response_timeout_ms " + std::to_string(timeout_ms) +
                                                      " position_timeout_ms 10000");
    write_file(xen.dir() / "clip.raw", make_clip(kFormat, 0.05, 81));
    RunResult r = scenario(xen,
                           {"play", "device=slow", "input=" + (xen.dir() / "clip.raw").string(), "drain=prepared",
                            "drain_may_fail=1", "period=4800", "periods=10"},
                           "drain-timeout", &env);
    ASSERT_TRUE(r.status.success()) << failure_text(r);
    EXPECT_EQ(fact(r, "drain_result"), -ENODEV) << r.out;
    const long drain_ms = fact(r, "drain_ms");
    const long buffer_ms = 1000;  // periods=10 of 4800 frames at 48 kHz
    EXPECT_GE(drain_ms, timeout_ms + buffer_ms) << "drain gave up before the WRITE's allowance";
    EXPECT_LE(drain_ms, timeout_ms + buffer_ms + 400) << "drain waited well past the WRITE's allowance";
    EXPECT_NE(r.err.find("did not answer WRITE (request 2) in time"), std::string::npos) << r.err;
  }
}

TEST(AlsaApi, PositionTimeoutOptionDecidesWhenTheBackendCountsAsGone) {
  for (const long timeout_ms : {600L, 2500L}) {
    SCOPED_TRACE("position_timeout_ms " + std::to_string(timeout_ms));
    SoftwareXenOptions options;
    options.backend_args = {"--fault", "stop-events:nth=20"};
    SoftwareXen xen(options);
    Environment env = with_pcm(xen, "watched", "position_timeout_ms " + std::to_string(timeout_ms));
    write_file(xen.dir() / "clip.raw", make_clip(kFormat, 10, 82));
    ChildProcess aplay({"aplay", "-q", "-D", "watched", "-t", "raw", "-f", "S16_LE", "-r", "48000", "-c", "2",
                        (xen.dir() / "clip.raw").string()},
                       env, xen.logs(), "aplay");
    ASSERT_TRUE(wait_in_directory(xen.logs(), 15s, [&] {
      std::ifstream in(xen.logs() / "backend.err");
      std::stringstream text;
      text << in.rdbuf();
      return text.str().find("no more events") != std::string::npos;
    })) << "the positions never stopped";
    const auto stopped = Clock::now();
    const ExitStatus status = aplay.wait(20s);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - stopped).count();
    EXPECT_FALSE(status.success());
    EXPECT_FALSE(status.timed_out);
    // The last position came up to a period before "stopped".
    EXPECT_GE(took, timeout_ms - 150) << "disconnected before the position timeout";
    EXPECT_LE(took, timeout_ms + 1000) << "disconnected well after the position timeout";
    EXPECT_NE(aplay.stderr_text().find("the backend made no progress for"), std::string::npos)
        << aplay.stderr_text();
  }
}

TEST(AlsaApi, HwParamsAfterRefinementReachTheCard) {
  SoftwareXenOptions options;
  options.vsnd_config = "CARD, short-name=narrow, sample-rates=44100;48000, sample-formats=s16_le;s32_le, "
                        "channels-min=2, channels-max=2, buffer-size=65536 | PCM, name=main | "
                        "STREAM, unique-id=speaker, type=P";
  SoftwareXen xen(options);
  const auto clip = make_clip(PcmFormat{"S16_LE", 2, 44100, 2}, 0.3, 83);
  write_file(xen.dir() / "clip.raw", clip);
  RunResult r = scenario(xen, {"refine", "input=" + (xen.dir() / "clip.raw").string(), "rate_near=30000",
                               "buffer_us_near=1000000"},
                         "refine");
  ASSERT_TRUE(r.status.success()) << failure_text(r);
  EXPECT_EQ(fact(r, "rate_min"), 44100);
  EXPECT_EQ(fact(r, "rate_max"), 48000);
  EXPECT_EQ(fact(r, "channels_min"), 2);
  EXPECT_EQ(fact(r, "channels_max"), 2);
  EXPECT_LT(fact(r, "test_rate_22050"), 0) << "a rate the card lacks was accepted";
  EXPECT_EQ(fact(r, "test_format_S32_LE"), 0);
  EXPECT_EQ(fact(r, "rate_chosen"), 44100) << "the nearest rate the card has";
  // 65536 bytes of buffer on the card: 16384 frames of S16 stereo, less the few bytes each OPEN
  // keeps for the volume values (plugin/shared_stream.h: 8 bytes, 2 frames) and the room for
  // a run's leading silence (10 ms at the card's highest rate, 48 kHz, of its widest frame,
  // S32 stereo: 480 x 8 bytes, 960 frames); 1 s is refined down.
  EXPECT_EQ(fact(r, "buffer_max_frames"), 16384 - 2 - 960);
  EXPECT_LE(fact(r, "buffer_frames"), 16384);
  auto wav = read_wav(xen.sink_wav());
  ASSERT_TRUE(wav.has_value());
  EXPECT_EQ(wav->rate, 44100u) << "the backend was opened at another rate";
  expect_wav_equals(xen.sink_wav(), clip);
}

TEST(AlsaApi, ChannelMapCallbacks) {
  SoftwareXen xen;
  RunResult r = scenario(xen, {"chmap", "channels=2"}, "chmap");
  ASSERT_TRUE(r.status.success()) << failure_text(r);
  // The card takes 1 to 8 channels: a map for each count with a standard layout (1-6, 8).
  EXPECT_EQ(fact(r, "offered"), 7) << r.out;
  EXPECT_NE(r.out.find("fact offered_8=FL FR RL RR FC LFE SL SR"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fact offered_2=FL FR"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fact offered_6=FL FR RL RR FC LFE"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fact current=FL FR"), std::string::npos) << r.out;
  EXPECT_EQ(fact(r, "set_same"), 0);
  EXPECT_LT(fact(r, "set_swapped"), 0) << "a map the card cannot route was accepted";
}

TEST(AlsaApi, ReopenInTheSameProcessAfterADisconnection) {
  SoftwareXen xen;
  const auto clip = make_clip(kFormat, 0.4, 84);
  write_file(xen.dir() / "clip.raw", clip);
  const auto go = xen.dir() / "go";
  ASSERT_EQ(::mkfifo(go.c_str(), 0600), 0);
  auto tool = xen.start_guest({scenario_tool().string(), "reopen", "input=" + (xen.dir() / "clip.raw").string(),
                               "go=" + go.string()},
                              "reopen", /*pipe_stdout=*/true);
  ASSERT_TRUE(tool->read_lines_until("playing", 15s)) << tool->stderr_text();
  xen.kill_backend();
  ASSERT_TRUE(tool->read_lines_until("lost", 10s)) << tool->stderr_text();
  xen.restart_backend();
  std::ofstream(go) << "go\n";
  const ExitStatus status = tool->wait(30s);
  ASSERT_TRUE(status.success()) << status.describe() << "\n" << tool->stderr_text();
  // The new backend's first open holds the clip, bit for bit.
  expect_sink_equals(xen, clip, 1);
  const DomainCounts counts = xen.counts(SoftwareXen::kGuest);
  EXPECT_EQ(counts.grants, 0u) << counts.text;
}

}  // namespace
}  // namespace xensnd::e2e
