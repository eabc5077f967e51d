#include "tests/e2e/software_xen.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/inotify.h>
#include <poll.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "sim/common/control_client.h"

namespace xensnd::e2e {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// "export NAME=value" lines (value possibly single-quoted) into `env`.
void parse_exports(const std::vector<std::string>& lines, Environment& env) {
  for (const std::string& line : lines) {
    if (line.rfind("export ", 0) != 0) continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string name = line.substr(7, eq - 7);
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'')
      value = value.substr(1, value.size() - 2);
    env[name] = value;
  }
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

Environment base_env(const fs::path& home) {
  Environment env;
  env["PATH"] = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
  env["HOME"] = home.string();  // no ~/.asoundrc of the user running the tests
  // Debian's 99-pulse.conf makes every ALSA client try PulseAudio; without a runtime
  // directory libpulse makes a new /tmp/pulse-* per client, never removed, and each client
  // after took longer to find a free name (3.3 s with 7,500 of them). Sticky and
  // world-writable, as /tmp: a test's unprivileged user makes its own pulse/ there too.
  const fs::path runtime = home / "runtime";
  fs::create_directories(runtime);
  fs::permissions(runtime, fs::perms::all | fs::perms::sticky_bit);
  env["XDG_RUNTIME_DIR"] = runtime.string();
  env["LANG"] = "C";
#ifdef XENSND_E2E_PRELOAD
  // Sanitizer build: programs we did not build load our instrumented code.
  env["LD_PRELOAD"] = XENSND_E2E_PRELOAD;
  env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=0";
  env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1";
#endif
  return env;
}

}  // namespace

std::string SoftwareXenOptions::default_vsnd_config() {
  return "CARD, short-name=xensnd-e2e, long-name=xensnd end-to-end test card, "
         "sample-rates=8000;11025;16000;22050;32000;44100;48000;96000, "
         "sample-formats=s8;u8;s16_le;s16_be;s24_le;s32_le, channels-min=1, channels-max=8, "
         "buffer-size=262144 | PCM, name=main | STREAM, unique-id=speaker, type=P | "
         "STREAM, unique-id=microphone, type=C";
}

bool sanitizer_build() {
#ifdef XENSND_E2E_PRELOAD
  return true;
#else
  return false;
#endif
}

fs::path build_alsa_config() { return XENSND_E2E_ALSA_CONF; }
fs::path scenario_tool() { return XENSND_E2E_SCENARIO_TOOL; }
fs::path poll_client() { return XENSND_E2E_POLL_CLIENT; }
fs::path multi_pcm_client() { return XENSND_E2E_MULTI_PCM_CLIENT; }

bool realtime_scheduling_allowed(int priority) {
  // Tried on a thread of our own that ends at once: what chrt will be allowed to do.
  bool allowed = false;
  std::thread probe([&] {
    sched_param param{};
    param.sched_priority = priority;
    allowed = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0;
  });
  probe.join();
  return allowed;
}

std::vector<std::string> run_realtime(std::vector<std::string> argv, int priority) {
  argv.insert(argv.begin(), {"chrt", "-f", std::to_string(priority)});
  return argv;
}

namespace {
// Above the guest's real-time clients (sound_servers.cpp) and below PipeWire's data threads
// (88): the guest's own real-time work is not what the peers model.
constexpr int kRealtimePeerPriority = 50;
}  // namespace

