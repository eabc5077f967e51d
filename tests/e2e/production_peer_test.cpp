// The production backend's behaviours (issue 9), each reproduced by a switch of the reference
// backend, against unmodified applications through the plugin with its default options:
// aplay, arecord, the full-duplex scenario and PulseAudio on top.
//
//   capture bursts (snd_be's PulseAudio path): the record stream's data arrives every 2 s
//     while positions keep the real-time rate; requests are answered strictly in order.
//   audio-timestamp positions (snd_be's ALSA path into a plugin device): CUR_POS is 0 while
//     WRITEs are accepted, the total written since OPEN once the device underruns, never
//     reset by STOP/START.
//   a stalled device: positions keep arriving but stop moving, READ/WRITE are no longer
//     answered, control requests are.
//
// The first two must play and record to the end, bit-exact where the data allows; the
// third must end with an error within the documented bound (response_timeout_ms +
// position_timeout_ms + 1 s after the stall, with the defaults 3 s + 2 s + 1 s).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>

#include "tests/e2e/e2e_helpers.h"

namespace xensnd::e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::vector<std::string> kCaptureBursts = {"--capture-bursts", "2000"};
const std::vector<std::string> kAudioTimestampPositions = {"--positions", "audio-timestamp"};
constexpr auto kStallAfter = 1000ms;
const std::vector<std::string> kStalls = {"--stall-after", "1000"};
// The plugin's documented bound for a backend that stopped working (its default options).
constexpr auto kGiveUpBound = 3000ms + 2000ms + 1000ms;
// Starting the program, opening the card and exiting, on a loaded 2-core machine.
constexpr auto kProcessAllowance = 2000ms;

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// A temporary WAV source (it must exist before the backend starts).
class SourceFile {
 public:
  SourceFile(const std::vector<uint8_t>& samples) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "xensnd-peer-src-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    write_wav(path(), 1, 2, 48000, 16, samples);
  }
  ~SourceFile() { std::filesystem::remove_all(dir_); }
  std::filesystem::path path() const { return dir_ / "source.wav"; }

 private:
  std::filesystem::path dir_;
};

const PcmFormat kStereo48k{"S16_LE", 2, 48000, 2};

// aplay of `seconds` of a pattern; the backend must receive it bit-exact.
void expect_aplay_bit_exact(const std::vector<std::string>& backend_args) {
  SoftwareXenOptions options;
  options.backend_args = backend_args;
  SoftwareXen xen(options);
  const auto clip = make_clip(kStereo48k, 2.0, 91);
  write_file(xen.dir() / "clip.raw", clip);
  RunResult played = aplay_raw(xen, kStereo48k, xen.dir() / "clip.raw");
  ASSERT_TRUE(played.status.success()) << failure_text(played);
  expect_sink_equals(xen, clip);
}

// arecord of 3 s from a WAV source; what it wrote must be the source's first 3 s.
void expect_arecord_bit_exact(const std::vector<std::string>& backend_args) {
  const auto source = make_clip(kStereo48k, 4.0, 92);
  SourceFile file(source);
  SoftwareXenOptions options;
  options.backend_args = with(backend_args, {"--source", "wav:" + file.path().string()});
  SoftwareXen xen(options);
  const auto out = xen.dir() / "captured.raw";
  RunResult r = xen.run_guest({"arecord", "-q", "-D", "xensnd", "-t", "raw", "-f", "S16_LE", "-r", "48000", "-c",
                               "2", "-s", "144000", out.string()},
                              30s, "arecord");
  ASSERT_TRUE(r.status.success()) << failure_text(r);
  const auto captured = read_file(out);
  ASSERT_EQ(captured.size(), 144000u * 4);
  const std::vector<uint8_t> want = slice(source, 0, captured.size());
  EXPECT_TRUE(captured == want) << describe_difference(captured, want);
}

