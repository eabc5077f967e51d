// Event channels over the real libxenevtchn.
#include <fcntl.h>
extern "C" {  // the Xen library headers declare no C linkage of their own
#include <xenevtchn.h>
}

#include <cerrno>

#include "xenio/error.h"
#include "xenio/event_channels.h"

namespace xenio {

BoundPort& BoundPort::operator=(BoundPort&& other) noexcept {
  if (this != &other) {
    reset();
    channels_ = other.channels_;
    port_ = other.port_;
    other.channels_ = nullptr;
  }
  return *this;
}

void BoundPort::reset() noexcept {
  if (!channels_) return;
  try {
    channels_->unbind(port_);
  } catch (...) {
    // Unbinding fails only when the port is already gone (domain died, handle closed):
    // nothing is left to release.
  }
  channels_ = nullptr;
}

namespace {

std::string port_text(EventPort port) { return "event channel port " + std::to_string(port); }

class LibEventChannels final : public EventChannels {
 public:
  explicit LibEventChannels(xenevtchn_handle* handle) : handle_(handle) {}
  ~LibEventChannels() override { xenevtchn_close(handle_); }

  EventPort bind_unbound(DomainId remote) override {
    errno = 0;
    xenevtchn_port_or_error_t port = xenevtchn_bind_unbound_port(handle_, remote);
    if (port < 0) throw_errno("cannot allocate an event channel for domain " + std::to_string(remote));
    return static_cast<EventPort>(port);
  }

  EventPort bind_interdomain(DomainId remote, EventPort remote_port) override {
    errno = 0;
    xenevtchn_port_or_error_t port = xenevtchn_bind_interdomain(handle_, remote, remote_port);
    if (port < 0)
      throw_errno("cannot bind " + port_text(remote_port) + " of domain " + std::to_string(remote));
    return static_cast<EventPort>(port);
  }

  void unbind(EventPort port) override {
    errno = 0;
    if (xenevtchn_unbind(handle_, port) < 0) throw_errno("cannot unbind " + port_text(port));
  }

  void notify(EventPort port) override {
    errno = 0;
    if (xenevtchn_notify(handle_, port) < 0) throw_errno("cannot notify " + port_text(port));
  }

  std::optional<EventPort> pending() override {
    errno = 0;
    xenevtchn_port_or_error_t port = xenevtchn_pending(handle_);
    if (port < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return std::nullopt;
      throw_errno("cannot read pending event channels");
    }
    return static_cast<EventPort>(port);
  }

  void unmask(EventPort port) override {
    errno = 0;
    if (xenevtchn_unmask(handle_, port) < 0) throw_errno("cannot unmask " + port_text(port));
  }

  int fd() const override { return xenevtchn_fd(handle_); }

 private:
  xenevtchn_handle* handle_;
};

}  // namespace

std::unique_ptr<EventChannels> open_event_channels() {
  errno = 0;
  xenevtchn_handle* handle = xenevtchn_open(nullptr, 0);
  if (!handle) throw_errno("cannot open /dev/xen/evtchn");
  auto channels = std::make_unique<LibEventChannels>(handle);
  // pending() must never block the caller: readiness comes from poll() on fd().
  int fd = channels->fd();
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
    throw_errno("cannot make the event channel fd non-blocking");
  return channels;
}

}  // namespace xenio
