#include "backend/backend_service.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "xenio/error.h"

namespace xensnd::backend {
namespace {

template <typename T>
bool parse_uint(const std::string& text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

bool drain_watch_events(xenio::XenStore& store, Log& log) {
  bool any = false;
  for (size_t i = 0; i < kMaxWatchEventsPerDrain; ++i) {
    std::optional<xenio::XenStoreWatchEvent> event = store.next_watch_event();
    if (!event) break;
    log.trace("watch ", event->path);
    any = true;
  }
  return any;
}

BackendService::BackendService(const BackendOptions& options, Log& log) : options_(options), log_(log) {
  store_ = xenio::open_xenstore();
  xenio::DomainId self = 0;
  if (options_.backend_domid) {
    self = *options_.backend_domid;
  } else {
    // snd_be's first request: the relative path `domid`.
    std::optional<std::string> domid = store_->read("domid");
    if (!domid || !parse_uint(*domid, self))
      throw xenio::XenError(ENOENT, "cannot learn this domain's id from XenStore node `domid` (" +
                                        domid.value_or("missing") + "); pass --backend-domid");
  }
  root_ = store_->domain_path(self) + "/backend/vsnd";
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) xenio::throw_errno("cannot create an eventfd");
}

BackendService::~BackendService() {
  devices_.clear();  // joins every ring thread before the XenStore connection goes
  if (wake_fd_ >= 0) close(wake_fd_);
}

void BackendService::add_device(xenio::DomainId frontend, uint32_t device_id) {
  auto key = std::make_pair(frontend, device_id);
  if (devices_.count(key)) return;
  std::string path = root_ + "/" + std::to_string(frontend) + "/" + std::to_string(device_id);
  auto device = std::make_unique<VsndDevice>(*store_, options_, log_, frontend, device_id, path, wake_fd_);
  for (const std::string& watched : device->watched_paths()) store_->watch(watched, watched);
  devices_.emplace(key, std::move(device));
}

void BackendService::rescan() {
  if (auto frontends = store_->directory(root_)) {
    for (const std::string& frontend_text : *frontends) {
      xenio::DomainId frontend = 0;
      if (!parse_uint(frontend_text, frontend)) {
        log_.warning(root_, "/", frontend_text, " is not a domain id: ignored");
        continue;
      }
      if (options_.frontend_domid && *options_.frontend_domid != frontend) continue;
      std::optional<std::vector<std::string>> devices;
      try {
        devices = store_->directory(root_ + "/" + frontend_text);
      } catch (const std::exception& e) {
        // One frontend's directory going wrong (removed mid-read, refused) never stops the
        // service for the others.
        log_.error(root_, "/", frontend_text, ": cannot list devices: ", e.what());
        continue;
      }
      if (!devices) continue;
      for (const std::string& device_text : *devices) {
        uint32_t device_id = 0;
        if (!parse_uint(device_text, device_id)) {
          log_.warning(root_, "/", frontend_text, "/", device_text, " is not a device id: ignored");
          continue;
        }
        try {
          add_device(frontend, device_id);
        } catch (const std::exception& e) {
          // One device's trouble (a node vanishing mid-read...) never stops the others.
          log_.error("vsnd ", frontend, "/", device_id, ": cannot set up: ", e.what());
        }
      }
    }
  }
  for (auto it = devices_.begin(); it != devices_.end();) {
    try {
      it->second->update();
    } catch (const std::exception& e) {
      log_.error("vsnd ", it->first.first, "/", it->first.second, ": ", e.what());
    }
    if (it->second->gone()) {
      for (const std::string& watched : it->second->watched_paths()) {
        try {
          store_->unwatch(watched, watched);
        } catch (const xenio::XenError&) {
          // Already gone with its node.
        }
      }
      it = devices_.erase(it);
    } else {
      ++it;
    }
  }
}

int BackendService::run() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd < 0) xenio::throw_errno("cannot create a signalfd");

  store_->watch(root_, root_);
  std::printf("xensnd-backend: ready %s\n", root_.c_str());
  std::fflush(stdout);
  log_.info("watching ", root_);

  int exit_code = 0;
  for (;;) {
    pollfd fds[3] = {{store_->watch_fd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}, {signal_fd, POLLIN, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      xenio::throw_errno("cannot poll XenStore");
    }
    if (fds[2].revents) {
      signalfd_siginfo info{};
      ssize_t ignored = read(signal_fd, &info, sizeof info);
      (void)ignored;
      log_.info("signal ", info.ssi_signo, ": shutting down");
      break;
    }
    if (fds[1].revents) {
      uint64_t count = 0;
      ssize_t ignored = read(wake_fd_, &count, sizeof count);
      (void)ignored;
    }
    bool changed = fds[1].revents != 0;
    if (drain_watch_events(*store_, log_)) changed = true;
    if (changed) rescan();
  }
  close(signal_fd);
  devices_.clear();
  return exit_code;
}

}  // namespace xensnd::backend
