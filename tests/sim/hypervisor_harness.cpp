// A stand-alone grant-table/event-channel service for the hypervisor tests, so they do not
// depend on the daemon: serves domains given on the command line under a run directory and
// takes commands, one a line, on stdin (answering one line each on stdout):
//   counts D      -> "grants mappings ports clients"
//   invalidate D  -> "ok"      (simulated save/restore)
//   remove D      -> "ok"
// It prints "ready" once its sockets exist, and stops on SIGTERM or at the end of stdin.
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "sim/common/event_loop.h"
#include "sim/hypervisor/hypervisor_service.h"

namespace {

std::string answer(simxen::HypervisorService& service, const std::string& line) {
  std::istringstream in(line);
  std::string verb;
  unsigned domid = 0;
  in >> verb >> domid;
  if (verb == "counts") {
    simxen::HypervisorCounts c = service.counts(static_cast<uint16_t>(domid));
    return std::to_string(c.grants) + " " + std::to_string(c.mappings) + " " + std::to_string(c.ports) + " " +
           std::to_string(c.clients);
  }
  if (verb == "invalidate") {
    service.invalidate_domain(static_cast<uint16_t>(domid));
    return "ok";
  }
  if (verb == "remove") {
    service.remove_domain(static_cast<uint16_t>(domid));
    return "ok";
  }
  return "error unknown command";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s RUN_DIR DOMID...\n", argv[0]);
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC);

  simxen::EventLoop loop;
  simxen::HypervisorService service(loop, argv[1]);
  for (int i = 2; i < argc; ++i) service.add_domain(static_cast<uint16_t>(std::atoi(argv[i])));
  loop.add(signal_fd, [&] { loop.stop(); });
  std::string pending;
  loop.add(STDIN_FILENO, [&] {
    char buffer[256];
    ssize_t n = ::read(STDIN_FILENO, buffer, sizeof(buffer));
    if (n <= 0) {
      loop.stop();
      return;
    }
    pending.append(buffer, static_cast<size_t>(n));
    for (size_t end; (end = pending.find('\n')) != std::string::npos;) {
      std::string reply = answer(service, pending.substr(0, end)) + "\n";
      pending.erase(0, end + 1);
      [[maybe_unused]] ssize_t w = ::write(STDOUT_FILENO, reply.data(), reply.size());
    }
  });
  std::string ready = "ready\n";
  [[maybe_unused]] ssize_t w = ::write(STDOUT_FILENO, ready.data(), ready.size());
  loop.run();
  loop.remove(signal_fd);
  loop.remove(STDIN_FILENO);
  ::close(signal_fd);
  return 0;
}
