// A xenstored for the software Xen: serves the XenStore wire protocol on one unix socket per
// simulated domain, <run_dir>/dom<id>/xenstored, so that a connection's domain is the one
// whose socket it came in on (dom0 is privileged). Runs inside the daemon's EventLoop;
// every socket is non-blocking and buffered per connection, so a slow or misbehaving client
// never holds up the others.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/common/event_loop.h"

namespace simxen {

struct XenstoreCounts {
  uint64_t connections = 0;
  uint64_t watches = 0;
  uint64_t transactions = 0;
  uint64_t requests = 0;  // every request the domain's connections sent, since it was introduced
};

class XenstoreServer {
 public:
  // Called when dom0 introduces or releases a domain (XS_INTRODUCE / XS_RELEASE), after the
  // domain's socket was created or before it is removed, so the hypervisor half can follow.
  struct DomainHooks {
    std::function<void(uint16_t)> introduced;
    std::function<void(uint16_t)> released;
  };

  XenstoreServer(EventLoop& loop, std::filesystem::path run_dir, DomainHooks hooks = {});
  ~XenstoreServer();  // closes every connection and removes every socket it created
  XenstoreServer(const XenstoreServer&) = delete;
  XenstoreServer& operator=(const XenstoreServer&) = delete;

  static std::filesystem::path socket_path(const std::filesystem::path& run_dir, uint16_t domid);

  // Creates the domain's socket (without hooks or @introduceDomain: for dom0 at start-up).
  void add_domain(uint16_t domid);
  // Closes the domain's connections and removes its socket.
  void remove_domain(uint16_t domid);
  bool has_domain(uint16_t domid) const;
  std::vector<uint16_t> domains() const;
  XenstoreCounts counts(uint16_t domid) const;

  // A write as dom0 (fires watches): for the nodes a dom0 start-up script would write.
  void write_as_dom0(const std::string& path, const std::string& value);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace simxen
