// Test helper: a real libxenstore connection (xs_open) as one domain of a SimDaemon, with
// watch events read under a timeout so a missing event fails instead of hanging.
#pragma once

extern "C" {
#include <xenstore.h>
}

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim_daemon.h"

namespace simtest {

class XenstoreHandle {
 public:
  XenstoreHandle(const SimDaemon& daemon, unsigned domid);
  ~XenstoreHandle();
  XenstoreHandle(const XenstoreHandle&) = delete;
  XenstoreHandle& operator=(const XenstoreHandle&) = delete;

  xs_handle* get() const { return handle_; }
  // Value, or nullopt with errno kept in last_errno().
  std::optional<std::string> read(const std::string& path, xs_transaction_t t = XBT_NULL);
  bool write(const std::string& path, const std::string& value, xs_transaction_t t = XBT_NULL);
  std::vector<std::string> perms(const std::string& path);  // {"n0", "r5"}; empty on error
  bool set_perms(const std::string& path, const std::vector<std::string>& perms);
  bool watch(const std::string& path, const std::string& token);
  // The next watch event {path, token}; throws after 10 s without one.
  std::pair<std::string, std::string> next_event();
  int last_errno() const { return last_errno_; }

 private:
  xs_handle* handle_ = nullptr;
  int last_errno_ = 0;
};

}  // namespace simtest
