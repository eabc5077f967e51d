// Discovery and the main loop: watches /local/domain/<be>/backend/vsnd (the watch fires once
// at registration, which is how existing devices are found, as snd_be relies on), keeps one
// VsndDevice per <frontend>/<device> below it, and feeds them watch events until a signal.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "backend/log.h"
#include "backend/options.h"
#include "backend/vsnd_device.h"
#include "xenio/xenstore.h"

namespace xensnd::backend {

// Watch events are only hints to look again, and a frontend may rewrite its nodes as often
// as it likes: the service takes at most this many per look (what is left keeps the watch
// fd readable, so the main loop comes straight back after acting on what it saw).
inline constexpr size_t kMaxWatchEventsPerDrain = 64;
// Takes at most kMaxWatchEventsPerDrain pending events; true when it took any.
bool drain_watch_events(xenio::XenStore& store, Log& log);

class BackendService {
 public:
  // Throws xenio::XenError when XenStore cannot be reached or our domain id is unknown.
  BackendService(const BackendOptions& options, Log& log);
  ~BackendService();
  BackendService(const BackendService&) = delete;
  BackendService& operator=(const BackendService&) = delete;

  // Serves until SIGINT/SIGTERM (which must be blocked by the caller); returns the exit code.
  int run();

 private:
  void rescan();
  void add_device(xenio::DomainId frontend, uint32_t device_id);

  const BackendOptions& options_;
  Log& log_;
  std::unique_ptr<xenio::XenStore> store_;
  std::string root_;  // /local/domain/<be>/backend/vsnd
  int wake_fd_ = -1;
  std::map<std::pair<xenio::DomainId, uint32_t>, std::unique_ptr<VsndDevice>> devices_;
};

}  // namespace xensnd::backend
