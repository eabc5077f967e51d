// The options of a `pcm.NAME { type xensnd ... }` definition, parsed and checked at open.
#pragma once

#include <alsa/asoundlib.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

namespace xensnd::plugin {

struct PluginOptions {
  // vsnd device id: the card at device/vsnd/<device>. Unset: the first card, the lowest id
  // under device/vsnd (or, with unique_id, the first card that has a stream with that id).
  std::optional<unsigned> device;
  // PCM device index within the card and stream index within the PCM device. Unset: PCM 0
  // and its first stream of the opened direction.
  std::optional<unsigned> pcm;
  std::optional<unsigned> stream;
  // Selects the stream by its XenStore unique-id instead (opaque, e.g. "alsa<default>").
  std::optional<std::string> unique_id;
  // Frames added to every delay report (latency the backend adds that CUR_POS cannot see).
  long delay_frames = 0;
  // Smallest period the plugin offers, in frames: every period costs a request and an event.
  unsigned period_frames_min = 32;
  std::chrono::milliseconds handshake_timeout{5000};
  std::chrono::milliseconds response_timeout{3000};
  // A running stream with no CUR_POS event for this long (and at least 4 periods) means the
  // backend is gone: a killed backend answers nothing, so no response is ever overdue.
  std::chrono::milliseconds position_timeout{2000};
};

// A bad option: what() names the option and says what is wrong with it.
class OptionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses the plugin's configuration node. Skips comment, type and hint; rejects anything else
// it does not know.
PluginOptions parse_plugin_options(snd_config_t* conf);

}  // namespace xensnd::plugin
