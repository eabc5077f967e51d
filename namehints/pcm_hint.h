// What `aplay -L` (alsa-lib's snd_device_name_hint) shows for one xensnd entry, from this
// guest's XenStore: whether the entry exists and its description.
#pragma once

#include <string>
#include <string_view>

#include "xenio/xenstore.h"

namespace xensnd::hints {

struct PcmHint {
  bool show = false;
  // "<card long name>, <PCM device name>\n<what it is>", optionally followed by alsa-lib's
  // "|IOIDOutput" / "|IOIDInput" when the PCM device has streams of one direction only.
  std::string description;
};

// `dev` and `pcm` are the entry's DEV and PCM arguments as alsa-lib expanded them ("" when not
// given). A card or PCM device that does not exist, or a configuration that does not parse,
// is not shown. Throws only what the XenStore connection throws (xenio::XenError).
PcmHint describe_pcm(xenio::XenStore& store, std::string_view dev, std::string_view pcm);

}  // namespace xensnd::hints
