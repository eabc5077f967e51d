// xensnd-bench: the figures of the plugin's performance targets, measured on the software Xen
// with the reference backend paced in real time (48 kHz, stereo, S16_LE, on a stereo S16 card;
// a figure whose period the PCM did not grant exactly says so):
//   - CPU time of `aplay` per second of audio through xensnd, next to the same aplay through
//     ALSA's pulse plugin into a PulseAudio null sink, for period sizes 1024, 256, 128;
//   - the same CPU figures in steady state (a long run minus a 1 s run: opening cancels out);
//   - a 3 s clip at aplay's defaults (a short sound: mostly opening), next to the PulseAudio
//     path and to aplay -D null, the floor every path pays;
//   - system calls per period in steady state (strace -ttt, a window that leaves out opening
//     and closing);
//   - streaming throughput with the backend in free-run mode (a long clip less a short one),
//     next to `aplay -D null`;
//   - open to START answered (all ours) and to the first room the pointer makes;
//   - CPU and wall time of each phase of opening and closing, next to the PulseAudio path;
//   - the XenStore requests of one aplay run (opening and closing), and how many of them are
//     the name hint's, which alsa-lib evaluates at every open of pcm.xensnd;
//   - write-to-consumption latency (snd_pcm_delay after each write), next to the PulseAudio path;
//   - the smallest period size that plays without an xrun;
//   - the plugin's memory: peak RSS of aplay through xensnd minus aplay to `null`.
//
//   xensnd-bench [--seconds N] [--xrun-seconds N] [--skip-pulse] [--skip-strace] [--only SECTION]...
//     (--only, repeatable: run just these sections, e.g. `--only phases --only xenstore` in
//     seconds instead of the whole ~6 minutes; the names are in kSections)
//   xensnd-bench --latency-probe PERIOD   (internal: runs inside the guest environment)
//   xensnd-bench --expand-probe           (internal: likewise)
//   xensnd-bench --phase-probe DEVICE PERIOD   (internal: likewise)
//   xensnd-bench --delay-probe DEVICE PERIOD SECONDS   (internal: likewise)
#include <alsa/asoundlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <signal.h>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/child_process.h"
#include "tests/e2e/software_xen.h"

namespace {

using namespace xensnd::e2e;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
constexpr unsigned kRate = 48000;
constexpr unsigned kFrameBytes = 4;

struct Settings {
  unsigned seconds = 5;
  unsigned xrun_seconds = 30;
  bool pulse = true;
  bool strace = true;
  std::set<std::string> only;  // empty: every section
  bool wants(const std::string& section) const { return only.empty() || only.count(section) != 0; }
};

// The sections, in the order they print, by the names --only takes.
constexpr const char* kSections[] = {"cpu", "steady", "clip", "syscalls", "throughput", "xenstore",
                                     "start", "phases", "latency", "xrun", "memory"};

struct Usage {
  ExitStatus status;
  double cpu_seconds = 0;
  long max_rss_kib = 0;
  double wall_seconds = 0;
  std::string err;
};

// Runs argv to completion and reports its own CPU time and peak RSS (wait4's rusage).
Usage measure(const std::vector<std::string>& argv, const Environment& env, const std::filesystem::path& logs,
              const std::string& name) {
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& s : argv_copy) args.push_back(s.data());
  args.push_back(nullptr);
  const std::string err_path = (logs / (name + ".err")).string();
  const auto started = Clock::now();
  std::fflush(nullptr);  // or the child inherits (and prints) our buffered output
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::freopen(err_path.c_str(), "w", stderr);
    std::freopen("/dev/null", "w", stdout);
    ::execvpe(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  Usage result;
  result.wall_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  result.status.exited = WIFEXITED(status);
  result.status.code = WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status);
  result.cpu_seconds = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec +
                       usage.ru_stime.tv_usec / 1e6;
  result.max_rss_kib = usage.ru_maxrss;
  std::ifstream in(err_path);
  std::stringstream text;
  text << in.rdbuf();
  result.err = text.str();
  return result;
}

// This program, to run its probes inside the guest's environment ("" if it cannot tell).
std::string self_exe() {
  char path[4096] = {};
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  return n > 0 ? std::string(path, static_cast<size_t>(n)) : std::string();
}

// -v: aplay prints the parameters it got (stderr), checked by granted_period().
constexpr const char* kAplayInput = "/dev/zero";

