#include "sim/common/event_loop.h"

#include <poll.h>

#include <cerrno>
#include <map>
#include <system_error>
#include <vector>

namespace simxen {

struct EventLoop::Impl {
  struct Entry {
    std::function<void()> on_readable;
    std::function<void()> on_writable;  // empty: not interested in POLLOUT
  };
  std::map<int, Entry> entries;
  bool stopping = false;
};

EventLoop::EventLoop() : impl_(std::make_unique<Impl>()) {}
EventLoop::~EventLoop() = default;

void EventLoop::add(int fd, std::function<void()> on_ready) {
  impl_->entries[fd].on_readable = std::move(on_ready);
}

void EventLoop::set_writable(int fd, std::function<void()> on_writable) {
  auto it = impl_->entries.find(fd);
  if (it != impl_->entries.end()) it->second.on_writable = std::move(on_writable);
}

void EventLoop::remove(int fd) { impl_->entries.erase(fd); }

void EventLoop::stop() { impl_->stopping = true; }

void EventLoop::run() {
  impl_->stopping = false;
  std::vector<pollfd> fds;
  while (!impl_->stopping) {
    fds.clear();
    for (const auto& [fd, entry] : impl_->entries) {
      short events = POLLIN;
      if (entry.on_writable) events |= POLLOUT;
      fds.push_back({fd, events, 0});
    }
    int ready = ::poll(fds.data(), fds.size(), -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "event loop poll");
    }
    for (const pollfd& p : fds) {
      if (impl_->stopping) break;
      if (p.revents == 0) continue;
      // A callback may have removed this fd (or another, or reused the number) meanwhile:
      // look it up again each time, and copy the callback so that removing itself does not
      // destroy what is running.
      if (p.revents & POLLOUT) {
        auto it = impl_->entries.find(p.fd);
        if (it != impl_->entries.end() && it->second.on_writable) {
          std::function<void()> callback = it->second.on_writable;
          callback();
        }
      }
      if (p.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) {
        auto it = impl_->entries.find(p.fd);
        if (it == impl_->entries.end()) continue;
        std::function<void()> callback = it->second.on_readable;
        callback();
      }
    }
  }
}

}  // namespace simxen
