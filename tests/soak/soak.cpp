// xensnd-soak: hours of full duplex through the plugin on a software Xen, with the events a
// long-running guest sees, and a verdict on whether anything grows.
//
//   xensnd-soak [--duration SECONDS] [--seed N] [--report-every SECONDS]
//
// One long-lived client (xensnd-soak-client) plays and records through `xensnd` against the
// reference backend, whose capture stream is a loopback of its playback stream. Cycles are
// drawn at random: full duplex (with or without a pause, with or without a forced underrun),
// open/close bursts, a backend killed mid-stream and restarted, and a flood of rewrites of the
// backend's `state` node while audio runs. After every cycle:
//   - playback is bit-exact: the backend's WAV of that open holds the run's leading silence,
//     then exactly the frames played
//     (across pauses and underruns); duplex cycles without xruns find the clip in the capture;
//   - the guest holds no grant and no event channel, the backend domain no mapping;
//   - the client's and the backend's resident memory, open file descriptors and threads are
//     sampled.
// At the end it prints the samples and a verdict: file descriptors and threads identical at
// every idle point (per backend process for the backend), resident memory of the last quarter
// of the run within 2 MiB of the first quarter's. Exit status 0 only when every cycle passed
// and nothing grew.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
extern "C" {
#include <xenstore.h>
}

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "plugin/frame_ledger.h"
#include "tests/e2e/audio_data.h"
#include "tests/e2e/software_xen.h"

namespace {

namespace fs = std::filesystem;
using namespace xensnd::e2e;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr unsigned kRate = 48000, kFrameBytes = 4;
constexpr long kKiB = 1024;

struct ProcessSample {
  long rss_kib = -1, fds = -1, threads = -1;
};

ProcessSample sample_process(pid_t pid) {
  ProcessSample s;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kib = std::atol(line.c_str() + 6);
    if (line.rfind("Threads:", 0) == 0) s.threads = std::atol(line.c_str() + 8);
  }
  std::error_code error;
  s.fds = 0;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", error);
       !error && it != fs::directory_iterator(); it.increment(error))
    ++s.fds;
  return s;
}

struct Sample {
  double t = 0;
  ProcessSample client, backend;
  unsigned backend_generation = 0;
};

struct Options {
  long duration_s = 3600;
  uint32_t seed = 1;
  long report_every_s = 60;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> long {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "xensnd-soak: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      char* end = nullptr;
      const long v = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || v <= 0) {
        std::fprintf(stderr, "xensnd-soak: %s needs a positive number, not '%s'\n", a.c_str(), argv[i]);
        std::exit(2);
      }
      return v;
    };
    if (a == "--duration") o.duration_s = value();
    else if (a == "--seed") o.seed = static_cast<uint32_t>(value());
    else if (a == "--report-every") o.report_every_s = value();
    else {
      std::fprintf(stderr, "usage: xensnd-soak [--duration SECONDS] [--seed N] [--report-every SECONDS]\n");
      std::exit(2);
    }
  }
  return o;
}

// The only playback WAV the backend wrote since the last call (each one is removed once
// checked, so a restarted backend's open numbers cannot collide with old files).
std::optional<fs::path> take_sink_wav(const SoftwareXen& xen) {
  std::optional<fs::path> found;
  for (const auto& entry : fs::directory_iterator(xen.sink_wav().parent_path()))
    if (entry.path().filename().string().rfind("vsnd-1-0-0-0-", 0) == 0) found = entry.path();
  return found;
}

void remove_sink_wavs(const SoftwareXen& xen) {
  for (const auto& entry : fs::directory_iterator(xen.sink_wav().parent_path())) fs::remove(entry.path());
}

