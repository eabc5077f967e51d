// PipeWire on top of the plugin (sound_servers.h): clients at the latencies they ask for,
// through the shipped configuration, checked on the backend's WAV and in what they record.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>

#include "tests/e2e/e2e_helpers.h"
#include "tests/e2e/sound_server_checks.h"
#include "tests/e2e/sound_servers.h"

namespace xensnd::e2e {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A stereo card as a guest typically has, offering PipeWire its preferred float format.
SoftwareXenOptions sound_server_card(const std::string& source) {
  SoftwareXenOptions options;
  options.vsnd_config =
      "CARD, short-name=xensnd-e2e, long-name=xensnd end-to-end test card, sample-rates=44100;48000, "
      "sample-formats=s16_le;s32_le;f32_le, channels-min=1, channels-max=2, buffer-size=262144 | "
      "PCM, name=main | STREAM, unique-id=speaker, type=P | STREAM, unique-id=microphone, type=C";
  options.backend_args = {"--source", source};
  // At quantum 64 a WRITE has 1.3 ms from PipeWire to the backend's device: the test's other
  // busy core stands for the guest's load, which does not delay the hypervisor or dom0.
  options.realtime_peers = true;
  options.in_memory = true;  // the recorder and the backend write their WAVs at every cycle
  return options;
}

// How long `frames` last at 48 kHz.
std::chrono::microseconds frames_at_48k(long frames) { return std::chrono::microseconds(frames * 1'000'000L / 48'000); }

// The node's headroom in conf/pipewire: frames of capture latency a source keeps above its quantum.
constexpr long kHeadroom = 256;

// How long PipeWire's graph has for a cycle at `quantum` frames (48 kHz).
std::chrono::microseconds graph_cycle(int quantum) { return frames_at_48k(quantum); }

// The shortest stall that can splice a graph at `quantum`: half a cycle. A vCPU held by the
// host holds the graph thread on it while the driver runs on the other, so a stall landing
// late in a cycle makes that thread miss the cycle's end by less than a whole cycle: seen,
// 4.0 ms (two stalls back to back, one on each vCPU) splicing a 5.3 ms graph at the end of
// its cycle (pipewire-pulse at 5 ms, tests/e2e/CMakeLists.txt).
std::chrono::microseconds splicing_stall(int quantum) { return graph_cycle(quantum) / 2; }

// What the stall monitor records (machine_stalls.h): pauses of 1.5 ms, waking every
// millisecond, sees every pause that can splice a graph at 256 frames or more; at 64 frames
// half a cycle is 0.67 ms, so it must look closer there.
struct MonitorResolution {
  std::chrono::microseconds threshold, interval;
};
MonitorResolution monitor_resolution(int quantum) {
  constexpr std::chrono::microseconds kThreshold(1500), kInterval(1000);
  if (splicing_stall(quantum) >= kThreshold) return {kThreshold, kInterval};
  const std::chrono::microseconds threshold = splicing_stall(quantum) * 3 / 4;
  return {threshold, threshold / 2};
}

// The shortest stall that can splice a graph whose follower node runs at `quantum`. PipeWire's
// follower resyncs (skips captured frames, or plays silence) when its delay strays more than
// max(256, quantum / 2) frames from its target (spa/plugins/alsa/alsa-pcm.c, update_time),
// and its delay already wobbles by its driver's wake-ups and the capture pointer's steps: a
// stall of half that was enough (9.0 ms at quantum 1024, tests/e2e/CMakeLists.txt).
std::chrono::microseconds follower_tolerance(int quantum) { return frames_at_48k(std::max(256, quantum / 2) / 2); }

// How long before a stall a source driving the graph can have recorded the frames its client
// then loses: the quantum handed to the client, the source's target (a quantum and the
// node's headroom) and the capture path's latency the headroom is there to cover (a READ and
// a trip across domains).
long source_held_frames(int quantum) { return quantum + (quantum + kHeadroom) + kHeadroom; }
std::chrono::microseconds source_held(int quantum) { return frames_at_48k(source_held_frames(quantum)); }

// How long before a stall a follower source can have recorded the frames it then skips: it
// looks at its delay once a cycle, so its last look before the stall came up to a quantum
// before it began, holding what a driving source holds (above) and up to the tolerance more
// before it resyncs; it skips the oldest of those.
std::chrono::microseconds follower_delay(int quantum) {
  return frames_at_48k(source_held_frames(quantum) + std::max(256, quantum / 2));
}

// The clients: pw-play and pw-record, as users run them, down to quantum 256; below, a client
// that processes in PipeWire's data thread (xensnd-pw-client: pw-cat processes on its main loop,
// which has one cycle, 1.3 ms at quantum 64, to hand over each block, and when it misses the
// graph plays a quantum of silence or drops one with no xrun anywhere: pipewire_client.cpp).
constexpr int kSmallestMainLoopQuantum = 256;
struct ClientCommand {
  std::vector<std::string> argv;
  std::string name;  // of its logs
  // pw-record exits non-zero when interrupted; xensnd-pw-client exits 0 unless it lost frames
  // inside itself (its ring), which it says on stderr.
  bool exit_code_counts = false;
};
ClientCommand play_command(int quantum, const fs::path& tone) {
  const std::string latency = std::to_string(quantum);  // frames at the stream's rate, 48 kHz
  if (quantum < kSmallestMainLoopQuantum)
    return {realtime_client({XENSND_E2E_PW_CLIENT, "play", "--latency", latency, tone.string()}), "pw-client-play", true};
  return {realtime_client({"pw-play", "--latency", latency, tone.string()}), "pw-play"};
}
ClientCommand record_command(int quantum, const fs::path& recording) {
  const std::string latency = std::to_string(quantum);
  if (quantum < kSmallestMainLoopQuantum)
    return {realtime_client({XENSND_E2E_PW_CLIENT, "record", "--latency", latency, recording.string()}),
            "pw-client-record", true};
  return {realtime_client({"pw-record", "--latency", latency, "--rate", "48000", "--channels", "2", "--format", "s16",
                           recording.string()}),
          "pw-record"};
}

// What went wrong when a recorder was stopped with SIGINT ("" when nothing): the exit, and
// for xensnd-pw-client what it said.
std::string recorder_problem(const ClientCommand& command, const ExitStatus& status, const SoftwareXen& xen) {
  if (status.exited && !status.timed_out && (!command.exit_code_counts || status.code == 0)) return "";
  std::string problem = command.name + ": " + status.describe();
  std::error_code ignored;
  if (const fs::path log = xen.logs() / (command.name + ".err"); fs::exists(log, ignored)) {
    const std::vector<uint8_t> text = read_file(log);
    problem += "; it said: " + std::string(text.begin(), text.end());
  }
  return problem;
}

// The silence a player's file ends with. PipeWire pauses its sink as soon as the last client
// has left, dropping what the card still holds, as with any card: with the tone's end in
// there, a device running late (seen: 100 ms behind after a 100 ms stall made it underrun)
// lost the tone's last 14 ms. What a server drops at the end of a stream is not the card's.
constexpr double kSilenceAfterTone = 0.5;

std::chrono::milliseconds play_timeout(double seconds) {
  return std::chrono::milliseconds(static_cast<long>(seconds * 1000)) + 20s;
}

class PipeWireOnTop : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    if (sanitizer_build()) GTEST_SKIP() << "PipeWire, like PulseAudio, does not start under a preloaded ASan runtime";
    if (!realtime_clients_allowed()) GTEST_SKIP() << "pw-play and pw-record must run SCHED_FIFO (see realtime_client)";
  }
};

// A player and a recorder at once (pw-play and pw-record; below quantum 256 xensnd-pw-client,
// see play_command), both asking for the quantum under test (node.latency), so
// PipeWire drives the card's sink and source at it. The backend loops what the card plays
// back to its capture stream, so the recording must hold the very tone that was played.
TEST_P(PipeWireOnTop, PlaysAndRecordsWhatItPlaysAtQuantum) {
  const int quantum = GetParam();
  const double seconds = sound_seconds();
  SoftwareXen xen(sound_server_card("0/1=loopback:0/0"));
  PipeWireServer pipewire(xen, /*pulse=*/false);
  const fs::path tone = xen.dir() / "tone.wav", recording = xen.dir() / "recording.wav";
  write_tone(tone, seconds, kSilenceAfterTone);
  const MonitorResolution resolution = monitor_resolution(quantum);
  MachineStallMonitor stalls(resolution.threshold, resolution.interval);
  const ClientCommand recorder_command = record_command(quantum, recording), player = play_command(quantum, tone);
  ChildProcess record(recorder_command.argv, pipewire.client_env(), xen.logs(), recorder_command.name);
  RunResult played = run(player.argv, pipewire.client_env(), xen.logs(), player.name, play_timeout(seconds));
  EXPECT_TRUE(played.status.success()) << failure_text(played) << "\n" << pipewire.logs();
  // The tone reaches the capture stream a device buffer and the loopback's lead later: record
  // on until a second more than was recorded by now has come in.
  std::error_code error;
  const uintmax_t recorded = fs::exists(recording) ? fs::file_size(recording, error) : 0;
  EXPECT_TRUE(wait_for_file_size(recording, recorded + 48000 * 4, 10s))
      << recorder_command.name << " stopped recording\n" << pipewire.logs();
  record.signal(SIGINT);
  const ExitStatus recorder = record.wait(10s);
  EXPECT_EQ(recorder_problem(recorder_command, recorder, xen), "");
  pipewire.stop();

  const StallAllowance allowance(stalls, splicing_stall(quantum));
  expect_whole_tone_played(xen, seconds, allowance);
  // The source the recorder reads follows the sink's clock.
  const StallAllowance follower(stalls, std::min(splicing_stall(quantum), follower_tolerance(quantum)));
  expect_recording_of_playback(xen, recording, seconds, follower, follower_delay(quantum));
  EXPECT_EQ(backend_xruns(xen, allowance), "") << pipewire.logs();
  // The follower's allowance excuses the most (shorter stalls, and frames ahead of them).
  if (const std::string why = too_noisy_to_judge(follower, follower_delay(quantum)); !why.empty()) GTEST_SKIP() << why;
}

INSTANTIATE_TEST_SUITE_P(Quantum, PipeWireOnTop, ::testing::Values(1024, 256, 64),
                         [](const auto& info) { return std::to_string(info.param); });

// Capture alone, so that what playback does cannot explain a fault: a recorder (record_command) of the
// backend's sine through the source node (mmap, PipeWire's default) must be the sine, whole.
class PipeWireCapture : public PipeWireOnTop {};

TEST_P(PipeWireCapture, RecordsTheSourceWholeAtQuantum) {
  const double seconds = sound_seconds();
  SoftwareXen xen(sound_server_card("sine:" + std::to_string(static_cast<int>(kToneHz))));
  PipeWireServer pipewire(xen, /*pulse=*/false);
  const fs::path recording = xen.dir() / "recording.wav";
  const MonitorResolution resolution = monitor_resolution(GetParam());
  MachineStallMonitor stalls(resolution.threshold, resolution.interval);
  const ClientCommand recorder_command = record_command(GetParam(), recording);
  ChildProcess record(recorder_command.argv, pipewire.client_env(), xen.logs(), recorder_command.name);
  // Record until the file holds `seconds` of audio (16-bit stereo, plus the header).
  EXPECT_TRUE(wait_for_file_size(recording, static_cast<uintmax_t>(seconds * 48000) * 4 + 44, play_timeout(seconds)))
      << recorder_command.name << " did not record " << seconds << " s\n" << pipewire.logs();
  record.signal(SIGINT);
  const ExitStatus recorder = record.wait(10s);
  EXPECT_EQ(recorder_problem(recorder_command, recorder, xen), "");
  pipewire.stop();
  const StallAllowance allowance(stalls, splicing_stall(GetParam()));
  expect_recording_of_source(xen, recording, seconds - 0.5, allowance, source_held(GetParam()));
  EXPECT_EQ(backend_xruns(xen, allowance), "") << pipewire.logs();
  if (const std::string why = too_noisy_to_judge(allowance, source_held(GetParam())); !why.empty()) GTEST_SKIP() << why;
}

INSTANTIATE_TEST_SUITE_P(Quantum, PipeWireCapture, ::testing::Values(1024, 64),
                         [](const auto& info) { return std::to_string(info.param); });

// A PulseAudio client asking for 5 ms through PipeWire's pulse server.
TEST(PipeWirePulse, PaplayAtFiveMilliseconds) {
  if (sanitizer_build()) GTEST_SKIP() << "PipeWire does not start under a preloaded ASan runtime";
  if (!realtime_clients_allowed()) GTEST_SKIP() << "the software Xen and the backend must run SCHED_FIFO (realtime_peers)";
  const double seconds = sound_seconds();
  SoftwareXen xen(sound_server_card("silence"));
  PipeWireServer pipewire(xen, /*pulse=*/true);
  const fs::path tone = xen.dir() / "tone.wav";
  write_tone(tone, seconds, kSilenceAfterTone);
  MachineStallMonitor stalls(std::chrono::microseconds(1500));
  // paplay writes from its main loop, which must run every 5 ms: a real-time client, as
  // pw-play is (realtime_client).
  RunResult played = run(realtime_client({"paplay", "--latency-msec=5", tone.string()}), pipewire.client_env(),
                         xen.logs(), "paplay", play_timeout(seconds));
  EXPECT_TRUE(played.status.success()) << failure_text(played) << "\n" << pipewire.logs();
  pipewire.stop();
  // PipeWire runs a 5 ms client at a quantum of 256 frames.
  const StallAllowance allowance(stalls, splicing_stall(256));
  expect_whole_tone_played(xen, seconds, allowance);
  EXPECT_EQ(backend_xruns(xen, allowance), "") << pipewire.logs();
  if (const std::string why = too_noisy_to_judge(allowance); !why.empty()) GTEST_SKIP() << why;
}

// Source and sink in one graph: pw-loopback plays what the card records (the backend's sine)
// back to the card. Every frame the sink plays was captured once: a stale or repeated block
// of the capture ring shows as a splice in the sink's tone.
TEST(PipeWireLoopback, SinkPlaysExactlyWhatTheSourceRecorded) {
  if (sanitizer_build()) GTEST_SKIP() << "PipeWire does not start under a preloaded ASan runtime";
  if (!realtime_clients_allowed()) GTEST_SKIP() << "the software Xen and the backend must run SCHED_FIFO (realtime_peers)";
  const double seconds = sound_seconds();
  SoftwareXen xen(sound_server_card("sine:" + std::to_string(static_cast<int>(kToneHz))));
  PipeWireServer pipewire(xen, /*pulse=*/false);
  MachineStallMonitor stalls(std::chrono::microseconds(1500));
  ChildProcess loopback({"pw-loopback"}, pipewire.client_env(), xen.logs(), "pw-loopback");
  // Let the loop run until the sink has played `seconds` of it (plus the WAV header).
  // (float stereo, PipeWire's choice on this card).
  EXPECT_TRUE(wait_for_played_bytes(xen, static_cast<uintmax_t>(seconds * 48000) * 8, play_timeout(seconds)))
      << "the sink did not play " << seconds << " s\n" << pipewire.logs();
  loopback.signal(SIGTERM);
  const ExitStatus looped = loopback.wait(10s);
  EXPECT_TRUE(looped.exited && !looped.timed_out) << "pw-loopback: " << looped.describe();
  pipewire.stop();
  // PipeWire's default quantum: nothing in this graph asks for less. The source follows the
  // sink's clock.
  const StallAllowance allowance(stalls, std::min(splicing_stall(1024), follower_tolerance(1024)));
  // The sine is in the source from its first frame, so the graph's first cycles play it:
  // PipeWire resyncs a follower when the graph starts (and its timing settles over a few
  // cycles), which spliced the tone one quantum in (2 runs of 19). 100 ms: four quanta.
  expect_whole_tone_played(xen, seconds - 1, allowance, TonePlayed::kBackendSine, std::chrono::milliseconds(100));
  EXPECT_EQ(backend_xruns(xen, allowance), "") << pipewire.logs();
  if (const std::string why = too_noisy_to_judge(allowance); !why.empty()) GTEST_SKIP() << why;
}

}  // namespace
}  // namespace xensnd::e2e