// The full-duplex scenario with the capture stream recording what the playback plays.
// Returns the result; checks the data when it succeeded.
RunResult run_duplex(const std::vector<std::string>& backend_args, Clock::duration* took = nullptr) {
  SoftwareXenOptions options;
  options.backend_args = with(backend_args, {"--source", "0/1=loopback:0/0"});
  SoftwareXen xen(options);
  const auto clip = make_clip(kStereo48k, 1.0, 93);
  write_file(xen.dir() / "clip.raw", clip);
  const auto out = xen.dir() / "captured.raw";
  const auto start = Clock::now();
  RunResult r = xen.run_guest({scenario_tool().string(), "duplex", "input=" + (xen.dir() / "clip.raw").string(),
                               "output=" + out.string(), "period=2048", "periods=8"},
                              40s, "duplex");
  if (took) *took = Clock::now() - start;
  if (r.status.success()) {
    expect_sink_equals(xen, clip);
    const auto captured = read_file(out);
    const std::vector<uint8_t> middle = slice(clip, 4800 * 4, clip.size() - 4800 * 4);
    EXPECT_TRUE(find_bytes(captured, middle).has_value())
        << "the played clip does not appear in the " << captured.size() << " captured bytes";
  }
  return r;
}

// PulseAudio in the guest with xensnd as its ALSA sink and source.
class PulseOnTop {
 public:
  explicit PulseOnTop(const SoftwareXen& xen) : home_(xen.dir() / "pulse") {
    std::filesystem::create_directories(home_);
    env_ = xen.guest_env();
    env_["HOME"] = home_.string();
    env_["XDG_RUNTIME_DIR"] = home_.string();
    socket_ = (home_ / "native").string();
    pulse_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1",
                                 "--log-target=stderr", "-L", "module-alsa-sink device=xensnd sink_name=xen",
                                 "-L", "module-alsa-source device=xensnd source_name=xenmic", "-L",
                                 "module-native-protocol-unix socket=" + socket_ + " auth-anonymous=1"},
        env_, xen.logs(), "pulseaudio");
    ready_ = wait_for_path(socket_, 20s);
  }
  ~PulseOnTop() {
    pulse_->signal(SIGTERM);
    pulse_->wait(10s);
  }
  bool ready() const { return ready_; }
  ChildProcess& server() { return *pulse_; }
  Environment client_env() const {
    Environment client = env_;
    client["PULSE_SERVER"] = "unix:" + socket_;
    return client;
  }

 private:
  std::filesystem::path home_;
  Environment env_;
  std::string socket_;
  std::unique_ptr<ChildProcess> pulse_;
  bool ready_ = false;
};

// paplay of `clip_seconds` of a pattern through PulseAudio; returns paplay's result.
RunResult paplay_through_pulse(SoftwareXen& xen, PulseOnTop& pulse, double clip_seconds,
                               Clock::duration* took = nullptr) {
  write_wav(xen.dir() / "tone.wav", 1, 2, 48000, 16, make_clip(kStereo48k, clip_seconds, 94));
  const auto start = Clock::now();
  RunResult played = run({"paplay", "-d", "xen", (xen.dir() / "tone.wav").string()}, pulse.client_env(),
                         xen.logs(), "paplay", 30s);
  if (took) *took = Clock::now() - start;
  return played;
}

// The most non-zero bytes any of the sink's WAVs (one per OPEN; PulseAudio probes) holds.
size_t loudest_open(const SoftwareXen& xen) {
  size_t loudest = 0;
  for (unsigned open = 1; open <= 6; ++open) {
    auto wav = read_wav(xen.sink_wav(0, 0, open));
    if (!wav) continue;
    size_t nonzero = 0;
    for (uint8_t b : wav->data) nonzero += b != 0;
    loudest = std::max(loudest, nonzero);
  }
  return loudest;
}

