#include "sim_daemon.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "sim/common/control_client.h"

#ifndef SIMXEN_DAEMON
#error "SIMXEN_DAEMON must name the xensnd-simxen executable"
#endif

namespace simtest {

namespace fs = std::filesystem;

namespace {

// Reads one line from `fd`, failing after `timeout_ms` so a broken daemon fails the test
// instead of hanging it.
bool read_line(int fd, std::string* line, int timeout_ms) {
  line->clear();
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char c;
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    if (c == '\n') return true;
    *line += c;
  }
}

}  // namespace

SimDaemon::SimDaemon() {
  char pattern[] = "/tmp/simxen-test-XXXXXX";  // short: unix socket paths are limited
  if (!::mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
  run_dir_ = pattern;
  int out[2];
  if (::pipe(out) < 0) throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::close(out[0]);
    ::close(out[1]);
    ::execl(SIMXEN_DAEMON, SIMXEN_DAEMON, "--run-dir", run_dir_.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  std::string line;
  bool ready = false;
  while (read_line(out[0], &line, 10000)) {
    if (line.rfind("# xensnd-simxen ready", 0) == 0) {
      ready = true;
      break;
    }
    if (line.rfind("export ", 0) == 0) {
      auto equals = line.find('=');
      environment_[line.substr(7, equals - 7)] = line.substr(equals + 1);
    }
  }
  ::close(out[0]);
  if (!ready) {
    stop();
    throw std::runtime_error("xensnd-simxen did not report ready");
  }
}

SimDaemon::~SimDaemon() {
  stop();
  std::error_code ignored;
  fs::remove_all(run_dir_, ignored);
}

int SimDaemon::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  return status;
}

std::string SimDaemon::xenstored_path(unsigned domid) const {
  return (run_dir_ / ("dom" + std::to_string(domid)) / "xenstored").string();
}

std::string SimDaemon::control(const std::string& request) const {
  return simxen::control_request(run_dir_ / "control", request);
}

std::map<std::string, uint64_t> SimDaemon::counts(unsigned domid) const {
  std::string reply = control("counts " + std::to_string(domid));
  if (reply.rfind("ok ", 0) != 0) throw std::runtime_error("counts failed: " + reply);
  std::map<std::string, uint64_t> counts;
  std::istringstream words(reply.substr(3));
  std::string word;
  while (words >> word) {
    auto equals = word.find('=');
    counts[word.substr(0, equals)] = std::stoull(word.substr(equals + 1));
  }
  return counts;
}

ProcessResult run_process(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
  int out[2], err[2];
  if (::pipe(out) < 0 || ::pipe(err) < 0) throw std::runtime_error("pipe failed");
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    for (int fd : {out[0], out[1], err[0], err[1]}) ::close(fd);
    for (const auto& [name, value] : env) ::setenv(name.c_str(), value.c_str(), 1);
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  ProcessResult result;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  bool hung = false;
  while (open_fds > 0) {
    if (::poll(fds, 2, 30000) <= 0) {  // a hung child fails the test rather than hanging it
      hung = true;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !fds[i].revents) continue;
      char buffer[4096];
      ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
        continue;
      }
      (i == 0 ? result.out : result.err).append(buffer, static_cast<size_t>(n));
    }
  }
  for (auto& p : fds)
    if (p.fd >= 0) ::close(p.fd);
  int status = 0;
  if (hung) ::kill(pid, SIGKILL);
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

void use_domain(const SimDaemon& daemon, unsigned domid) {
  ::setenv("XENSTORED_PATH", daemon.xenstored_path(domid).c_str(), 1);
}

}  // namespace simtest
