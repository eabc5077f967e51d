#include "tests/unit/fakes/fake_event_channels.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "xenio/error.h"

namespace xensnd::testing {

void FakeEventHub::notify_frontend(xenio::EventPort port) {
  auto it = owners_.find(port);
  if (it != owners_.end()) it->second.owner->raise(port);
}

int FakeEventHub::notifications_from_frontend(xenio::EventPort port) const {
  auto it = notifications_.find(port);
  return it == notifications_.end() ? 0 : it->second;
}

xenio::DomainId FakeEventHub::remote_of(xenio::EventPort port) const {
  auto it = owners_.find(port);
  return it == owners_.end() ? 0xffff : it->second.remote;
}

xenio::EventPort FakeEventHub::bind(FakeEventChannels* owner, xenio::DomainId remote) {
  xenio::EventPort port = next_++;
  owners_[port] = {owner, remote};
  return port;
}

void FakeEventHub::unbind(xenio::EventPort port) { owners_.erase(port); }

void FakeEventHub::frontend_notified(xenio::EventPort port) {
  ++notifications_[port];
  if (handler_) handler_(port);
}

FakeEventChannels::FakeEventChannels(FakeEventHub& hub)
    : hub_(hub), fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

FakeEventChannels::~FakeEventChannels() {
  for (xenio::EventPort port : mine_) hub_.unbind(port);
  close(fd_);
}

xenio::EventPort FakeEventChannels::bind_unbound(xenio::DomainId remote) {
  xenio::EventPort port = hub_.bind(this, remote);
  mine_.insert(port);
  return port;
}

xenio::EventPort FakeEventChannels::bind_interdomain(xenio::DomainId, xenio::EventPort) {
  throw xenio::XenError(ENOSYS, "fake: frontends do not bind interdomain");
}

void FakeEventChannels::unbind(xenio::EventPort port) {
  if (!mine_.erase(port)) throw xenio::XenError(EINVAL, "fake: port not bound here");
  hub_.unbind(port);
  masked_.erase(port);
  pending_bit_.erase(port);
  std::erase(delivered_, port);
  update_fd();
}

void FakeEventChannels::notify(xenio::EventPort port) {
  if (!mine_.count(port)) throw xenio::XenError(EINVAL, "fake: notify on a port not bound here");
  hub_.frontend_notified(port);
}

void FakeEventChannels::raise(xenio::EventPort port) {
  if (masked_.count(port)) {
    pending_bit_.insert(port);  // delivered on unmask
    return;
  }
  masked_.insert(port);
  delivered_.push_back(port);
  update_fd();
}

std::optional<xenio::EventPort> FakeEventChannels::pending() {
  if (delivered_.empty()) return std::nullopt;
  xenio::EventPort port = delivered_.front();
  delivered_.pop_front();
  update_fd();
  return port;
}

void FakeEventChannels::unmask(xenio::EventPort port) {
  masked_.erase(port);
  if (pending_bit_.erase(port)) raise(port);
}

void FakeEventChannels::update_fd() {
  uint64_t value;
  [[maybe_unused]] ssize_t n = ::read(fd_, &value, sizeof value);  // reset
  if (!delivered_.empty()) {
    value = 1;
    n = ::write(fd_, &value, sizeof value);
  }
}

}  // namespace xensnd::testing
