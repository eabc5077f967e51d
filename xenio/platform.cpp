#include "xenio/platform.h"

#include <sys/stat.h>

#include <cstdlib>

namespace xenio {
namespace {

class RealPlatform final : public Platform {
 public:
  std::unique_ptr<XenStore> open_xenstore() override { return xenio::open_xenstore(); }
  std::unique_ptr<GrantSharer> open_grant_sharer() override { return xenio::open_grant_sharer(); }
  std::unique_ptr<EventChannels> open_event_channels() override {
    return xenio::open_event_channels();
  }
};

}  // namespace

std::string device_lock_path() {
  // The drop-in libxengnttab/libxenevtchn find their socket the same way
  // (sim/hypervisor/hypervisor_client.cpp): <directory of XENSTORED_PATH>/hypervisor.
  if (const char* xenstored = std::getenv("XENSTORED_PATH"); xenstored != nullptr && *xenstored != '\0') {
    std::string dir(xenstored);
    const size_t slash = dir.rfind('/');
    dir = slash == std::string::npos ? std::string(".") : dir.substr(0, slash);
    struct stat hypervisor {};
    if (::stat((dir + "/hypervisor").c_str(), &hypervisor) == 0 && S_ISSOCK(hypervisor.st_mode))
      return dir + "/device-lock";
  }
  return "/dev/xen/gntalloc";
}

std::string Platform::device_lock_path() const { return xenio::device_lock_path(); }

std::unique_ptr<Platform> real_platform() { return std::make_unique<RealPlatform>(); }

}  // namespace xenio
