#include "hypervisor_test_support.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#ifndef SIMXEN_HARNESS_PATH
#error "SIMXEN_HARNESS_PATH must name the hypervisor harness executable"
#endif

namespace simxen::test {
namespace {

// Long enough for a loaded sanitizer build, short enough to fail a hung test.
constexpr int kTimeoutMs = 20000;

bool wait_readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, kTimeoutMs) == 1;
}

std::string read_line(int fd) {
  std::string line;
  char c;
  while (wait_readable(fd) && ::read(fd, &c, 1) == 1) {
    if (c == '\n') return line;
    line += c;
  }
  throw std::runtime_error("the hypervisor harness did not answer");
}

}  // namespace

bool eventually_readable(int fd) { return wait_readable(fd); }

void require(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "[pid %d] requirement failed: %s\n", ::getpid(), what.c_str());
  std::fflush(stderr);
  ::_exit(2);
}

void Link::send(uint32_t value) const {
  require(::write(fd_, &value, sizeof(value)) == sizeof(value), "link send");
}

uint32_t Link::receive() const {
  uint32_t value = 0;
  require(wait_readable(fd_), "link receive timed out");
  require(::read(fd_, &value, sizeof(value)) == sizeof(value), "link receive");
  return value;
}

void Link::send_all(const std::vector<uint32_t>& values) const {
  send(static_cast<uint32_t>(values.size()));
  for (uint32_t v : values) send(v);
}

std::vector<uint32_t> Link::receive_all() const {
  std::vector<uint32_t> values(receive());
  for (auto& v : values) v = receive();
  return values;
}

LinkPair::LinkPair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) throw std::runtime_error("socketpair");
  a = Link(fds[0]);
  b = Link(fds[1]);
}

LinkPair::~LinkPair() {
  ::close(a.fd());
  ::close(b.fd());
}

HypervisorHarness::HypervisorHarness(std::vector<uint16_t> domains) {
  char dir[] = "/tmp/simxen-hv-XXXXXX";
  if (!::mkdtemp(dir)) throw std::runtime_error("mkdtemp");
  run_dir_ = dir;
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) < 0 || ::pipe2(out, O_CLOEXEC) < 0) throw std::runtime_error("pipe");
  std::vector<std::string> args{SIMXEN_HARNESS_PATH, run_dir_};
  for (uint16_t d : domains) args.push_back(std::to_string(d));
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(in[0], STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  to_harness_ = in[1];
  from_harness_ = out[0];
  if (read_line(from_harness_) != "ready") throw std::runtime_error("the hypervisor harness did not start");
}

HypervisorHarness::~HypervisorHarness() {
  ::close(to_harness_);  // end of stdin stops it
  int status = 0;
  ::waitpid(pid_, &status, 0);
  // A sanitizer report in the service, or a crash, fails the test that was running.
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    ADD_FAILURE() << "the hypervisor harness ended with status " << status;
  ::close(from_harness_);
  std::error_code ignored;
  std::filesystem::remove_all(run_dir_, ignored);
}

std::string HypervisorHarness::command(const std::string& line) {
  std::string text = line + "\n";
  if (::write(to_harness_, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    throw std::runtime_error("harness write");
  return read_line(from_harness_);
}

HypervisorCounts HypervisorHarness::counts(uint16_t domid) {
  std::istringstream in(command("counts " + std::to_string(domid)));
  HypervisorCounts c;
  in >> c.grants >> c.mappings >> c.ports >> c.clients;
  return c;
}

void HypervisorHarness::invalidate(uint16_t domid) { command("invalidate " + std::to_string(domid)); }

void HypervisorHarness::remove(uint16_t domid) { command("remove " + std::to_string(domid)); }

std::string HypervisorHarness::xenstored_path(uint16_t domid) const {
  return run_dir_ + "/dom" + std::to_string(domid) + "/socket";
}

DomainProcess::DomainProcess(const HypervisorHarness& harness, uint16_t domid, std::function<void()> body) {
  std::string xenstored = harness.xenstored_path(domid);
  std::fflush(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork");
  if (pid_ == 0) {
    ::setenv("XENSTORED_PATH", xenstored.c_str(), 1);
    body();
    std::fflush(nullptr);
    ::_exit(0);
  }
}

DomainProcess::~DomainProcess() {
  if (status_ == -1 && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

int DomainProcess::wait() {
  if (status_ != -1) return status_;
  int status = 0;
  ::waitpid(pid_, &status, 0);
  status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return status_;
}

}  // namespace simxen::test