// The throughput section's two clips (a difference of two runs, see there).
constexpr unsigned kThroughputLongSeconds = 1800;  // 346 MB
constexpr unsigned kThroughputShortSeconds = 60;

// The short-sound section: a clip at aplay's defaults, several runs each.
constexpr unsigned kClipSeconds = 3;
constexpr unsigned kClipRuns = 5;

std::vector<std::string> aplay(const std::string& device, unsigned period, unsigned seconds) {
  return {"aplay", "-q", "-v", "-D", device, "-t", "raw", "-f", "S16_LE", "-r", std::to_string(kRate), "-c", "2",
          "--period-size=" + std::to_string(period), "--buffer-size=" + std::to_string(4 * period),
          "-d", std::to_string(seconds), kAplayInput};
}

// The period aplay was granted, from its -v dump ("period_size  : N"): a figure is only
// for the period it names when the PCM gave exactly that one.
std::optional<unsigned> granted_period(const std::string& aplay_err) {
  const auto at = aplay_err.find("period_size");
  if (at == std::string::npos) return std::nullopt;
  const auto colon = aplay_err.find(':', at);
  if (colon == std::string::npos) return std::nullopt;
  return static_cast<unsigned>(std::strtoul(aplay_err.c_str() + colon + 1, nullptr, 10));
}

std::string period_mismatch(unsigned asked, const std::string& aplay_err) {
  const std::optional<unsigned> got = granted_period(aplay_err);
  if (got == asked) return "";
  return " [asked for " + std::to_string(asked) + " frames, got " + (got ? std::to_string(*got) : "?") + "]";
}

// The card every figure is measured on: stereo S16_LE at 44.1/48 kHz, as the toolstack
// typically configures a guest's card. (A card offering up to 8 channels of 32-bit samples
// raises the smallest period a stereo S16 stream may have: ioplug constrains periods in
// bytes only, so the floor is 32 frames of the widest frame — 256 stereo S16 frames.)
SoftwareXenOptions bench_card(std::vector<std::string> backend_args = {}) {
  SoftwareXenOptions options;
  options.vsnd_config =
      "CARD, short-name=bench, long-name=xensnd benchmark card, sample-rates=44100;48000, "
      "sample-formats=s16_le, channels-min=1, channels-max=2 | PCM, name=main | "
      "STREAM, unique-id=speaker, type=P | STREAM, unique-id=microphone, type=C";
  options.wav_sink = false;
  options.backend_args = std::move(backend_args);
  return options;
}

// A PulseAudio daemon with a null sink (paced by its own clock), reached through PULSE_SERVER.
class PulseNullSink {
 public:
  explicit PulseNullSink(const std::filesystem::path& dir) : dir_(dir) {
    std::filesystem::create_directories(dir_);
    Environment env{{"PATH", "/usr/bin:/bin"}, {"HOME", dir_.string()}, {"XDG_RUNTIME_DIR", dir_.string()}};
    const std::string socket = (dir_ / "native").string();
    daemon_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit",
                                 "--log-target=stderr", "-L", "module-null-sink sink_name=bench",
                                 "-L", "module-native-protocol-unix socket=" + socket + " auth-anonymous=1"},
        env, dir_, "pulseaudio");
    ok_ = wait_for_path(socket, 10s);
    server_ = "unix:" + socket;
  }
  ~PulseNullSink() {
    daemon_->signal(SIGTERM);
    daemon_->wait(5s);
  }
  bool ok() const { return ok_; }
  const std::string& server() const { return server_; }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<ChildProcess> daemon_;
  std::string server_;
  bool ok_ = false;
};

