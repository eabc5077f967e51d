#include "tests/e2e/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace xensnd::e2e {
namespace {

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

ExitStatus decode(int status) {
  ExitStatus result;
  if (WIFEXITED(status)) {
    result.exited = true;
    result.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.code = WTERMSIG(status);
  }
  return result;
}

}  // namespace

std::string ExitStatus::describe() const {
  std::string text = exited ? "exit code " + std::to_string(code) : "killed by signal " + std::to_string(code);
  if (timed_out) text += " (timed out, killed)";
  return text;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const Environment& env,
                           const std::filesystem::path& log_dir, const std::string& name,
                           bool pipe_stdout, std::optional<uid_t> run_as)
    : out_path_(log_dir / (name + ".out")), err_path_(log_dir / (name + ".err")) {
  int pipe_fds[2] = {-1, -1};
  if (pipe_stdout && ::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> env_strings;
  for (const auto& [key, value] : env) env_strings.push_back(key + "=" + value);
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& s : argv_copy) args.push_back(s.data());
  args.push_back(nullptr);
  std::string path_value = env.count("PATH") ? env.at("PATH") : "/usr/bin:/bin";

  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // Child: only async-signal-safe calls from here on.
    int out = pipe_stdout ? pipe_fds[1] : ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = ::open("/dev/null", O_RDONLY);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::setpgid(0, 0);
    if (run_as) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(*run_as) != 0 || ::setuid(*run_as) != 0) ::_exit(126);
    }
    // The child is in its own process group, so a signal to the test's group misses it:
    // it dies with the test instead (after setuid, which clears the setting), also when the
    // test is killed (ctest's timeout, a SIGTERMed soak) and no destructor runs. A parent
    // gone before the prctl is caught by getppid().
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(125);
    // A test that blocks signals for itself (the soak) must not hand the mask on.
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (std::strchr(args[0], '/') != nullptr) {
      ::execve(args[0], args.data(), envp.data());
    } else {
      std::string dirs = path_value;
      size_t start = 0;
      while (start <= dirs.size()) {
        size_t end = dirs.find(':', start);
        if (end == std::string::npos) end = dirs.size();
        std::string candidate = dirs.substr(start, end - start) + "/" + args[0];
        ::execve(candidate.c_str(), args.data(), envp.data());
        start = end + 1;
      }
    }
    ::_exit(127);
  }
  if (pipe_stdout) {
    ::close(pipe_fds[1]);
    stdout_fd_ = pipe_fds[0];
  }
}

ChildProcess::~ChildProcess() {
  if (!status_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

std::optional<std::vector<std::string>> ChildProcess::read_lines_until(const std::string& prefix,
                                                                        std::chrono::milliseconds timeout) {
  std::vector<std::string> lines;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    size_t newline;
    while ((newline = pending_.find('\n')) != std::string::npos) {
      std::string line = pending_.substr(0, newline);
      pending_.erase(0, newline + 1);
      lines.push_back(line);
      if (line.rfind(prefix, 0) == 0) return lines;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || stdout_fd_ < 0) return std::nullopt;
    pollfd p{stdout_fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return std::nullopt;
    char buffer[4096];
    ssize_t n = ::read(stdout_fd_, buffer, sizeof buffer);
    if (n <= 0) return std::nullopt;
    pending_.append(buffer, static_cast<size_t>(n));
  }
}

ExitStatus ChildProcess::wait(std::chrono::milliseconds timeout) {
  if (status_) return *status_;
  // A pidfd becomes readable when the process exits: no polling loop, no sleep.
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      if (pidfd >= 0) ::close(pidfd);
      status_ = decode(status);
      return *status_;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{pidfd, POLLIN, 0};
    if (pidfd < 0 || (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR)) break;
  }
  if (pidfd >= 0) ::close(pidfd);
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  status_ = decode(status);
  status_->timed_out = true;
  return *status_;
}

bool ChildProcess::running() {
  if (status_) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    status_ = decode(status);
    return false;
  }
  return true;
}

void ChildProcess::signal(int sig) {
  if (!status_) ::kill(pid_, sig);
}

std::string ChildProcess::stdout_text() const { return slurp(out_path_) + pending_; }
std::string ChildProcess::stderr_text() const { return slurp(err_path_); }

RunResult run(const std::vector<std::string>& argv, const Environment& env,
              const std::filesystem::path& log_dir, const std::string& name,
              std::chrono::milliseconds timeout, std::optional<uid_t> run_as) {
  ChildProcess child(argv, env, log_dir, name, false, run_as);
  RunResult result;
  result.status = child.wait(timeout);
  result.out = child.stdout_text();
  result.err = child.stderr_text();
  return result;
}

}  // namespace xensnd::e2e
