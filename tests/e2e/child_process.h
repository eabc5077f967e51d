// A child process for end-to-end tests: started with an exact environment, its stdout and
// stderr captured, waited for with a deadline (never a sleep), killed if still running when
// the object goes away.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace xensnd::e2e {

using Environment = std::map<std::string, std::string>;

struct ExitStatus {
  bool exited = false;  // false: killed by a signal
  int code = -1;        // exit code, or the signal number
  bool timed_out = false;
  std::string describe() const;
  bool success() const { return exited && code == 0 && !timed_out; }
};

class ChildProcess {
 public:
  // Starts argv[0] (searched in PATH) with exactly `env`. stdout goes to a pipe the caller
  // reads with read_line_until (when `pipe_stdout`) or to `log_dir`/<name>.out; stderr always
  // to `log_dir`/<name>.err.
  ChildProcess(const std::vector<std::string>& argv, const Environment& env,
               const std::filesystem::path& log_dir, const std::string& name, bool pipe_stdout = false,
               std::optional<uid_t> run_as = std::nullopt);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Reads stdout lines until one starts with `prefix`; returns every line read, or nullopt
  // when the deadline passed or the process closed stdout first.
  std::optional<std::vector<std::string>> read_lines_until(const std::string& prefix,
                                                           std::chrono::milliseconds timeout);
  // Waits for the exit; on timeout kills the process (SIGKILL) and says so.
  ExitStatus wait(std::chrono::milliseconds timeout);
  bool running();
  void signal(int sig);

  std::string stdout_text() const;
  std::string stderr_text() const;

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string pending_;
  std::filesystem::path out_path_, err_path_;
  std::optional<ExitStatus> status_;
};

// Runs to completion: convenience for short commands.
struct RunResult {
  ExitStatus status;
  std::string out, err;
};
RunResult run(const std::vector<std::string>& argv, const Environment& env,
              const std::filesystem::path& log_dir, const std::string& name,
              std::chrono::milliseconds timeout, std::optional<uid_t> run_as = std::nullopt);

}  // namespace xensnd::e2e
