#include "sim/common/event_loop.h"

#include <poll.h>

#include <cerrno>
#include <map>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace simxen {

struct EventLoop::Impl {
  std::map<int, std::function<void()>> callbacks;
  bool stopping = false;
};

EventLoop::EventLoop() : impl_(new Impl) {}
EventLoop::~EventLoop() { delete impl_; }

void EventLoop::add(int fd, std::function<void()> on_ready) { impl_->callbacks[fd] = std::move(on_ready); }

void EventLoop::remove(int fd) { impl_->callbacks.erase(fd); }

void EventLoop::stop() { impl_->stopping = true; }

void EventLoop::run() {
  impl_->stopping = false;
  std::vector<pollfd> fds;
  while (!impl_->stopping) {
    fds.clear();
    for (const auto& [fd, callback] : impl_->callbacks) fds.push_back({fd, POLLIN, 0});
    int ready = ::poll(fds.data(), fds.size(), -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "event loop poll");
    }
    for (const pollfd& p : fds) {
      if (impl_->stopping) break;
      if (p.revents == 0) continue;
      // A callback may have removed this fd (or another) meanwhile: look it up again, and
      // copy the callback so that removing itself does not destroy what is running.
      auto it = impl_->callbacks.find(p.fd);
      if (it == impl_->callbacks.end()) continue;
      std::function<void()> callback = it->second;
      callback();
    }
  }
}

}  // namespace simxen
