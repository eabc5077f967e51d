// A fresh software Xen for one end-to-end test: the daemon (xensnd-simxen) in a temporary
// run directory, a guest domain, the reference backend in dom0 and a vsnd device attached to
// the guest. Every step waits for the readiness line of the program it started (no sleeps);
// everything is stopped and the directory removed when the object goes away.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/e2e/child_process.h"

namespace xensnd::e2e {

struct SoftwareXenOptions {
  // xl.cfg-style vsnd configuration of device 0.
  std::string vsnd_config = default_vsnd_config();
  std::vector<std::string> backend_args;  // beyond --sink
  bool wav_sink = true;  // false: the backend's null sink (benchmarks)
  bool attach = true;
  // Run the software Xen and the backend SCHED_FIFO, as a hypervisor and a backend domain
  // on their own CPUs are not delayed by the guest's load. For cases that test the guest
  // under load at a few milliseconds of latency (sound servers), not the peers' scheduling.
  // The constructor throws when this process may not (realtime_scheduling_allowed).
  bool realtime_peers = false;
  // Keep the run directory (the backend's WAVs, what clients record, every log) in memory
  // (/dev/shm when there is one). A file on disk is written back 30 s after it was first
  // dirtied (vm.dirty_expire_centisecs), and a write waiting on that is a pause of the
  // writer no stall monitor sees: pw-record lost a quantum 30.03 s into a capture at
  // quantum 64, with no stall within 600 ms. For cases whose clients write at 1.3 ms cycles.
  bool in_memory = false;
  static std::string default_vsnd_config();
};

struct DomainCounts {
  uint64_t xs_connections = 0, xs_watches = 0, grants = 0, mappings = 0, ports = 0,
           hypervisor_clients = 0;
  uint64_t xs_requests = 0;  // XenStore requests the domain sent, since it was introduced
  std::string text;  // the daemon's reply
};

// Whether this process may start programs SCHED_FIFO (root, CAP_SYS_NICE or RLIMIT_RTPRIO).
bool realtime_scheduling_allowed(int priority);
// argv run through chrt at SCHED_FIFO `priority`.
std::vector<std::string> run_realtime(std::vector<std::string> argv, int priority);

class SoftwareXen {
 public:
  static constexpr unsigned kGuest = 1;

  explicit SoftwareXen(const SoftwareXenOptions& options = {});
  ~SoftwareXen();
  SoftwareXen(const SoftwareXen&) = delete;
  SoftwareXen& operator=(const SoftwareXen&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  const std::filesystem::path& logs() const { return logs_; }
  // The guest's environment with ALSA pointed at the build tree.
  Environment guest_env() const;
  const Environment& dom0_env() const { return dom0_env_; }

  // The WAV the backend wrote for playback stream pcm/stream on its open number `open`.
  std::filesystem::path sink_wav(unsigned pcm = 0, unsigned stream = 0, unsigned open = 1) const;
  DomainCounts counts(unsigned domid) const;

  ChildProcess& backend() { return *backend_; }
  void kill_backend();
  // Starts a new backend (after kill_backend), with the options the first one had.
  void restart_backend();
  // Runs xensnd-toolstack with dom0's environment (e.g. {"vsnd-detach", ...}).
  RunResult toolstack(const std::vector<std::string>& args, std::chrono::milliseconds timeout) const;

  // Runs a program in the guest.
  RunResult run_guest(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                      const std::string& name, std::optional<uid_t> run_as = std::nullopt) const;
  std::unique_ptr<ChildProcess> start_guest(const std::vector<std::string>& argv, const std::string& name,
                                            bool pipe_stdout = false) const;

 private:
  std::filesystem::path dir_, logs_, sink_dir_;
  // The daemon's or backend's argv as options.realtime_peers says.
  std::vector<std::string> peer_argv(std::vector<std::string> argv) const;

  std::unique_ptr<ChildProcess> daemon_;
  std::unique_ptr<ChildProcess> backend_;
  Environment dom0_env_, guest_xen_env_;
  std::vector<std::string> backend_argv_;
  bool realtime_peers_ = false;
  unsigned backend_starts_ = 0;
  void start_backend();
};

// True in the ASan/UBSan build, where programs we did not build get the sanitizer runtimes
// preloaded.
bool sanitizer_build();

// Paths of the build tree (set by CMake).
std::filesystem::path build_alsa_config();
std::filesystem::path scenario_tool();
std::filesystem::path poll_client();
std::filesystem::path multi_pcm_client();

// Blocks (inotify on `dir`, with a deadline) until `ready()` holds; checked at every change
// in `dir` and once at the start.
bool wait_in_directory(const std::filesystem::path& dir, std::chrono::milliseconds timeout,
                       const std::function<bool()>& ready);
// Blocks (inotify, with a deadline) until `path` exists (any file type).
bool wait_for_path(const std::filesystem::path& path, std::chrono::milliseconds timeout);
// Blocks (inotify, with a deadline) until `path` exists and holds more than `min_bytes`.
bool wait_for_file_size(const std::filesystem::path& path, uintmax_t min_bytes,
                        std::chrono::milliseconds timeout);
// Blocks (inotify on `dir`, with a deadline) until `ready()` holds; checked at every change
// of a file in `dir`.
bool wait_in_directory(const std::filesystem::path& dir, std::chrono::milliseconds timeout,
                       const std::function<bool()>& ready);

}  // namespace xensnd::e2e