// System calls per period in steady state: one run under `strace -f -ttt`, counting the calls
// made between 1.5 s after the first and 0.5 s before the last (opening, the handshake and
// closing stay outside the window, whatever they cost in a given run). `own` leaves out
// aplay's reads of its input (the file it opened last before the PCM's calls begin: the
// `input` path), which are not the plugin's.
struct SyscallRate {
  double all = 0;
  double own = 0;
};
std::optional<SyscallRate> syscalls_per_period(const std::vector<std::string>& argv, const Environment& env,
                                               const std::filesystem::path& logs, unsigned period,
                                               const std::string& input, std::string& note) {
  const auto trace = logs / "strace-window.trace";
  std::vector<std::string> traced{"strace", "-f", "-ttt", "-o", trace.string()};
  traced.insert(traced.end(), argv.begin(), argv.end());
  Usage run = measure(traced, env, logs, "strace-window");
  if (!run.status.success()) return std::nullopt;
  note = period_mismatch(period, run.err);
  period = granted_period(run.err).value_or(period);
  std::ifstream in(trace);
  struct Call {
    double time;
    bool input_read;
  };
  std::vector<Call> calls;  // one per system call ("<... resumed>" halves are not calls)
  std::string input_read_prefix;  // "read(N," once aplay opened its input as N
  const std::string input_open = "\"" + input + "\"";
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string pid, stamp, rest;
    if (!(words >> pid >> stamp >> rest)) continue;
    if (rest.rfind("<...", 0) == 0 || rest.rfind("+++", 0) == 0 || rest.rfind("---", 0) == 0) continue;
    if (rest.rfind("openat(", 0) == 0 && line.find(input_open) != std::string::npos) {
      const auto eq = line.rfind("= ");
      if (eq != std::string::npos) input_read_prefix = "read(" + std::to_string(std::atoi(line.c_str() + eq + 2)) + ",";
    }
    calls.push_back({std::atof(stamp.c_str()), !input_read_prefix.empty() && rest.rfind(input_read_prefix, 0) == 0});
  }
  if (calls.size() < 2) return std::nullopt;
  std::sort(calls.begin(), calls.end(), [](const Call& a, const Call& b) { return a.time < b.time; });
  const double from = calls.front().time + 1.5, to = calls.back().time - 0.5;
  if (to <= from) return std::nullopt;
  const double periods = (to - from) * kRate / period;
  SyscallRate rate;
  for (const Call& c : calls) {
    if (c.time < from || c.time >= to) continue;
    rate.all += 1;
    if (!c.input_read) rate.own += 1;
  }
  rate.all /= periods;
  rate.own /= periods;
  return rate;
}

int latency_probe(unsigned period) {
  const auto t0 = Clock::now();
  snd_pcm_t* pcm = nullptr;
  if (snd_pcm_open(&pcm, "xensnd", SND_PCM_STREAM_PLAYBACK, 0) < 0) return 1;
  if (snd_pcm_set_params(pcm, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED, 2, kRate, 0,
                         period * 4 * 1'000'000ull / kRate) < 0)
    return 1;
  std::vector<uint8_t> zeros(period * 4 * kFrameBytes);
  // Fills the buffer, which reaches the start threshold: returns once START is answered.
  if (snd_pcm_writei(pcm, zeros.data(), period * 4) < 0) return 1;
  const double start_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  // The pointer then moves with the clock from START (between CUR_POS events, never past
  // what the backend took): the first room the application sees. Looked at every 0.2 ms,
  // not with snd_pcm_wait(), which returns once avail reaches avail_min (a period): that
  // measured the first period of room, not the first frame.
  for (;;) {
    snd_pcm_status_t* status;
    snd_pcm_status_alloca(&status);
    snd_pcm_status(pcm, status);
    if (snd_pcm_status_get_avail(status) > 0) break;
    if (Clock::now() - t0 > 10s) return 1;
    std::this_thread::sleep_for(200us);
  }
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  std::printf("%.2f %.2f\n", start_ms, ms);
  snd_pcm_drop(pcm);
  snd_pcm_close(pcm);
  return 0;
}

// Where opening and closing spend their time, in one process as aplay does it: CPU (user +
// system, all threads) and wall time of each phase, printed as "cpu wall" pairs in ms:
// alsa-lib's configuration load (the system's hooks run here: on Debian, alsa-plugins' pulse
// hook, which loads libpulse), snd_pcm_open (for xensnd: loading the plugin, the
// card's configuration from XenStore and the xenbus handshake), the parameters, a buffer
// written (START), and drop + close.
int phase_probe(const std::string& device, unsigned period) {
  auto cpu_ms = [] {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
  };
  std::vector<std::pair<double, double>> phases;
  double cpu = cpu_ms();
  auto wall = Clock::now();
  auto mark = [&] {
    const double now_cpu = cpu_ms();
    const auto now_wall = Clock::now();
    phases.emplace_back(now_cpu - cpu, std::chrono::duration<double, std::milli>(now_wall - wall).count());
    cpu = now_cpu;
    wall = now_wall;
  };
  if (snd_config_update() < 0) return 1;
  mark();
  snd_pcm_t* pcm = nullptr;
  if (snd_pcm_open(&pcm, device.c_str(), SND_PCM_STREAM_PLAYBACK, 0) < 0) return 1;
  mark();
  if (snd_pcm_set_params(pcm, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED, 2, kRate, 0,
                         period * 4 * 1'000'000ull / kRate) < 0)
    return 1;
  mark();
  std::vector<uint8_t> zeros(period * 4 * kFrameBytes);
  if (snd_pcm_writei(pcm, zeros.data(), period * 4) < 0) return 1;  // reaches the start threshold
  mark();
  snd_pcm_drop(pcm);
  snd_pcm_close(pcm);
  mark();
  for (const auto& [c, w] : phases) std::printf("%.2f %.2f ", c, w);
  std::printf("\n");
  return 0;
}

