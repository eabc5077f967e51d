#include "xenio/platform.h"

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

std::unique_ptr<Platform> real_platform() { return std::make_unique<RealPlatform>(); }

}  // namespace xenio
