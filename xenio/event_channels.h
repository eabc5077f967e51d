// Event channels (libxenevtchn): one handle, one pollable fd, any number of ports.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "xenio/xenstore.h"  // DomainId

namespace xenio {

using EventPort = uint32_t;

class EventChannels {
 public:
  virtual ~EventChannels() = default;
  // A new port that `remote` may bind to (the frontend side).
  virtual EventPort bind_unbound(DomainId remote) = 0;
  // Connects to `remote_port` of `remote` (the backend side). Xen leaves the new port pending.
  virtual EventPort bind_interdomain(DomainId remote, EventPort remote_port) = 0;
  virtual void unbind(EventPort port) = 0;
  virtual void notify(EventPort port) = 0;
  // Non-blocking: the next port with an event, or nullopt when none. The port stays
  // masked until unmask() (Linux' evtchn device masks on delivery).
  virtual std::optional<EventPort> pending() = 0;
  virtual void unmask(EventPort port) = 0;
  // Readable when pending() has something.
  virtual int fd() const = 0;
};

// A bound port that is unbound when destroyed.
class BoundPort {
 public:
  BoundPort() = default;
  BoundPort(EventChannels& channels, EventPort port) : channels_(&channels), port_(port) {}
  BoundPort(BoundPort&& other) noexcept { *this = std::move(other); }
  BoundPort& operator=(BoundPort&& other) noexcept;
  BoundPort(const BoundPort&) = delete;
  BoundPort& operator=(const BoundPort&) = delete;
  ~BoundPort() { reset(); }

  EventPort port() const { return port_; }
  bool bound() const { return channels_ != nullptr; }
  void notify() { channels_->notify(port_); }
  void reset() noexcept;

 private:
  EventChannels* channels_ = nullptr;
  EventPort port_ = 0;
};

// Real libxenevtchn; the fd is made non-blocking. Errors name /dev/xen/evtchn.
std::unique_ptr<EventChannels> open_event_channels();

}  // namespace xenio