void expect_paplay_reaches_the_backend(const std::vector<std::string>& backend_args) {
  if (sanitizer_build()) GTEST_SKIP() << "pulseaudio does not start under a preloaded ASan runtime";
  SoftwareXenOptions options;
  options.backend_args = backend_args;
  SoftwareXen xen(options);
  PulseOnTop pulse(xen);
  ASSERT_TRUE(pulse.ready()) << pulse.server().stderr_text();
  RunResult played = paplay_through_pulse(xen, pulse, 1.0);
  EXPECT_TRUE(played.status.success()) << failure_text(played);
  EXPECT_TRUE(pulse.server().running()) << pulse.server().stderr_text();
  EXPECT_GT(loudest_open(xen), size_t{48000} * 4 / 2) << "less than half a second of audio reached the backend";
}

// ---- capture in bursts -------------------------------------------------------------------

TEST(ProductionPeerCaptureBursts, ArecordGetsTheSourceBitExact) { expect_arecord_bit_exact(kCaptureBursts); }

TEST(ProductionPeerCaptureBursts, AplayPlaysBitExact) { expect_aplay_bit_exact(kCaptureBursts); }

TEST(ProductionPeerCaptureBursts, FullDuplexLoopbackRunsToTheEnd) {
  RunResult r = run_duplex(kCaptureBursts);
  EXPECT_TRUE(r.status.success()) << failure_text(r);
}

TEST(ProductionPeerCaptureBursts, PulseAudioRecordsThroughTheSource) {
  if (sanitizer_build()) GTEST_SKIP() << "pulseaudio does not start under a preloaded ASan runtime";
  SoftwareXenOptions options;
  options.backend_args = with(kCaptureBursts, {"--source", "sine:440"});
  SoftwareXen xen(options);
  PulseOnTop pulse(xen);
  ASSERT_TRUE(pulse.ready()) << pulse.server().stderr_text();
  // parec writes raw 48 kHz stereo S16 to its stdout log until it is stopped.
  ChildProcess parec({"parec", "-d", "xenmic", "--raw", "--format=s16le", "--rate=48000", "--channels=2"},
                     pulse.client_env(), xen.logs(), "parec");
  const auto recorded = xen.logs() / "parec.out";
  // Two bursts' worth: the source keeps delivering after the first.
  const bool got = wait_for_file_size(recorded, 4 * 48000 * 4, 20s);
  parec.signal(SIGTERM);
  parec.wait(5s);
  ASSERT_TRUE(got) << "parec recorded " << (std::filesystem::exists(recorded) ? std::filesystem::file_size(recorded) : 0)
                   << " bytes in 20 s\n"
                   << parec.stderr_text() << pulse.server().stderr_text();
  EXPECT_TRUE(pulse.server().running()) << pulse.server().stderr_text();
  const auto data = read_file(recorded);
  size_t nonzero = 0;
  for (uint8_t b : data) nonzero += b != 0;
  EXPECT_GT(nonzero, size_t{48000} * 4) << "the sine arrived as silence";
}

TEST(ProductionPeerCaptureBursts, PulseAudioPlaysThroughTheSink) { expect_paplay_reaches_the_backend(kCaptureBursts); }

// ---- positions from audio timestamps -----------------------------------------------------

TEST(ProductionPeerAudioTimestampPositions, AplayPlaysBitExact) { expect_aplay_bit_exact(kAudioTimestampPositions); }

TEST(ProductionPeerAudioTimestampPositions, ArecordGetsTheSourceBitExact) {
  expect_arecord_bit_exact(kAudioTimestampPositions);
}

TEST(ProductionPeerAudioTimestampPositions, FullDuplexEndsOrReportsAnUnderrunNeverADisconnection) {
  // The device really underruns (nobody can tell the frontend when to write): the duplex
  // scenario, which does not recover from xruns, may end with -EPIPE. The link must stay up.
  RunResult r = run_duplex(kAudioTimestampPositions);
  if (!r.status.success()) {
    EXPECT_NE(r.err.find("Broken pipe"), std::string::npos) << failure_text(r);
  }
  EXPECT_EQ(r.err.find("No such device"), std::string::npos) << failure_text(r);
}

