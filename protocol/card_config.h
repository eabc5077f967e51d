// A vsnd card's configuration as the toolstack wrote it in the frontend's XenStore directory
// (device/vsnd/<id>): card -> PCM devices -> streams, with sndif.h's inheritance of
// channels-min/max, sample-rates, sample-formats and buffer-size (a lower level narrows the
// upper one).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "xenio/xenstore.h"

namespace xensnd {

enum class StreamType { kPlayback, kCapture };

// What a stream may be opened with, after inheritance.
struct StreamLimits {
  uint32_t channels_min = 0;
  uint32_t channels_max = 0;
  std::vector<uint32_t> rates;  // sorted, unique, any positive rate
  uint64_t formats = 0;         // mask of (1 << XENSND_PCM_FORMAT_*); fixed-size formats only
  uint32_t buffer_bytes = 0;    // the largest buffer, in bytes (buffer-size)
};

struct StreamConfig {
  size_t pcm_index = 0;
  size_t stream_index = 0;
  StreamType type = StreamType::kPlayback;
  std::string unique_id;       // opaque: snd_be uses e.g. "alsa<default>"
  std::string xenstore_path;   // device/vsnd/<id>/<pcm>/<stream>
  StreamLimits limits;
};

struct PcmDeviceConfig {
  size_t index = 0;
  std::string name;
  std::vector<StreamConfig> streams;  // indices contiguous from 0
};

struct CardConfig {
  std::string xenstore_path;  // device/vsnd/<id>
  std::string short_name;
  std::string long_name;
  std::vector<PcmDeviceConfig> pcm_devices;  // indices contiguous from 0
  // The listings the read made show a frontend's `version` or transport nodes: an earlier
  // session left them (XenbusFrontend::prepare clears them; with none, it skips the
  // transaction that would look, five round trips to XenStore at every open).
  bool frontend_nodes_present = false;

  // All streams of the card, PCM by PCM, in index order.
  std::vector<const StreamConfig*> streams() const;
};

// Reads the configuration below `device_path` (relative or absolute). Throws ConfigError
// naming the XenStore path and what is wrong (missing, not a number, empty intersection,
// unknown format, non-contiguous indices...).
CardConfig read_card_config(xenio::XenStore& store, std::string_view device_path);

}  // namespace xensnd