SoftwareXen::SoftwareXen(const SoftwareXenOptions& options) {
  if (options.realtime_peers && !realtime_scheduling_allowed(kRealtimePeerPriority))
    throw std::runtime_error("realtime_peers: this process may not start programs SCHED_FIFO");
  realtime_peers_ = options.realtime_peers;
  std::error_code no_shm;
  const fs::path base =
      options.in_memory && fs::is_directory("/dev/shm", no_shm) ? fs::path("/dev/shm") : fs::temp_directory_path();
  std::string templ = (base / "xensnd-e2e-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = templ;
  logs_ = dir_ / "logs";
  sink_dir_ = dir_ / "sink";
  fs::create_directories(logs_);
  fs::create_directories(sink_dir_);

  daemon_ = std::make_unique<ChildProcess>(
      peer_argv({XENSND_E2E_SIMXEN, "--run-dir", (dir_ / "xen").string()}), base_env(dir_), logs_, "simxen",
      /*pipe_stdout=*/true);
  auto ready = daemon_->read_lines_until("# xensnd-simxen ready", 10s);
  if (!ready) throw std::runtime_error("xensnd-simxen did not get ready: " + daemon_->stderr_text());
  dom0_env_ = base_env(dir_);
  parse_exports(*ready, dom0_env_);

  RunResult created = toolstack({"create-domain", "--domid", std::to_string(kGuest), "--name", "guest"}, 10s);
  if (!created.status.success())
    throw std::runtime_error("create-domain failed: " + created.err);
  parse_exports(split_lines(created.out), guest_xen_env_);
  if (!guest_xen_env_.count("XENSTORED_PATH"))
    throw std::runtime_error("create-domain printed no environment: " + created.out);

  std::vector<std::string> backend_argv{XENSND_E2E_BACKEND, "--sink",
                                        options.wav_sink ? "wav:" + sink_dir_.string() : "null"};
  backend_argv.insert(backend_argv.end(), options.backend_args.begin(), options.backend_args.end());
  // Debugging aid: XENSND_E2E_BACKEND_ARGS="--log-level trace" (space-separated).
  if (const char* extra = std::getenv("XENSND_E2E_BACKEND_ARGS")) {
    std::istringstream words(extra);
    for (std::string word; words >> word;) backend_argv.push_back(word);
  }
  backend_argv_ = backend_argv;
  start_backend();

  if (options.attach) {
    RunResult attached = toolstack({"vsnd-attach", "--domid", std::to_string(kGuest), "--devid", "0",
                                    "--config", options.vsnd_config},
                                   10s);
    if (!attached.status.success()) throw std::runtime_error("vsnd-attach failed: " + attached.err);
  }
}

SoftwareXen::~SoftwareXen() {
  if (backend_) {
    backend_->signal(SIGTERM);
    backend_->wait(5s);
  }
  if (daemon_) {
    daemon_->signal(SIGTERM);
    daemon_->wait(5s);
  }
  backend_.reset();
  daemon_.reset();
  // Keep the logs of a failed run when asked to.
  if (std::getenv("XENSND_E2E_KEEP") == nullptr) {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
}

Environment SoftwareXen::guest_env() const {
  Environment env = base_env(dir_);
  for (const auto& [k, v] : guest_xen_env_) env[k] = v;
  env["ALSA_CONFIG_PATH"] = build_alsa_config().string();
  return env;
}

fs::path SoftwareXen::sink_wav(unsigned pcm, unsigned stream, unsigned open) const {
  return sink_dir_ / ("vsnd-" + std::to_string(kGuest) + "-0-" + std::to_string(pcm) + "-" +
                      std::to_string(stream) + "-" + std::to_string(open) + ".wav");
}

DomainCounts SoftwareXen::counts(unsigned domid) const {
  DomainCounts counts;
  counts.text = simxen::control_request(dir_ / "xen" / "control", "counts " + std::to_string(domid));
  std::istringstream in(counts.text);
  for (std::string word; in >> word;) {
    const size_t eq = word.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = word.substr(0, eq);
    const uint64_t value = std::strtoull(word.c_str() + eq + 1, nullptr, 10);
    if (key == "xs_connections") counts.xs_connections = value;
    else if (key == "xs_watches") counts.xs_watches = value;
    else if (key == "xs_requests") counts.xs_requests = value;
    else if (key == "grants") counts.grants = value;
    else if (key == "mappings") counts.mappings = value;
    else if (key == "ports") counts.ports = value;
    else if (key == "hypervisor_clients") counts.hypervisor_clients = value;
  }
  return counts;
}

void SoftwareXen::start_backend() {
  const std::string name = backend_starts_++ == 0 ? "backend" : "backend-" + std::to_string(backend_starts_);
  backend_ = std::make_unique<ChildProcess>(peer_argv(backend_argv_), dom0_env_, logs_, name, true);
  if (!backend_->read_lines_until("xensnd-backend: ready", 10s))
    throw std::runtime_error("xensnd-backend did not get ready: " + backend_->stderr_text());
}

std::vector<std::string> SoftwareXen::peer_argv(std::vector<std::string> argv) const {
  return realtime_peers_ ? run_realtime(std::move(argv), kRealtimePeerPriority) : argv;
}

void SoftwareXen::restart_backend() { start_backend(); }

void SoftwareXen::kill_backend() {
  backend_->signal(SIGKILL);
  backend_->wait(5s);
}

RunResult SoftwareXen::toolstack(const std::vector<std::string>& args, std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv{XENSND_E2E_TOOLSTACK};
  argv.insert(argv.end(), args.begin(), args.end());
  static int counter = 0;
  return run(argv, dom0_env_, logs_, "toolstack-" + std::to_string(++counter), timeout);
}

RunResult SoftwareXen::run_guest(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                                 const std::string& name, std::optional<uid_t> run_as) const {
  return run(argv, guest_env(), logs_, name, timeout, run_as);
}

std::unique_ptr<ChildProcess> SoftwareXen::start_guest(const std::vector<std::string>& argv,
                                                       const std::string& name, bool pipe_stdout) const {
  return std::make_unique<ChildProcess>(argv, guest_env(), logs_, name, pipe_stdout);
}

bool wait_in_directory(const fs::path& dir, std::chrono::milliseconds timeout, const std::function<bool()>& ready) {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return false;
  ::inotify_add_watch(fd, dir.c_str(), IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool ok = false;
  for (;;) {
    if (ready()) {
      ok = true;
      break;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buffer[4096];
    while (::read(fd, buffer, sizeof buffer) > 0) {
    }
  }
  ::close(fd);
  return ok;
}

bool wait_for_path(const fs::path& path, std::chrono::milliseconds timeout) {
  return wait_in_directory(path.parent_path(), timeout, [&] {
    std::error_code error;
    return fs::exists(fs::symlink_status(path, error));
  });
}

bool wait_for_file_size(const fs::path& path, uintmax_t min_bytes, std::chrono::milliseconds timeout) {
  return wait_in_directory(path.parent_path(), timeout, [&] {
    std::error_code error;
    return fs::exists(path, error) && fs::file_size(path, error) > min_bytes && !error;
  });
}

}  // namespace xensnd::e2e
