#include "tests/e2e/session_bus.h"

#include <signal.h>

#include <stdexcept>

namespace xensnd::e2e {
using namespace std::chrono_literals;

SessionBus::SessionBus(const std::filesystem::path& dir, const std::filesystem::path& log_dir,
                       const Environment& env) {
  std::filesystem::create_directories(dir);
  daemon_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{"dbus-daemon", "--session", "--nofork", "--nopidfile",
                               "--address=unix:path=" + (dir / "bus").string(), "--print-address=1"},
      env, log_dir, "dbus-daemon", /*pipe_stdout=*/true);
  auto lines = daemon_->read_lines_until("unix:", 10s);
  if (!lines) throw std::runtime_error("dbus-daemon did not start: " + daemon_->stderr_text());
  address_ = lines->back();
}

SessionBus::~SessionBus() {
  daemon_->signal(SIGTERM);
  daemon_->wait(5s);
}

}  // namespace xensnd::e2e
