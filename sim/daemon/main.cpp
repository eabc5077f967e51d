// xensnd-simxen: the software Xen daemon. One process, one event loop, serving every
// simulated domain's XenStore socket and (when built) its grant-table/event-channel socket.
//
//   xensnd-simxen --run-dir DIR [--daemonize] [--pid-file FILE]
//
// Once every socket exists it prints, on stdout, the environment a dom0 process needs and a
// ready line (with --daemonize, the parent prints them and exits only then):
//   export XENSTORED_PATH=DIR/dom0/xenstored
//   export LD_LIBRARY_PATH=<drop-in library dir>
//   # xensnd-simxen ready pid=<pid> control=DIR/control
// SIGTERM or SIGINT stops it; it removes its sockets (and the pid file) on the way out.
#include <fcntl.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "sim/common/control_client.h"
#include "sim/common/event_loop.h"
#include "sim/common/sim_environment.h"
#include "sim/daemon/control_server.h"
#include "sim/xenstored/xenstore_server.h"

#ifdef SIMXEN_HAVE_HYPERVISOR
#include "sim/hypervisor/hypervisor_service.h"
#endif

namespace fs = std::filesystem;

namespace {

struct Options {
  fs::path run_dir;
  bool daemonize = false;
  std::optional<fs::path> pid_file;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "xensnd-simxen: %s\nusage: xensnd-simxen --run-dir DIR [--daemonize] [--pid-file FILE]\n", why);
  std::exit(2);
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + arg).c_str());
      return argv[++i];
    };
    if (arg == "--run-dir") options.run_dir = value();
    else if (arg == "--daemonize") options.daemonize = true;
    else if (arg == "--pid-file") options.pid_file = fs::path(value());
    else if (arg == "--help" || arg == "-h") usage("help");
    else usage(("unknown argument " + arg).c_str());
  }
  if (options.run_dir.empty()) usage("--run-dir is required");
  options.run_dir = fs::absolute(options.run_dir).lexically_normal();
  if (options.pid_file) *options.pid_file = fs::absolute(*options.pid_file);
  return options;
}

std::string ready_text(const fs::path& run_dir, pid_t pid) {
  return simxen::domain_environment(run_dir, 0) + "# xensnd-simxen ready pid=" + std::to_string(pid) +
         " control=" + simxen::control_socket_path(run_dir).string() + "\n";
}

bool daemon_already_serving(const fs::path& run_dir) {
  try {
    return simxen::control_request(simxen::control_socket_path(run_dir), "ping") == "ok";
  } catch (const std::exception&) {
    return false;
  }
}

// Serves until SIGTERM/SIGINT. `ready` is called once every socket exists.
int serve(const Options& options, const std::function<void()>& ready) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigprocmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  int signal_fd = ::signalfd(-1, &stop_signals, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd < 0) throw std::system_error(errno, std::generic_category(), "signalfd");

  simxen::EventLoop loop;
  loop.add(signal_fd, [&] {
    signalfd_siginfo info;
    while (::read(signal_fd, &info, sizeof info) == sizeof info) loop.stop();
  });
#ifdef SIMXEN_HAVE_HYPERVISOR
  auto hypervisor = std::make_unique<simxen::HypervisorService>(loop, options.run_dir);
  simxen::HypervisorService* hv = hypervisor.get();
  simxen::XenstoreServer::DomainHooks hooks{[hv](uint16_t d) { hv->add_domain(d); },
                                            [hv](uint16_t d) { hv->remove_domain(d); }};
#else
  simxen::HypervisorService* hv = nullptr;
  simxen::XenstoreServer::DomainHooks hooks;
#endif
  auto xenstore = std::make_unique<simxen::XenstoreServer>(loop, options.run_dir, hooks);
  xenstore->add_domain(0);
  if (hooks.introduced) hooks.introduced(0);
  // What xen-init-dom0 writes at boot.
  xenstore->write_as_dom0("/local/domain/0/domid", "0");
  xenstore->write_as_dom0("/local/domain/0/name", "Domain-0");
  auto control = std::make_unique<simxen::ControlServer>(loop, simxen::control_socket_path(options.run_dir),
                                                         *xenstore, hv);
  if (options.pid_file) {
    std::ofstream(*options.pid_file) << ::getpid() << "\n";
  }
  ready();
  loop.run();

  // Stop accepting control requests first, then take every domain down in both halves.
  control.reset();
  for (uint16_t domid : xenstore->domains()) {
    if (hooks.released) hooks.released(domid);
    xenstore->remove_domain(domid);
  }
  xenstore.reset();
#ifdef SIMXEN_HAVE_HYPERVISOR
  hypervisor.reset();
#endif
  ::close(signal_fd);
  if (options.pid_file) {
    std::error_code ignored;
    fs::remove(*options.pid_file, ignored);
  }
  return 0;
}

int run_in_background(const Options& options) {
  int ready_pipe[2];
  if (::pipe2(ready_pipe, O_CLOEXEC) < 0) throw std::system_error(errno, std::generic_category(), "pipe");
  pid_t child = ::fork();
  if (child < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (child > 0) {
    // The parent returns only once the child's sockets exist (or it failed): readiness
    // without polling for files.
    ::close(ready_pipe[1]);
    char byte = 0;
    ssize_t got;
    do got = ::read(ready_pipe[0], &byte, 1);
    while (got < 0 && errno == EINTR);
    if (got != 1) {
      std::fprintf(stderr, "xensnd-simxen: the daemon failed to start\n");
      return 1;
    }
    std::fputs(ready_text(options.run_dir, child).c_str(), stdout);
    std::fflush(stdout);
    return 0;
  }
  ::close(ready_pipe[0]);
  ::setsid();
  return serve(options, [&] {
    int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd >= 0) {
      ::dup2(null_fd, STDIN_FILENO);
      ::dup2(null_fd, STDOUT_FILENO);
      ::close(null_fd);
    }
    char byte = 1;
    if (::write(ready_pipe[1], &byte, 1) != 1) std::exit(1);
    ::close(ready_pipe[1]);
  });
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse_options(argc, argv);
  try {
    fs::create_directories(options.run_dir);
    if (daemon_already_serving(options.run_dir)) {
      std::fprintf(stderr, "xensnd-simxen: a daemon is already serving %s\n", options.run_dir.c_str());
      return 1;
    }
    if (options.daemonize) return run_in_background(options);
    return serve(options, [&] {
      std::fputs(ready_text(options.run_dir, ::getpid()).c_str(), stdout);
      std::fflush(stdout);
    });
  } catch (const std::exception& error) {
    std::fprintf(stderr, "xensnd-simxen: %s\n", error.what());
    return 1;
  }
}
