// The mixer elements the CTL exposes for a card: per stream the backend takes volume
// requests for, `<PCM name> Playback Volume` and `<PCM name> Playback Switch` (Capture for
// capture streams), as ALSA's simple mixer expects them. Streams whose names would be equal
// (several streams of one direction in a PCM device, or PCM devices with equal names) are
// told apart by the element index. ALSA-free.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "protocol/card_config.h"

namespace xensnd::plugin {

struct CtlElement {
  enum class Kind { kVolume, kSwitch };
  std::string name;
  unsigned index = 0;
  Kind kind = Kind::kVolume;
  size_t pcm_index = 0;
  size_t stream_index = 0;
};

// ALSA's limit on an element name, without the terminating NUL (SNDRV_CTL_ELEM_ID_NAME_MAXLEN - 1).
inline constexpr size_t kCtlNameMax = 43;

// `has_volume(pcm, stream)`: whether the backend takes volume requests for that stream.
std::vector<CtlElement> build_ctl_elements(const CardConfig& card,
                                           const std::function<bool(size_t, size_t)>& has_volume);

}  // namespace xensnd::plugin
