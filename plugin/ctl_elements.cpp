#include "plugin/ctl_elements.h"

#include <algorithm>

namespace xensnd::plugin {

std::vector<CtlElement> build_ctl_elements(const CardConfig& card,
                                           const std::function<bool(size_t, size_t)>& has_volume) {
  std::vector<CtlElement> elements;
  for (const PcmDeviceConfig& pcm : card.pcm_devices) {
    for (const StreamConfig& stream : pcm.streams) {
      if (!has_volume(stream.pcm_index, stream.stream_index)) continue;
      const std::string direction = stream.type == StreamType::kPlayback ? " Playback" : " Capture";
      for (const auto& [kind, suffix] : {std::pair{CtlElement::Kind::kVolume, " Volume"},
                                         std::pair{CtlElement::Kind::kSwitch, " Switch"}}) {
        const std::string tail = direction + suffix;
        std::string base = pcm.name.empty() ? "PCM " + std::to_string(pcm.index) : pcm.name;
        if (base.size() + tail.size() > kCtlNameMax) base.resize(kCtlNameMax - tail.size());
        CtlElement element;
        element.name = base + tail;
        element.kind = kind;
        element.pcm_index = stream.pcm_index;
        element.stream_index = stream.stream_index;
        element.index = static_cast<unsigned>(std::count_if(
            elements.begin(), elements.end(), [&](const CtlElement& e) { return e.name == element.name; }));
        elements.push_back(element);
      }
    }
  }
  return elements;
}

}  // namespace xensnd::plugin
