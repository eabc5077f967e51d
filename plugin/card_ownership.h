// One process at a time owns a vsnd card. The claim is an abstract unix socket bound to a
// name made of the XenStore instance and the device id: the kernel releases it when the
// process dies (however it dies), and a second process can ask the kernel who holds it
// (SO_PEERCRED) to name the holder in its error.
#pragma once

#include <string>

namespace xensnd::plugin {

class CardOwnership {
 public:
  CardOwnership() = default;
  CardOwnership(CardOwnership&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  CardOwnership& operator=(CardOwnership&& other) noexcept;
  CardOwnership(const CardOwnership&) = delete;
  CardOwnership& operator=(const CardOwnership&) = delete;
  ~CardOwnership() { release(); }

  // Claims device `device_id`. Throws OwnershipError (errno EBUSY) naming the holder's pid and
  // command when another process owns it.
  static CardOwnership claim(unsigned device_id);

  // Drops the claim. In a forked child this only drops the child's reference.
  void release() noexcept;
  bool held() const { return fd_ >= 0; }

 private:
  explicit CardOwnership(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// The abstract socket name for a device (exposed for tests).
std::string ownership_socket_name(unsigned device_id);

}  // namespace xensnd::plugin
