#include "tests/e2e/sound_servers.h"

#include <signal.h>

#include <fstream>
#include <stdexcept>

namespace xensnd::e2e {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

fs::path shipped_conf_dir() { return XENSND_E2E_CONF_DIR; }

namespace {
constexpr int kRealtimeClientPriority = 40;
}  // namespace

std::vector<std::string> realtime_client(std::vector<std::string> argv) {
  return run_realtime(std::move(argv), kRealtimeClientPriority);
}

bool realtime_clients_allowed() { return realtime_scheduling_allowed(kRealtimeClientPriority); }

std::string log_tail(const std::string& text, size_t bytes) {
  return text.size() <= bytes ? text : "[...]" + text.substr(text.size() - bytes);
}

fs::path private_dir(const fs::path& path) {
  fs::create_directories(path);
  fs::permissions(path, fs::perms::owner_all, fs::perm_options::replace);
  return path;
}

namespace {

// The guest's environment with a private home, configuration and runtime directory.
Environment private_session_env(const SoftwareXen& xen, const fs::path& root) {
  Environment env = xen.guest_env();
  env["HOME"] = private_dir(root / "home").string();
  env["XDG_RUNTIME_DIR"] = private_dir(root / "runtime").string();
  env["XDG_CONFIG_HOME"] = (root / "config").string();
  fs::create_directories(root / "config");
  return env;
}

}  // namespace

PipeWireServer::PipeWireServer(const SoftwareXen& xen, bool pulse) {
  const fs::path root = xen.dir() / "pipewire";
  env_ = private_session_env(xen, root);
  // The user's configuration directory holds the shipped snippet and nothing else: pipewire
  // reads its stock pipewire.conf from /usr/share and then the snippet from here.
  fs::create_directories(root / "config" / "pipewire" / "pipewire.conf.d");
  fs::copy_file(shipped_conf_dir() / "pipewire" / "50-xensnd.conf",
                root / "config" / "pipewire" / "pipewire.conf.d" / "50-xensnd.conf");
  bus_ = std::make_unique<SessionBus>(root / "dbus", xen.logs(), env_);
  env_["DBUS_SESSION_BUS_ADDRESS"] = bus_->address();

  const fs::path runtime = env_["XDG_RUNTIME_DIR"];
  Environment server_env = env_;
  // PIPEWIRE_DEBUG from the test's environment reaches the servers (pipewire and
  // pipewire-pulse), to look into a failing case.
  if (const char* debug = std::getenv("PIPEWIRE_DEBUG")) server_env["PIPEWIRE_DEBUG"] = debug;
  pipewire_ = std::make_unique<ChildProcess>(std::vector<std::string>{"pipewire"}, server_env, xen.logs(), "pipewire");
  if (!wait_for_path(runtime / "pipewire-0", 20s))
    throw std::runtime_error("pipewire did not start: " + pipewire_->stderr_text());
  wireplumber_ =
      std::make_unique<ChildProcess>(std::vector<std::string>{"wireplumber"}, env_, xen.logs(), "wireplumber");
  // A client that starts before WirePlumber has taken in the xensnd nodes is told "no node
  // available" and gives up; once it has made them the default sink and source, it links
  // every client to them. WirePlumber creates the "default" metadata; pw-metadata waits for
  // it and then prints every key it holds and every later change.
  ChildProcess defaults({"pw-metadata", "--monitor", "--name", "default"}, env_, xen.logs(), "pw-metadata", true);
  bool sink = false, source = false;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!(sink && source)) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto lines = left.count() > 0 ? defaults.read_lines_until("update:", left) : std::nullopt;
    if (!lines) throw std::runtime_error("WirePlumber did not make xensnd the default sink and source: " +
                                         wireplumber_->stderr_text());
    const std::string& update = lines->back();
    if (update.find("xensnd") == std::string::npos) continue;
    sink = sink || update.find("'default.audio.sink'") != std::string::npos;
    source = source || update.find("'default.audio.source'") != std::string::npos;
  }
  if (pulse) {
    private_dir(runtime / "pulse");
    pulse_ = std::make_unique<ChildProcess>(std::vector<std::string>{"pipewire-pulse"}, server_env, xen.logs(),
                                            "pipewire-pulse");
    if (!wait_for_path(runtime / "pulse" / "native", 20s))
      throw std::runtime_error("pipewire-pulse did not start: " + pulse_->stderr_text());
    // Clients must reach this server, never autospawn a PulseAudio of their own.
    env_["PULSE_SERVER"] = "unix:" + (runtime / "pulse" / "native").string();
  }
}

PipeWireServer::~PipeWireServer() { stop(); }

void PipeWireServer::stop() {
  for (auto* server : {&pulse_, &wireplumber_, &pipewire_}) {
    if (!*server) continue;
    (*server)->signal(SIGTERM);
    (*server)->wait(10s);
  }
}

std::string PipeWireServer::logs() const {
  std::string text = "pipewire:\n" + log_tail(pipewire_->stderr_text()) + "\nwireplumber:\n" +
                     log_tail(wireplumber_->stderr_text());
  if (pulse_) text += "\npipewire-pulse:\n" + log_tail(pulse_->stderr_text());
  return text;
}

PulseAudioServer::PulseAudioServer(const SoftwareXen& xen, bool debug_log) {
  const fs::path root = xen.dir() / "pulseaudio";
  env_ = private_session_env(xen, root);
  bus_ = std::make_unique<SessionBus>(root / "dbus", xen.logs(), env_);
  env_["DBUS_SESSION_BUS_ADDRESS"] = bus_->address();
  const fs::path script = root / "default.pa";
  std::ofstream(script) << ".include /etc/pulse/default.pa\n.include "
                        << (shipped_conf_dir() / "pulse" / "xensnd.pa").string() << "\n";
  const fs::path runtime = env_["XDG_RUNTIME_DIR"];
  private_dir(runtime / "pulse");
  pulse_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{"pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "--log-target=stderr",
                               debug_log ? "--log-level=debug" : "--log-level=notice", "-n", "-F",
                               script.string()},
      env_, xen.logs(), "pulseaudio");
  if (!wait_for_path(runtime / "pulse" / "native", 20s))
    throw std::runtime_error("pulseaudio did not start: " + pulse_->stderr_text());
  env_["PULSE_SERVER"] = "unix:" + (runtime / "pulse" / "native").string();
}

PulseAudioServer::~PulseAudioServer() { stop(); }

void PulseAudioServer::stop() {
  if (pulse_) {
    pulse_->signal(SIGTERM);
    pulse_->wait(10s);
  }
}

std::string PulseAudioServer::log() const { return "pulseaudio:\n" + log_tail(pulse_->stderr_text()); }
std::string PulseAudioServer::full_log() const { return pulse_->stderr_text(); }

}  // namespace xensnd::e2e