// Rewrites the backend's state node with its own value while it is Connected, from a dom0
// connection, a few thousand times a second until stopped: the watch-event flood of a backend
// that rewrites its state in a loop, which the frontend must absorb without losing audio.
// Each rewrite is a transaction that reads the state first, so it never puts back a state
// the backend has just left; the pacing leaves room for the backend's and the frontend's own
// transactions (the store serialises them all).
class StateFlood {
 public:
  explicit StateFlood(const SoftwareXen& xen) {
    ::setenv("XENSTORED_PATH", xen.dom0_env().at("XENSTORED_PATH").c_str(), 1);
    thread_ = std::thread([this] {
      xs_handle* xs = xs_open(0);
      if (xs == nullptr) return;
      const char* node = "/local/domain/0/backend/vsnd/1/0/state";
      while (!stop_) {
        const xs_transaction_t t = xs_transaction_start(xs);
        if (t == XBT_NULL) break;
        unsigned len = 0;
        char* value = static_cast<char*>(xs_read(xs, t, node, &len));
        const bool connected = value != nullptr && std::string(value, len) == "4";
        free(value);
        if (connected) xs_write(xs, t, node, "4", 1);
        if (xs_transaction_end(xs, t, false) && connected) ++writes_;
        std::this_thread::sleep_for(200us);  // pacing, see above
      }
      xs_close(xs);
    });
  }
  ~StateFlood() {
    stop_ = true;
    thread_.join();
  }
  long writes() const { return writes_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<long> writes_{0};
  std::thread thread_;
};

class Soak {
 public:
  explicit Soak(const Options& o) : options_(o), rng_(o.seed), xen_(xen_options()) {
    fifo_ = xen_.dir() / "commands";
    if (::mkfifo(fifo_.c_str(), 0600) != 0) throw std::runtime_error("mkfifo failed");
    client_ = xen_.start_guest({XENSND_SOAK_CLIENT, fifo_.string()}, "soak-client", /*pipe_stdout=*/true);
    // Read-write: the open does not wait for the client to open its end. Close-on-exec: a
    // restarted backend must not inherit it.
    commands_fd_ = ::open(fifo_.c_str(), O_RDWR | O_CLOEXEC);
    if (commands_fd_ < 0) throw std::runtime_error("cannot open the command FIFO");
    if (!client_->read_lines_until("ready", 10s)) throw std::runtime_error("the soak client did not start");
  }

  ~Soak() {
    if (commands_fd_ >= 0) ::close(commands_fd_);
  }
  Soak(const Soak&) = delete;
  Soak& operator=(const Soak&) = delete;

  int run() {
    const auto start = Clock::now();
    const auto end = start + std::chrono::seconds(options_.duration_s);
    auto next_report = start;
    // The first sample comes after the first cycle: alsa-lib's configuration, loaded by the
    // first open, stays for the life of the process.
    while (Clock::now() < end) {
      if (stop_requested()) {
        std::printf("stopped by a signal after %.0f s\n", std::chrono::duration<double>(Clock::now() - start).count());
        break;
      }
      cycle();
      take_sample(start);
      if (Clock::now() >= next_report) {
        print_sample(samples_.back());
        next_report += std::chrono::seconds(options_.report_every_s);
      }
    }
    send("quit");
    client_->wait(10s);
    return verdict(std::chrono::duration<double>(Clock::now() - start).count());
  }

 private:
  // SIGINT, SIGTERM and SIGHUP are blocked (main()); one that arrived ends the run after the
  // current cycle, with the verdict, and the software Xen torn down by the destructors.
  static bool stop_requested() {
    sigset_t stops = stop_signals();
    const timespec now{0, 0};
    return ::sigtimedwait(&stops, nullptr, &now) > 0;
  }

 public:
  static sigset_t stop_signals() {
    sigset_t set;
    ::sigemptyset(&set);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaddset(&set, sig);
    return set;
  }

 private:
  static SoftwareXenOptions xen_options() {
    SoftwareXenOptions o;
    o.backend_args = {"--source", "0/1=loopback:0/0", "-q"};
    return o;
  }

