// The Xen resources a frontend needs, behind one factory so tests can substitute fakes.
#pragma once

#include <memory>

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
};

// The real libraries (which, on the software Xen, are its drop-in replacements).
std::unique_ptr<Platform> real_platform();

}  // namespace xenio