// What expanding pcm.xensnd costs without opening it: alsa-lib evaluates the whole
// definition at every open, its `hint` (the name-hints function, which reads XenStore) too.
int expand_probe() {
  if (snd_config_update() < 0) return 1;
  snd_config_t* expanded = nullptr;
  if (snd_config_search_definition(snd_config, "pcm", "xensnd", &expanded) < 0) return 1;
  snd_config_delete(expanded);
  return 0;
}

// Write-to-consumption latency as the PCM reports it: after each blocking write of a period
// in steady state (from 1 s in), snd_pcm_delay() is how long the frame just written waits
// before the device consumes it (a kernel PCM's definition, and what applications use to
// synchronise). Prints the median and the 95th percentile in ms. Runs with buffer = 4 periods,
// like the aplay runs.
int delay_probe(const std::string& device, unsigned period, unsigned seconds) {
  snd_pcm_t* pcm = nullptr;
  if (snd_pcm_open(&pcm, device.c_str(), SND_PCM_STREAM_PLAYBACK, 0) < 0) return 1;
  snd_pcm_hw_params_t* hw;
  snd_pcm_hw_params_alloca(&hw);
  snd_pcm_uframes_t period_frames = period, buffer_frames = 4 * period;
  if (snd_pcm_hw_params_any(pcm, hw) < 0 || snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED) < 0 ||
      snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S16_LE) < 0 ||
      snd_pcm_hw_params_set_channels(pcm, hw, 2) < 0 || snd_pcm_hw_params_set_rate(pcm, hw, kRate, 0) < 0 ||
      snd_pcm_hw_params_set_period_size_near(pcm, hw, &period_frames, nullptr) < 0 ||
      snd_pcm_hw_params_set_buffer_size_near(pcm, hw, &buffer_frames) < 0 || snd_pcm_hw_params(pcm, hw) < 0)
    return 1;
  std::vector<uint8_t> zeros(period_frames * kFrameBytes);
  std::vector<double> delays_ms;
  const auto start = Clock::now();
  const auto end = start + std::chrono::seconds(seconds);
  while (Clock::now() < end) {
    const snd_pcm_sframes_t n = snd_pcm_writei(pcm, zeros.data(), period_frames);
    if (n == -EPIPE) {
      snd_pcm_prepare(pcm);
      continue;
    }
    if (n < 0) return 1;
    snd_pcm_sframes_t delay = 0;
    if (Clock::now() - start >= 1s && snd_pcm_delay(pcm, &delay) == 0)
      delays_ms.push_back(double(delay) * 1000 / kRate);
  }
  snd_pcm_drop(pcm);
  snd_pcm_close(pcm);
  if (delays_ms.empty()) return 1;
  std::sort(delays_ms.begin(), delays_ms.end());
  std::printf("%.2f %.2f\n", delays_ms[delays_ms.size() / 2], delays_ms[delays_ms.size() * 95 / 100]);
  return 0;
}