TEST(ProductionPeerAudioTimestampPositions, PulseAudioPlaysThroughTheSink) {
  expect_paplay_reaches_the_backend(kAudioTimestampPositions);
}

// ---- a stalled device --------------------------------------------------------------------

// An application blocked on a stalled device gets an error within the bound.
void expect_ends_with_an_error_in_time(const RunResult& r, Clock::duration took) {
  std::printf("ended after %.2f s (%s):\n%s\n", seconds(took), r.status.describe().c_str(), r.err.c_str());
  EXPECT_FALSE(r.status.success()) << "a stalled device played to the end?\n" << failure_text(r);
  EXPECT_FALSE(r.status.timed_out) << failure_text(r);
  EXPECT_GE(took, kStallAfter) << "ended before the device stalled: not the stall's error\n" << failure_text(r);
  EXPECT_LE(took, kStallAfter + kGiveUpBound + kProcessAllowance)
      << "ended " << seconds(took) << " s after it started\n"
      << failure_text(r);
  EXPECT_FALSE(r.err.empty()) << "no error message";
}

TEST(ProductionPeerStalledDevice, AplayEndsWithAnErrorInTime) {
  SoftwareXenOptions options;
  options.backend_args = kStalls;
  SoftwareXen xen(options);
  write_file(xen.dir() / "clip.raw", make_clip(kStereo48k, 4.0, 95));
  const auto start = Clock::now();
  RunResult r = aplay_raw(xen, kStereo48k, xen.dir() / "clip.raw");
  expect_ends_with_an_error_in_time(r, Clock::now() - start);
}

TEST(ProductionPeerStalledDevice, ArecordEndsWithAnErrorInTime) {
  SoftwareXenOptions options;
  options.backend_args = with(kStalls, {"--source", "sine:440"});
  SoftwareXen xen(options);
  const auto start = Clock::now();
  RunResult r = xen.run_guest({"arecord", "-q", "-D", "xensnd", "-t", "raw", "-f", "S16_LE", "-r", "48000", "-c",
                               "2", "-d", "4", (xen.dir() / "captured.raw").string()},
                              30s, "arecord");
  expect_ends_with_an_error_in_time(r, Clock::now() - start);
}

TEST(ProductionPeerStalledDevice, FullDuplexEndsWithAnErrorInTime) {
  Clock::duration took{};
  RunResult r = run_duplex(kStalls, &took);
  expect_ends_with_an_error_in_time(r, took);
  EXPECT_EQ(r.err.find("did not finish"), std::string::npos) << failure_text(r);
}

TEST(ProductionPeerStalledDevice, PulseAudioClientEndsInTimeAndTheServerSurvives) {
  if (sanitizer_build()) GTEST_SKIP() << "pulseaudio does not start under a preloaded ASan runtime";
  SoftwareXenOptions options;
  options.backend_args = kStalls;
  SoftwareXen xen(options);
  PulseOnTop pulse(xen);
  ASSERT_TRUE(pulse.ready()) << pulse.server().stderr_text();
  constexpr double kClipSeconds = 4.0;
  Clock::duration took{};
  RunResult played = paplay_through_pulse(xen, pulse, kClipSeconds, &took);
  // PulseAudio decides what its client sees (an error, or the stream finishing on another
  // sink); the client must not hang, and the server must not hang or crash.
  EXPECT_FALSE(played.status.timed_out) << failure_text(played);
  EXPECT_LE(took, std::chrono::duration<double>(kClipSeconds) + kGiveUpBound + kProcessAllowance)
      << "paplay ended " << seconds(took) << " s after it started\n"
      << failure_text(played);
  EXPECT_TRUE(pulse.server().running()) << pulse.server().stderr_text();
  RunResult info = run({"pactl", "info"}, pulse.client_env(), xen.logs(), "pactl", 10s);
  EXPECT_TRUE(info.status.success()) << "the server no longer answers\n" << failure_text(info);
}

}  // namespace
}  // namespace xensnd::e2e
