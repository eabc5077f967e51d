// Sound servers on top of the plugin, as a Debian 12 desktop runs them, headless, each in a
// private home, runtime directory and session bus, against one SoftwareXen, with the shipped
// configuration (conf/pipewire, conf/pulse) added to the stock one.
//
// PipeWire: pipewire with its stock configuration plus the shipped
// conf/pipewire/50-xensnd.conf (found through the private XDG_CONFIG_HOME), WirePlumber as
// session manager, and optionally pipewire-pulse.
//
// Why WirePlumber rather than static links and no session manager: a session manager is what
// links clients to the default sink and source and what suspends idle nodes, so without it
// pw-play, paplay and pw-loopback are never connected unless the test links ports itself,
// which is not the path users take. WirePlumber is deterministic enough here: the xensnd
// nodes are static (context.objects), the only sink and source, so it has one choice to make.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/e2e/child_process.h"
#include "tests/e2e/session_bus.h"
#include "tests/e2e/software_xen.h"

namespace xensnd::e2e {

// The shipped configuration (conf/ in the source tree).
std::filesystem::path shipped_conf_dir();
// A runtime directory as logind makes it: private to the user (the servers refuse others).
std::filesystem::path private_dir(const std::filesystem::path& path);
// The last `bytes` of a log, for failure messages.
std::string log_tail(const std::string& text, size_t bytes = 4000);

// pw-play and pw-record as real-time clients: `argv` run under SCHED_FIFO (priority 40,
// below PipeWire's data threads at 88). PipeWire makes its own and its clients' data threads
// real-time (module-rt), but pw-play and pw-record read and write their files in their main
// thread, which stays SCHED_OTHER: at a quantum of 64 frames it must run every 1.3 ms, and
// with the other core busy it misses, so the stream drops blocks downstream of the card
// (pw-record) or the graph plays silence (pw-play) — seen alike with every plugin version,
// and gone once the client runs real-time. What the tests measure is the card's path.
std::vector<std::string> realtime_client(std::vector<std::string> argv);
// Whether this process may use SCHED_FIFO at that priority (root, or RLIMIT_RTPRIO).
bool realtime_clients_allowed();

class PipeWireServer {
 public:
  // Starts the session bus, pipewire, WirePlumber and (with `pulse`) pipewire-pulse; returns
  // once every socket clients connect to exists. Throws when a server does not start.
  PipeWireServer(const SoftwareXen& xen, bool pulse);
  ~PipeWireServer();
  PipeWireServer(const PipeWireServer&) = delete;
  PipeWireServer& operator=(const PipeWireServer&) = delete;

  // The environment of a client of this server (pw-play, paplay through pipewire-pulse).
  const Environment& client_env() const { return env_; }
  // Stops the servers (pulse, session manager, pipewire), which closes the xensnd PCMs.
  void stop();
  // The servers' stderr, for failure messages.
  std::string logs() const;

 private:
  Environment env_;
  std::unique_ptr<SessionBus> bus_;
  std::unique_ptr<ChildProcess> pipewire_, wireplumber_, pulse_;
};

// PulseAudio: Debian's /etc/pulse/default.pa, then conf/pulse/xensnd.pa (what including
// /etc/pulse/default.pa.d does once it is installed).
class PulseAudioServer {
 public:
  // Returns once the native protocol socket exists. PulseAudio runs its whole startup script
  // (the xensnd sink and source included) before it serves the first client, so a client
  // connecting after this point finds the sink: no waiting for it.
  // `debug_log`: log at debug level (rewinds are logged only there).
  PulseAudioServer(const SoftwareXen& xen, bool debug_log = false);
  ~PulseAudioServer();
  PulseAudioServer(const PulseAudioServer&) = delete;
  PulseAudioServer& operator=(const PulseAudioServer&) = delete;

  const Environment& client_env() const { return env_; }
  void stop();
  std::string log() const;       // its tail, for failure messages
  std::string full_log() const;  // all of it

 private:
  Environment env_;
  std::unique_ptr<SessionBus> bus_;
  std::unique_ptr<ChildProcess> pulse_;
};

}  // namespace xensnd::e2e