  void send(const std::string& command) {
    const std::string line = command + "\n";
    if (::write(commands_fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      throw std::runtime_error("cannot write to the command FIFO");
  }

  std::string ask(const std::string& command, std::chrono::milliseconds timeout) {
    send(command);
    auto lines = client_->read_lines_until("", timeout);
    if (!lines || lines->empty()) return "error no answer from the client within the deadline";
    return lines->back();
  }

  void fail(const std::string& what) {
    ++failures_;
    std::printf("FAIL cycle %ld (%s): %s\n", cycles_, kind_.c_str(), what.c_str());
    std::fflush(stdout);
  }

  // Playback of the last duplex cycle was bit-exact.
  // `restarts`: the clip's frames written when a playback run restarted after an underrun;
  // each run starts with its own leading silence.
  void check_sink(const std::vector<uint8_t>& clip, const std::vector<size_t>& restarts) {
    auto path = take_sink_wav(xen_);
    if (!path) return fail("the backend wrote no WAV");
    auto wav = read_wav(*path);
    remove_sink_wavs(xen_);
    if (!wav) return fail("unreadable WAV " + path->string());
    // Each run starts with the pointer's lead as silence (plugin/README.md): exactly that
    // much before the clip and before what followed each restart.
    const size_t frame = size_t{wav->channels} * ((wav->bits_per_sample + 7) / 8);
    const size_t lead = xensnd::plugin::FrameLedger::transport_lead_frames(wav->rate) * frame;
    std::vector<uint8_t> want(lead, 0);
    size_t from = 0;
    for (size_t at : restarts) {
      const size_t to = std::min(at * frame, clip.size());
      want.insert(want.end(), clip.begin() + static_cast<long>(from), clip.begin() + static_cast<long>(to));
      want.insert(want.end(), lead, 0);
      from = to;
    }
    want.insert(want.end(), clip.begin() + static_cast<long>(from), clip.end());
    const std::vector<uint8_t> head = slice(wav->data, 0, want.size());
    if (head != want) return fail("playback not bit-exact: " + describe_difference(head, want));
    for (size_t i = want.size(); i < wav->data.size(); ++i)
      if (wav->data[i] != 0) return fail("non-silent data after the clip");
    ++bit_exact_;
  }

  void check_idle_counts() {
    const DomainCounts guest = xen_.counts(SoftwareXen::kGuest), dom0 = xen_.counts(0);
    if (guest.grants != 0 || guest.ports != 0) fail("guest holds grants or ports between cycles: " + guest.text);
    if (dom0.mappings != 0) fail("the backend holds mappings between cycles: " + dom0.text);
  }

  void duplex_cycle(bool pause, bool xrun, bool flood) {
    const uint32_t seed = static_cast<uint32_t>(rng_());
    const size_t frames = kRate / 2 + rng_() % kRate;  // 0.5 to 1.5 s
    const long pause_ms = pause ? 50 + static_cast<long>(rng_() % 250) : 0;
    std::string answer;
    long flood_writes = 0;
    {
      std::optional<StateFlood> flooding;
      if (flood) flooding.emplace(xen_);
      answer = ask("duplex " + std::to_string(seed) + " " + std::to_string(frames) + " " + std::to_string(pause_ms) +
                       " " + std::to_string(xrun ? 1 : 0),
                   40s);
      if (flooding) flood_writes = flooding->writes();
    }
    kind_ = flood ? "duplex+state-flood" : pause ? "duplex+pause" : xrun ? "duplex+xrun" : "duplex";
    ++counts_[kind_];
    if (flood) state_writes_ += flood_writes;
    if (answer.rfind("ok duplex", 0) != 0) {
      remove_sink_wavs(xen_);  // the next cycle must not be checked against this one's WAV
      return fail("duplex: " + answer);
    }
    underruns_ += std::atol(answer.c_str() + answer.find("underruns=") + 10);
    overruns_ += std::atol(answer.c_str() + answer.find("overruns=") + 9);
    if (answer.find("loopback_checked=1") != std::string::npos) {
      ++loopback_checked_;
      if (answer.find("loopback_ok=1") == std::string::npos) fail("the captured loopback lacks the played clip");
    }
    std::vector<size_t> restarts;
    const size_t listed_at = answer.find("restarts=") + 9;
    std::istringstream listed(answer.substr(listed_at, answer.find(' ', listed_at) - listed_at));
    for (std::string at; std::getline(listed, at, ',') && at[0] != '-';) restarts.push_back(std::stoul(at));
    check_sink(pattern_bytes(frames * kFrameBytes, seed), restarts);
  }

  void backend_restart_cycle() {
    kind_ = "backend-killed";
    ++counts_[kind_];
    const uint32_t seed = static_cast<uint32_t>(rng_());
    send("duplex " + std::to_string(seed) + " " + std::to_string(4 * kRate) + " 0 0");
    // Kill it once it is playing (a quarter of a second reached its WAV).
    const bool playing = wait_in_directory(xen_.sink_wav().parent_path(), 20s, [&] {
      std::error_code error;
      auto wav = take_sink_wav(xen_);
      return wav && fs::file_size(*wav, error) > kRate * kFrameBytes / 4 && !error;
    });
    if (!playing) fail("playback did not start before the kill");
    xen_.kill_backend();
    auto lines = client_->read_lines_until("", 15s);
    const std::string answer = lines && !lines->empty() ? lines->back() : "no answer within 15 s";
    if (answer.rfind("disconnected", 0) != 0) fail("after the backend was killed the client said: " + answer);
    remove_sink_wavs(xen_);
    xen_.restart_backend();
    ++backend_generation_;
  }

  void cycle() {
    ++cycles_;
    const unsigned pick = rng_() % 100;
    if (pick < 30) duplex_cycle(false, false, false);
    else if (pick < 45) duplex_cycle(true, false, false);
    else if (pick < 60) duplex_cycle(false, true, false);
    else if (pick < 75) duplex_cycle(false, false, true);
    else if (pick < 92) {
      kind_ = "open-close x10";
      ++counts_[kind_];
      const std::string answer = ask("openclose 10", 60s);
      if (answer != "ok openclose") fail("open/close: " + answer);
      remove_sink_wavs(xen_);
    } else {
      backend_restart_cycle();
    }
    check_idle_counts();
  }

  void take_sample(Clock::time_point start) {
    Sample s;
    s.t = std::chrono::duration<double>(Clock::now() - start).count();
    s.client = sample_process(client_->pid());
    s.backend = sample_process(xen_.backend().pid());
    s.backend_generation = backend_generation_;
    samples_.push_back(s);
  }

  static void print_sample(const Sample& s) {
    std::printf("t=%7.0fs  client rss=%6ld KiB fds=%3ld threads=%2ld   backend#%u rss=%6ld KiB fds=%3ld threads=%2ld\n",
                s.t, s.client.rss_kib, s.client.fds, s.client.threads, s.backend_generation + 1, s.backend.rss_kib,
                s.backend.fds, s.backend.threads);
    std::fflush(stdout);
  }

  // Resident memory of the last quarter within 2 MiB of the first quarter's (after the first
  // two samples, which include start-up allocations).
  static bool rss_flat(const std::vector<long>& rss, long* first, long* last) {
    if (rss.size() < 8) {
      *first = *last = rss.empty() ? 0 : rss.back();
      return true;
    }
    const size_t q = (rss.size() - 2) / 4;
    *first = *std::max_element(rss.begin() + 2, rss.begin() + 2 + static_cast<long>(q));
    *last = *std::max_element(rss.end() - static_cast<long>(q), rss.end());
    return *last <= *first + 2 * kKiB;  // the allocator settles within minutes (+2.4 MiB in the first 5 of 60)
  }

  int verdict(double seconds) {
    std::printf("\n== xensnd soak: %.0f s, %ld cycles, seed %u\n", seconds, cycles_, options_.seed);
    for (const auto& [kind, n] : counts_) std::printf("  %-22s %ld\n", kind.c_str(), n);
    std::printf("  bit-exact playback cycles %ld, loopback captures checked %ld, underruns %ld, overruns %ld, "
                "state rewrites %ld\n",
                bit_exact_, loopback_checked_, underruns_, overruns_, state_writes_);
    std::printf("samples (%zu, every ~10%% shown):\n", samples_.size());
    const size_t step = std::max<size_t>(1, samples_.size() / 10);
    for (size_t i = 0; i < samples_.size(); i += step) print_sample(samples_[i]);
    print_sample(samples_.back());

    bool flat = true;
    std::vector<long> client_rss;
    for (const Sample& s : samples_) {
      client_rss.push_back(s.client.rss_kib);
      if (s.client.fds != samples_.front().client.fds || s.client.threads != samples_.front().client.threads) {
        std::printf("GROWTH client at t=%.0fs: fds %ld threads %ld (first: %ld, %ld)\n", s.t, s.client.fds,
                    s.client.threads, samples_.front().client.fds, samples_.front().client.threads);
        flat = false;
        break;
      }
    }
    long first = 0, last = 0;
    if (!rss_flat(client_rss, &first, &last)) {
      std::printf("GROWTH client resident memory: %ld KiB in the first quarter, %ld KiB in the last\n", first, last);
      flat = false;
    }
    std::printf("client rss: first quarter max %ld KiB, last quarter max %ld KiB\n", first, last);
    // The backend, per process (a restart starts a fresh one).
    std::map<unsigned, std::vector<const Sample*>> generations;
    for (const Sample& s : samples_) generations[s.backend_generation].push_back(&s);
    for (auto [generation, list] : generations) {
      // A restarted backend's first sample comes before it served a card: its libraries open
      // their devices at the first connection. Its baseline is the sample after that.
      if (generation > 0 && list.size() > 1) list.erase(list.begin());
      std::vector<long> rss;
      for (const Sample* s : list) {
        rss.push_back(s->backend.rss_kib);
        if (s->backend.fds != list.front()->backend.fds || s->backend.threads != list.front()->backend.threads) {
          std::printf("GROWTH backend#%u at t=%.0fs: fds %ld threads %ld (first: %ld, %ld)\n", generation + 1, s->t,
                      s->backend.fds, s->backend.threads, list.front()->backend.fds, list.front()->backend.threads);
          flat = false;
          break;
        }
      }
      long bf = 0, bl = 0;
      if (!rss_flat(rss, &bf, &bl)) {
        std::printf("GROWTH backend#%u resident memory: %ld KiB -> %ld KiB\n", generation + 1, bf, bl);
        flat = false;
      }
    }
    const bool ok = flat && failures_ == 0 && cycles_ > 0;
    std::printf("verdict: %s (%ld failed checks; memory, fds and threads %s)\n", ok ? "PASS" : "FAIL", failures_,
                flat ? "flat" : "GREW");
    return ok ? 0 : 1;
  }

  Options options_;
  std::mt19937 rng_;
  SoftwareXen xen_;
  fs::path fifo_;
  std::unique_ptr<ChildProcess> client_;
  int commands_fd_ = -1;
  std::vector<Sample> samples_;
  std::map<std::string, long> counts_;
  long cycles_ = 0, failures_ = 0, bit_exact_ = 0, loopback_checked_ = 0, underruns_ = 0, overruns_ = 0,
       state_writes_ = 0;
  unsigned backend_generation_ = 0;
  std::string kind_;  // of the current cycle
};

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  const sigset_t stops = Soak::stop_signals();
  ::sigprocmask(SIG_BLOCK, &stops, nullptr);
  try {
    Soak soak(options);
    return soak.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "xensnd-soak: %s\n", e.what());
    return 1;
  }
}