void print_row(const std::string& label, const std::string& value) {
  std::printf("  %-58s %s\n", label.c_str(), value.c_str());
}
std::string fixed(double v, int digits = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--expand-probe") return expand_probe();
    if (a == "--phase-probe" && i + 2 < argc) return phase_probe(argv[i + 1], static_cast<unsigned>(std::atoi(argv[i + 2])));
    if (a == "--latency-probe" && i + 1 < argc) return latency_probe(static_cast<unsigned>(std::atoi(argv[++i])));
    if (a == "--delay-probe" && i + 3 < argc)
      return delay_probe(argv[i + 1], static_cast<unsigned>(std::atoi(argv[i + 2])),
                         static_cast<unsigned>(std::atoi(argv[i + 3])));
    if (a == "--seconds" && i + 1 < argc) settings.seconds = static_cast<unsigned>(std::atoi(argv[++i]));
    else if (a == "--xrun-seconds" && i + 1 < argc) settings.xrun_seconds = static_cast<unsigned>(std::atoi(argv[++i]));
    else if (a == "--skip-pulse") settings.pulse = false;
    else if (a == "--skip-strace") settings.strace = false;
    else if (a == "--only" && i + 1 < argc &&
             std::find_if(std::begin(kSections), std::end(kSections), [&](const char* s) { return argv[i + 1] == std::string(s); }) !=
                 std::end(kSections))
      settings.only.insert(argv[++i]);
    else {
      std::fprintf(stderr, "usage: xensnd-bench [--seconds N] [--xrun-seconds N] [--skip-pulse] [--skip-strace] [--only SECTION]...\n"
                           "sections:");
      for (const char* section : kSections) std::fprintf(stderr, " %s", section);
      std::fprintf(stderr, "\n");
      return 2;
    }
  }
  const unsigned periods[] = {1024, 256, 128};
  const std::string self = self_exe();
  std::printf("xensnd benchmark: software Xen, reference backend paced in real time, 48 kHz stereo S16_LE\n");
  std::printf("(aplay runs of %u s; buffer = 4 periods)\n\n", settings.seconds);

  std::string tmpl = (std::filesystem::temp_directory_path() / "xensnd-bench-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return 1;
  const std::filesystem::path work = tmpl;
  std::unique_ptr<PulseNullSink> pulse;
  if (settings.pulse) {
    pulse = std::make_unique<PulseNullSink>(work / "pulse");
    if (!pulse->ok()) {
      std::printf("  (PulseAudio did not start: pulse figures skipped)\n");
      pulse.reset();
    }
  }

  long xensnd_rss = 0;  // the memory section's figure, from the first period's run
  if (settings.wants("cpu")) {
    std::printf("CPU time of aplay per second of audio, whole %u s runs including opening (ms CPU / s audio)\n",
                settings.seconds);
    for (unsigned period : periods) {
      SoftwareXen xen(bench_card());
      Usage x = measure(aplay("xensnd", period, settings.seconds), xen.guest_env(), xen.logs(), "aplay");
      std::string line = x.status.success() ? fixed(x.cpu_seconds * 1000 / settings.seconds) + " xensnd" +
                                                  period_mismatch(period, x.err)
                                            : "xensnd failed: " + x.err;
      if (period == 1024) xensnd_rss = x.max_rss_kib;
      if (pulse) {
        Environment env = xen.guest_env();
        env["PULSE_SERVER"] = pulse->server();
        Usage p = measure(aplay("pulse", period, settings.seconds), env, xen.logs(), "aplay-pulse");
        line += p.status.success() ? ", " + fixed(p.cpu_seconds * 1000 / settings.seconds) + " pulse" +
                                         (x.cpu_seconds > 0 ? " (xensnd/pulse " + fixed(x.cpu_seconds / p.cpu_seconds) + ")" : "")
                                   : ", pulse failed";
      }
      print_row("period " + std::to_string(period) + " frames", line);
    }
  }

  if (settings.wants("steady")) {
    std::printf("\nThe same in steady state: (CPU of a %u s run - CPU of a 1 s run) / %u s; opening and\n"
                "closing cancel out (target: xensnd/pulse <= 0.5)\n",
                settings.seconds + 1, settings.seconds);
    for (unsigned period : periods) {
      SoftwareXen xen(bench_card());
      // The CPU figure, or why there is none.
      struct Steady {
        std::optional<double> ms;
        std::string why;
      };
      auto steady = [&](const std::string& device, const Environment& env) -> Steady {
        Usage shortrun = measure(aplay(device, period, 1), env, xen.logs(), "aplay-short");
        Usage longrun = measure(aplay(device, period, settings.seconds + 1), env, xen.logs(), "aplay-long");
        for (const Usage* run : {&shortrun, &longrun})
          if (!run->status.success()) return {std::nullopt, "aplay " + run->status.describe() + ": " + run->err};
        if (std::string mismatch = period_mismatch(period, longrun.err); !mismatch.empty()) return {std::nullopt, mismatch};
        return {(longrun.cpu_seconds - shortrun.cpu_seconds) * 1000 / settings.seconds, ""};
      };
      const Steady x = steady("xensnd", xen.guest_env());
      std::string line = x.ms ? fixed(*x.ms) + " xensnd" : "xensnd failed: " + x.why;
      if (pulse) {
        Environment env = xen.guest_env();
        env["PULSE_SERVER"] = pulse->server();
        const Steady p = steady("pulse", env);
        line += p.ms ? ", " + fixed(*p.ms) + " pulse" + (x.ms && *p.ms > 0 ? " (xensnd/pulse " + fixed(*x.ms / *p.ms) + ")" : "")
                     : ", pulse failed: " + p.why;
      }
      print_row("period " + std::to_string(period) + " frames", line);
    }
  }

  if (settings.wants("clip")) {
    // Short sounds (desktop events, prompts) are mostly opening and closing. aplay -D null
    // is the floor every path pays: aplay itself, alsa-lib and its configuration (Debian's
    // PulseAudio hook included), no device.
    std::printf("\nA %u s clip at aplay's defaults (48 kHz stereo S16_LE; whole process, ms of CPU, median of %u\n"
                "runs each; target: xensnd/pulse <= 0.5; `null` is the floor every path pays)\n",
                kClipSeconds, kClipRuns);
    SoftwareXen xen(bench_card());
    auto median_cpu_ms = [&](const std::string& device, const Environment& env) -> std::optional<double> {
      std::vector<double> ms;
      for (unsigned run = 0; run < kClipRuns; ++run) {
        Usage u = measure({"aplay", "-q", "-D", device, "-t", "raw", "-f", "S16_LE", "-r", std::to_string(kRate), "-c", "2",
                           "-d", std::to_string(kClipSeconds), kAplayInput},
                          env, xen.logs(), "aplay-clip-" + device);
        if (!u.status.success()) return std::nullopt;
        ms.push_back(u.cpu_seconds * 1000);
      }
      std::sort(ms.begin(), ms.end());
      return ms[ms.size() / 2];
    };
    const std::optional<double> floor = median_cpu_ms("null", xen.guest_env());
    const std::optional<double> x = median_cpu_ms("xensnd", xen.guest_env());
    std::optional<double> p;
    if (pulse) {
      Environment env = xen.guest_env();
      env["PULSE_SERVER"] = pulse->server();
      p = median_cpu_ms("pulse", env);
    }
    print_row("aplay -D null (the floor)", floor ? fixed(*floor) + " ms" : "failed");
    print_row("aplay -D xensnd", x ? fixed(*x) + " ms" : "failed (logs: aplay-clip-xensnd.err)");
    if (pulse) print_row("aplay -D pulse", p ? fixed(*p) + " ms" : "failed");
    if (x && p && *p > 0) {
      print_row("xensnd / pulse (target: <= 0.5)", fixed(*x / *p));
      if (floor && *p > *floor) print_row("the same above the floor", fixed((*x - *floor) / (*p - *floor)));
    }
  }

  if (settings.strace && settings.wants("syscalls")) {
    std::printf("\nSystem calls per period in steady state (strace -f -ttt of a %u s run, calls from 1.5 s after\n"
                "the first to 0.5 s before the last; target: the plugin's own <= 3)\n",
                settings.seconds + 2);
    for (unsigned period : periods) {
      SoftwareXen xen(bench_card());
      std::string note;
      auto rate = syscalls_per_period(aplay("xensnd", period, settings.seconds + 2), xen.guest_env(), xen.logs(), period,
                                      kAplayInput, note);
      print_row("period " + std::to_string(period) + " frames",
                rate ? fixed(rate->all) + " in all, " + fixed(rate->own) + " the plugin's (aplay's reads of its input left out)" + note
                     : "strace failed");
    }
  }

  if (settings.wants("throughput")) {
    // A single run's rate is mostly process start-up and opening (60 s of audio is 11.5 MB,
    // which aplay -D null moves in a few milliseconds), so the rate is that of streaming:
    // the data of a long run less a short one's over the wall time between them, for each.
    std::printf("\nThroughput, backend in free-run mode (MB/s of PCM data, streaming: (MB of a %u s clip -\n"
                "MB of a %u s clip) / (wall time of the first - of the second); start-up cancels out)\n",
                kThroughputLongSeconds, kThroughputShortSeconds);
    {
      SoftwareXen xen(bench_card({"--free-run"}));
      auto streaming_rate = [&](const std::string& device) -> std::optional<double> {
        Usage longer = measure(aplay(device, 4096, kThroughputLongSeconds), xen.guest_env(), xen.logs(), "aplay-free-long-" + device);
        Usage shorter = measure(aplay(device, 4096, kThroughputShortSeconds), xen.guest_env(), xen.logs(), "aplay-free-short-" + device);
        const double seconds = longer.wall_seconds - shorter.wall_seconds;
        if (!longer.status.success() || !shorter.status.success() || seconds <= 0) return std::nullopt;
        return double(kThroughputLongSeconds - kThroughputShortSeconds) * kRate * kFrameBytes / 1e6 / seconds;
      };
      const std::optional<double> x = streaming_rate("xensnd");
      const std::optional<double> n = streaming_rate("null");
      print_row("xensnd (period 4096)", x ? fixed(*x, 1) + " MB/s" : "failed (logs: aplay-free-*-xensnd.err)");
      print_row("aplay -D null (ALSA's own plumbing)", n ? fixed(*n, 1) + " MB/s" : "failed");
      if (x && n) print_row("xensnd / null (target: >= 0.5)", fixed(*x / *n));
    }
  }

  if (settings.wants("xenstore")) {
    std::printf("\nXenStore requests of one aplay run (1 s, backend in free-run mode), each a round trip to\n"
                "XenStore (on real Xen, through the hypervisor to xenstored in dom0)\n");
    {
      SoftwareXen xen(bench_card({"--free-run"}));
      auto requests_of = [&](const std::vector<std::string>& argv, const std::string& name) -> std::optional<uint64_t> {
        const uint64_t before = xen.counts(SoftwareXen::kGuest).xs_requests;
        Usage u = measure(argv, xen.guest_env(), xen.logs(), name);
        if (!u.status.success()) return std::nullopt;
        return xen.counts(SoftwareXen::kGuest).xs_requests - before;
      };
      const std::optional<uint64_t> other = requests_of(aplay("null", 1024, 1), "aplay-null-xenstore");
      const std::optional<uint64_t> whole = requests_of(aplay("xensnd", 1024, 1), "aplay-xenstore");
      const std::optional<uint64_t> hint =
          self.empty() ? std::optional<uint64_t>{} : requests_of({self, "--expand-probe"}, "expand-xenstore");
      print_row("aplay -D null (another PCM: nothing)", other ? std::to_string(*other) + " requests" : "failed");
      print_row("aplay -D xensnd, opening to closing", whole ? std::to_string(*whole) + " requests" : "failed");
      print_row("  of which the name hint (pcm.xensnd expanded)", hint ? std::to_string(*hint) + " requests" : "failed");
    }
  }

  if (settings.wants("start")) {
    std::printf("\nOpen to START and to the first room (snd_pcm_open ... START answered, all of it ours:\n"
                "open, XenStore handshake, parameters, OPEN, the first WRITEs, START; ... the hardware\n"
                "pointer's first move, which follows the clock from START)\n");
    for (unsigned period : {1024u, 128u}) {
      SoftwareXen xen(bench_card());
      if (self.empty()) break;
      RunResult probe = run({self, "--latency-probe", std::to_string(period)}, xen.guest_env(), xen.logs(),
                            "latency", 20s);
      std::istringstream words(probe.out);
      double start_ms = 0, room_ms = 0;
      const bool ok = probe.status.success() && static_cast<bool>(words >> start_ms >> room_ms);
      print_row("period " + std::to_string(period) + " frames",
                ok ? fixed(start_ms) + " ms to START, " + fixed(room_ms) + " ms to the first room"
                   : "failed: " + probe.err);
    }
  }

  if (settings.wants("phases")) {
    std::printf("\nOpening and closing by phase, period 1024 (ms CPU / ms wall, median of 5 runs of a probe that\n"
                "does what aplay does: configuration load, snd_pcm_open, parameters, a buffer written (START),\n"
                "drop + close)\n");
    {
      SoftwareXen xen(bench_card());
      const char* names[] = {"configuration load", "snd_pcm_open", "parameters", "buffer written, START", "drop + close"};
      constexpr size_t kPhases = std::size(names);
      auto probe = [&](const std::string& device, const Environment& env) -> std::optional<std::vector<std::string>> {
        std::vector<std::array<double, 2 * kPhases>> runs;
        for (int run_index = 0; run_index < 5 && !self.empty(); ++run_index) {
          RunResult r = run({self, "--phase-probe", device, "1024"}, env, xen.logs(), "phases-" + device, 20s);
          if (!r.status.success()) return std::nullopt;
          std::istringstream words(r.out);
          std::array<double, 2 * kPhases> figures{};
          for (double& f : figures)
            if (!(words >> f)) return std::nullopt;
          runs.push_back(figures);
        }
        if (runs.empty()) return std::nullopt;
        std::vector<std::string> cells;
        for (size_t i = 0; i < 2 * kPhases; i += 2) {
          std::vector<double> c, w;
          for (const auto& f : runs) {
            c.push_back(f[i]);
            w.push_back(f[i + 1]);
          }
          std::sort(c.begin(), c.end());
          std::sort(w.begin(), w.end());
          cells.push_back(fixed(c[c.size() / 2]) + " / " + fixed(w[w.size() / 2]));
        }
        return cells;
      };
      const auto ours = probe("xensnd", xen.guest_env());
      std::optional<std::vector<std::string>> theirs;
      if (pulse) {
        Environment env = xen.guest_env();
        env["PULSE_SERVER"] = pulse->server();
        theirs = probe("pulse", env);
      }
      for (size_t i = 0; i < kPhases; ++i)
        print_row(names[i], (ours ? (*ours)[i] + " xensnd" : std::string("xensnd failed")) +
                                (pulse ? (theirs ? ", " + (*theirs)[i] + " pulse" : std::string(", pulse failed")) : ""));
    }
  }

  if (settings.wants("latency")) {
    std::printf("\nWrite-to-consumption latency: snd_pcm_delay() right after each blocking write of a period,\n"
                "from 1 s into a %u s run (ms, median / 95th percentile; buffer = 4 periods)\n", settings.seconds);
    for (unsigned period : {1024u, 128u}) {
      SoftwareXen xen(bench_card());
      if (self.empty()) break;
      auto probe = [&](const std::string& device, const Environment& env) {
        RunResult r = run({self, "--delay-probe", device, std::to_string(period), std::to_string(settings.seconds)},
                          env, xen.logs(), "delay-" + device, std::chrono::seconds(settings.seconds + 20));
        if (!r.status.success()) return std::string("failed");
        std::istringstream words(r.out);
        double median = 0, p95 = 0;
        if (!(words >> median >> p95)) return std::string("failed");
        return fixed(median) + " / " + fixed(p95);
      };
      std::string line = probe("xensnd", xen.guest_env()) + " xensnd";
      if (pulse) {
        Environment env = xen.guest_env();
        env["PULSE_SERVER"] = pulse->server();
        line += ", " + probe("pulse", env) + " pulse";
      }
      print_row("period " + std::to_string(period) + " frames (" + fixed(period * 1000.0 / kRate) + " ms)", line);
    }
  }

  if (settings.wants("xrun")) {
    std::printf("\nSmallest period without an xrun over %u s (target: 128 frames)\n", settings.xrun_seconds);
    {
      std::optional<unsigned> smallest;
      for (unsigned period : {256u, 128u, 64u, 32u}) {
        SoftwareXen xen(bench_card());
        Usage x = measure(aplay("xensnd", period, settings.xrun_seconds), xen.guest_env(), xen.logs(), "aplay-xrun");
        const std::string mismatch = period_mismatch(period, x.err);
        const bool clean = x.status.success() && x.err.find("underrun") == std::string::npos && mismatch.empty();
        print_row("period " + std::to_string(period) + " frames", clean ? "no xrun" : "xrun or failure" + mismatch);
        if (!clean) break;
        smallest = period;
      }
      print_row("smallest clean period", smallest ? std::to_string(*smallest) + " frames" : "none");
    }
  }

  if (settings.wants("memory")) {
    std::printf("\nMemory (peak RSS of aplay, period 1024, buffer 4096 frames = 16 KiB; target <= buffer + 2 MiB)\n");
    {
      SoftwareXen xen(bench_card());
      Usage null = measure(aplay("null", 1024, 1), xen.guest_env(), xen.logs(), "aplay-null-rss");
      // Without the CPU section (--only), the same run as its first row.
      if (xensnd_rss == 0)
        xensnd_rss = measure(aplay("xensnd", 1024, settings.seconds), xen.guest_env(), xen.logs(), "aplay").max_rss_kib;
      print_row("aplay -D xensnd", std::to_string(xensnd_rss) + " KiB");
      print_row("aplay -D null", std::to_string(null.max_rss_kib) + " KiB");
      print_row("plugin's share (difference)", std::to_string(xensnd_rss - null.max_rss_kib) + " KiB");
    }
  }
  pulse.reset();
  std::error_code ignored;
  std::filesystem::remove_all(work, ignored);
  return 0;
}
