#include "backend_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#ifndef XENSND_BACKEND_EXE
#error "XENSND_BACKEND_EXE must name the xensnd-backend executable"
#endif

namespace backendtest {
namespace {

bool read_line(int fd, std::string& line, int timeout_ms) {
  line.clear();
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return false;
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    if (c == '\n') return true;
    line += c;
  }
}

int decode(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status); }

}  // namespace

BackendProcess::BackendProcess(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                               const std::string& log_path)
    : log_path_(log_path) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) < 0) throw std::runtime_error("pipe failed");
  pid_ = fork();
  if (pid_ == 0) {
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    dup2(out[1], STDOUT_FILENO);
    int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log >= 0) dup2(log, STDERR_FILENO);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(XENSND_BACKEND_EXE));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(XENSND_BACKEND_EXE, argv.data());
    _exit(127);
  }
  close(out[1]);
  pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  std::string line;
  bool ready = false;
  while (read_line(out[0], line, 10000)) {
    if (line.rfind("xensnd-backend: ready", 0) == 0) {
      ready = true;
      break;
    }
  }
  close(out[0]);
  if (!ready) {
    int code = stop();
    throw std::runtime_error("xensnd-backend did not report ready (exit " + std::to_string(code) + "): " + log());
  }
}

BackendProcess::~BackendProcess() {
  stop();
  if (pidfd_ >= 0) close(pidfd_);
}

int BackendProcess::stop() {
  if (status_) return *status_;
  kill(pid_, SIGTERM);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  status_ = decode(status);
  return *status_;
}

std::optional<int> BackendProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  pollfd p{pidfd_, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
  int status = 0;
  if (waitpid(pid_, &status, 0) != pid_) return std::nullopt;
  status_ = decode(status);
  return status_;
}

std::string BackendProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace backendtest
