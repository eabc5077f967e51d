// The Xen resources a frontend needs, behind one factory so tests can substitute fakes.
#pragma once

#include <memory>
#include <string>

#include "xenio/event_channels.h"
#include "xenio/grant_sharing.h"
#include "xenio/xenstore.h"

namespace xenio {

class Platform {
 public:
  virtual ~Platform() = default;
  virtual std::unique_ptr<XenStore> open_xenstore() = 0;
  virtual std::unique_ptr<GrantSharer> open_grant_sharer() = 0;
  virtual std::unique_ptr<EventChannels> open_event_channels() = 0;
  // A node only a process allowed to drive this domain's Xen devices can open read-write,
  // one inode for every process of the domain whatever its namespaces: frontends take
  // byte-range locks on it to own a device. Defaults to device_lock_path() below.
  virtual std::string device_lock_path() const;
};

// Where the Xen devices the libraries open live: on Xen /dev/xen/gntalloc (the grant
// allocator a frontend cannot work without); on the software Xen (XENSTORED_PATH set and the
// drop-in libraries' `hypervisor` socket next to it) the daemon's `device-lock` file in that
// same directory, which it gives the hypervisor socket's owner and mode.
std::string device_lock_path();

// The real libraries (which, on the software Xen, are its drop-in replacements).
std::unique_ptr<Platform> real_platform();

}  // namespace xenio
