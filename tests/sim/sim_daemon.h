// Test helper: a private xensnd-simxen in a fresh temporary run directory, started in the
// foreground and known ready once it printed its ready line (no sleeping, no polling for
// files). Stopped with SIGTERM when the object goes away. Usable by every sim test.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace simtest {

class SimDaemon {
 public:
  SimDaemon();   // starts the daemon; throws if it does not report ready
  ~SimDaemon();  // SIGTERM, reaps it, removes the run directory
  SimDaemon(const SimDaemon&) = delete;
  SimDaemon& operator=(const SimDaemon&) = delete;

  const std::filesystem::path& run_dir() const { return run_dir_; }
  std::string xenstored_path(unsigned domid) const;
  // The `export NAME=value` lines it printed, as a map.
  const std::map<std::string, std::string>& environment() const { return environment_; }
  std::string control(const std::string& request) const;
  // "counts <domid>" as numbers: xs_connections, xs_watches, ..., grants, ports.
  std::map<std::string, uint64_t> counts(unsigned domid) const;
  // Stops it now; returns its exit status (as waitpid reports it).
  int stop();

 private:
  std::filesystem::path run_dir_;
  std::map<std::string, std::string> environment_;
  pid_t pid_ = -1;
};

struct ProcessResult {
  int exit_code = -1;  // -1 if killed by a signal
  std::string out, err;
};

// Runs a program with extra environment variables and collects its output.
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env = {});

// Makes libxenstore's xs_open() in this process connect as `domid` of `daemon`.
void use_domain(const SimDaemon& daemon, unsigned domid);

}  // namespace simtest
