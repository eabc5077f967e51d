// The grant-table and event-channel half of the software Xen, served inside the daemon's
// event loop. Each simulated domain gets a socket <run_dir>/dom<id>/hypervisor; the drop-in
// libxengnttab/libxenevtchn of a process find it next to the XenStore socket they are given
// (dirname of XENSTORED_PATH), which is how a process's domain is chosen by its environment.
// Only set-up goes through here: notifies and memory accesses go directly between processes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include "sim/common/event_loop.h"

namespace simxen {

struct HypervisorCounts {
  uint64_t grants = 0;       // live grant references the domain handed out
  uint64_t mappings = 0;     // live mappings of other domains' grants held by the domain
  uint64_t ports = 0;        // bound event-channel ports of the domain
  uint64_t clients = 0;      // processes of the domain connected to the hypervisor socket
  bool operator==(const HypervisorCounts&) const = default;
};

class HypervisorService {
 public:
  HypervisorService(EventLoop& loop, std::filesystem::path run_dir);
  ~HypervisorService();

  // Creates <run_dir>/dom<id>/hypervisor (the directory may already exist).
  void add_domain(uint16_t domid);
  // Destroys the domain: its grants, mappings and ports are released, its socket removed.
  void remove_domain(uint16_t domid);
  // Simulated save/restore: the domain's grants and event channels stop being valid; its
  // peers see what they would on real Xen after the guest was restored elsewhere.
  void invalidate_domain(uint16_t domid);
  HypervisorCounts counts(uint16_t domid) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace simxen
