// Event channels in one process. Frontend handles (FakeEventChannels) get ports from a
// shared FakeEventHub; a notify() on a frontend port calls the hub's backend handler, and
// the backend's notify_frontend() makes the port pending on the handle that owns it, with
// Linux' evtchn semantics: delivery masks the port until unmask(), one pending bit per port.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <set>

#include "xenio/event_channels.h"

namespace xensnd::testing {

class FakeEventChannels;

class FakeEventHub {
 public:
  using BackendHandler = std::function<void(xenio::EventPort frontend_port)>;
  void set_backend_handler(BackendHandler handler) { handler_ = std::move(handler); }
  // The backend signals a frontend port. Unknown ports are ignored (as a closed channel).
  void notify_frontend(xenio::EventPort port);
  // How often the frontend notified `port`.
  int notifications_from_frontend(xenio::EventPort port) const;
  bool is_bound(xenio::EventPort port) const { return owners_.count(port) != 0; }
  size_t bound_ports() const { return owners_.size(); }
  xenio::DomainId remote_of(xenio::EventPort port) const;

  // For FakeEventChannels.
  xenio::EventPort bind(FakeEventChannels* owner, xenio::DomainId remote);
  void unbind(xenio::EventPort port);
  void frontend_notified(xenio::EventPort port);

 private:
  struct Binding {
    FakeEventChannels* owner;
    xenio::DomainId remote;
  };
  std::map<xenio::EventPort, Binding> owners_;
  std::map<xenio::EventPort, int> notifications_;
  xenio::EventPort next_ = 10;
  BackendHandler handler_;
};

class FakeEventChannels final : public xenio::EventChannels {
 public:
  explicit FakeEventChannels(FakeEventHub& hub);
  ~FakeEventChannels() override;

  xenio::EventPort bind_unbound(xenio::DomainId remote) override;
  xenio::EventPort bind_interdomain(xenio::DomainId remote, xenio::EventPort remote_port) override;
  void unbind(xenio::EventPort port) override;
  void notify(xenio::EventPort port) override;
  std::optional<xenio::EventPort> pending() override;
  void unmask(xenio::EventPort port) override;
  int fd() const override { return fd_; }

  // For FakeEventHub.
  void raise(xenio::EventPort port);

 private:
  void update_fd();
  FakeEventHub& hub_;
  int fd_;
  std::set<xenio::EventPort> mine_;
  std::set<xenio::EventPort> masked_;
  std::set<xenio::EventPort> pending_bit_;
  std::deque<xenio::EventPort> delivered_;
};

}  // namespace xensnd::testing
