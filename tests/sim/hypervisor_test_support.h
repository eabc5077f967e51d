// Helpers for the hypervisor tests: the service in its own process (HypervisorHarness), and
// client processes placed in a domain by their environment alone (DomainProcess), talking to
// each other over a socketpair (Link). Inside a client process, failures are reported with
// require(), which ends the process with a message; the test checks the exit status.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/hypervisor/hypervisor_service.h"

namespace simxen::test {

// Ends the calling (client) process with status 2 and a message when `ok` is false.
void require(bool ok, const std::string& what);

// Whether `fd` becomes readable within the tests' generous time bound.
bool eventually_readable(int fd);

// One end of a message channel between two client processes (or a client and the test).
class Link {
 public:
  explicit Link(int fd = -1) : fd_(fd) {}
  void send(uint32_t value) const;
  // Waits (up to a generous bound, so a broken peer fails the test instead of hanging it).
  uint32_t receive() const;
  void send_all(const std::vector<uint32_t>& values) const;
  std::vector<uint32_t> receive_all() const;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// A connected pair of links; each process closes the end it does not use.
struct LinkPair {
  LinkPair();
  ~LinkPair();
  Link a, b;
};

class HypervisorHarness {
 public:
  explicit HypervisorHarness(std::vector<uint16_t> domains = {0, 1, 2});
  ~HypervisorHarness();
  const std::string& run_dir() const { return run_dir_; }
  HypervisorCounts counts(uint16_t domid);
  void invalidate(uint16_t domid);
  void remove(uint16_t domid);
  // What a process of `domid` gets as XENSTORED_PATH (the hypervisor socket sits beside it).
  std::string xenstored_path(uint16_t domid) const;

 private:
  std::string command(const std::string& line);
  std::string run_dir_;
  pid_t pid_ = -1;
  int to_harness_ = -1;
  int from_harness_ = -1;
};

// Runs `body` in a forked process whose XENSTORED_PATH names `domid`'s socket.
class DomainProcess {
 public:
  DomainProcess(const HypervisorHarness& harness, uint16_t domid, std::function<void()> body);
  ~DomainProcess();
  // The exit status (0: the body returned normally).
  int wait();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

}  // namespace simxen::test
