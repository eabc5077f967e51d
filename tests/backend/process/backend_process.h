// Test helper: xensnd-backend as a child process of the backend domain (dom0 of the software
// Xen), known ready once it printed its ready line. Its stderr (the log) goes to a file the
// test can read.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace backendtest {

class BackendProcess {
 public:
  // Starts the backend with `args` and `env` added to this process' environment; throws if it
  // exits or does not report ready within 10 s.
  BackendProcess(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                 const std::string& log_path);
  ~BackendProcess();  // SIGTERM and reap, if still running
  BackendProcess(const BackendProcess&) = delete;
  BackendProcess& operator=(const BackendProcess&) = delete;

  // SIGTERM, then its exit status (or -signal).
  int stop();
  // Its exit status once it exits by itself within `timeout`; nullopt if it is still running.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  std::string log() const;

 private:
  pid_t pid_ = -1;
  int pidfd_ = -1;
  std::string log_path_;
  std::optional<int> status_;
};

}  // namespace backendtest
