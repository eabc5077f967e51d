// xensnd-backend: a sndif backend process of the backend domain (see README.md).
#include <signal.h>

#include <cstdio>
#include <exception>
#include <string>

#include "backend/backend_service.h"
#include "backend/options.h"

int main(int argc, char** argv) {
  using namespace xensnd::backend;
  ParsedCommandLine parsed = parse_command_line(argc, argv);
  if (!parsed.options) {
    std::fprintf(parsed.exit_code ? stderr : stdout, "%s\n", parsed.message.c_str());
    return parsed.exit_code;
  }
  if (std::string problem = check_endpoints(*parsed.options); !problem.empty()) {
    std::fprintf(stderr, "xensnd-backend: %s\n", problem.c_str());
    return 2;
  }
  // Blocked before any thread exists, so every ring thread inherits the mask and the
  // signals are read only by the main loop's signalfd.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Log log(parsed.options->log_level);
  try {
    BackendService service(*parsed.options, log);
    return service.run();
  } catch (const std::exception& e) {
    log.error(e.what());
    return 1;
  }
}
