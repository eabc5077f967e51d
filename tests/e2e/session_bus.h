// A private D-Bus session bus for one test: sound servers and their session manager talk to
// it instead of the desktop's (device reservation, portals), so tests neither see nor disturb
// the user's session. The daemon prints its address once it listens: no sleeps.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "tests/e2e/child_process.h"

namespace xensnd::e2e {

class SessionBus {
 public:
  // Listens on `dir`/bus; logs go to `log_dir`. Throws when the daemon does not start.
  SessionBus(const std::filesystem::path& dir, const std::filesystem::path& log_dir, const Environment& env);
  ~SessionBus();
  SessionBus(const SessionBus&) = delete;
  SessionBus& operator=(const SessionBus&) = delete;

  const std::string& address() const { return address_; }

 private:
  std::unique_ptr<ChildProcess> daemon_;
  std::string address_;
};

}  // namespace xensnd::e2e
