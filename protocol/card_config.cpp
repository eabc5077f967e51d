// Reading device/vsnd/<id>: every level (card, PCM device, stream) may define the PCM
// limits; a lower level narrows what it inherits, and the defaults apply only to what no
// level defines.
#include "protocol/card_config.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "protocol/errors.h"
#include "protocol/pcm_format.h"
#include "protocol/sndif_abi.h"
#include "protocol/xenstore_values.h"

namespace xensnd {
namespace {

// What applies when no level defines a value. sndif.h: channels-min defaults to 1. The rest
// follows the Linux driver: 2 channels, its standard rates, every format, 64 KiB.
constexpr uint32_t kDefaultChannelsMax = 2;
constexpr uint32_t kDefaultBufferBytes = 64 * 1024;
constexpr uint32_t kDefaultRates[] = {5512,  8000,  11025, 16000,  22050,  32000, 44100,
                                      48000, 64000, 88200, 96000, 176400, 192000};
// sndif.h: channels are uint8_t; PCM and stream indices are uint8_t.
constexpr uint64_t kMaxChannels = std::numeric_limits<uint8_t>::max();
constexpr uint64_t kMaxIndex = std::numeric_limits<uint8_t>::max();

// The limits one level defines itself.
struct LevelLimits {
  std::optional<uint32_t> channels_min;
  std::optional<uint32_t> channels_max;
  std::optional<std::vector<uint32_t>> rates;
  std::optional<uint64_t> formats;
  std::optional<uint32_t> buffer_bytes;
};

// The limits inherited so far: each field set once some level above defined it.
using Inherited = LevelLimits;

[[noreturn]] void fail(const std::string& node_path, const std::string& problem) {
  throw ConfigError("vsnd configuration: " + node_path + ": " + problem);
}

// One directory of the configuration, listed once: only the settings it has are read. (Most
// levels define few of the five limits, and reading an absent node is a XenStore round trip
// all the same: on a typical card, half of the reads, at every open.)
class ConfigDir {
 public:
  ConfigDir(xenio::XenStore& store, std::string path) : store_(store), path_(std::move(path)) {
    std::optional<std::vector<std::string>> children = store_.directory(path_);
    if (!children) fail(path_, "does not exist");
    children_ = std::move(*children);
  }
  const std::string& path() const { return path_; }
  const std::vector<std::string>& children() const { return children_; }
  bool has(const char* name) const { return std::find(children_.begin(), children_.end(), name) != children_.end(); }
  std::string node(const char* name) const { return join_path(path_, name); }
  std::optional<std::string> read(const char* name) const {
    if (!has(name)) return std::nullopt;
    return store_.read(node(name));
  }

 private:
  xenio::XenStore& store_;
  std::string path_;
  std::vector<std::string> children_;
};

std::optional<uint32_t> read_number(const ConfigDir& dir, const char* name, uint64_t min, uint64_t max) {
  std::optional<std::string> text = dir.read(name);
  if (!text) return std::nullopt;
  const std::string path = dir.node(name);
  ParsedNumber parsed = parse_decimal(*text, max);
  if (!parsed.value) fail(path, parsed.problem);
  if (*parsed.value < min) fail(path, "'" + *text + "' is less than " + std::to_string(min));
  return static_cast<uint32_t>(*parsed.value);
}

std::optional<std::vector<uint32_t>> read_rates(const ConfigDir& dir) {
  std::optional<std::string> text = dir.read(XENSND_FIELD_SAMPLE_RATES);
  if (!text) return std::nullopt;
  const std::string path = dir.node(XENSND_FIELD_SAMPLE_RATES);
  std::vector<uint32_t> rates;
  for (std::string_view item : split_list(*text)) {
    ParsedNumber parsed = parse_decimal(item, std::numeric_limits<uint32_t>::max());
    if (!parsed.value) fail(path, "in '" + *text + "': " + parsed.problem);
    if (*parsed.value == 0) fail(path, "in '" + *text + "': a sample rate of 0");
    rates.push_back(static_cast<uint32_t>(*parsed.value));
  }
  std::sort(rates.begin(), rates.end());
  rates.erase(std::unique(rates.begin(), rates.end()), rates.end());
  return rates;
}

std::optional<uint64_t> read_formats(const ConfigDir& dir) {
  std::optional<std::string> text = dir.read(XENSND_FIELD_SAMPLE_FORMATS);
  if (!text) return std::nullopt;
  const std::string path = dir.node(XENSND_FIELD_SAMPLE_FORMATS);
  uint64_t mask = 0;
  for (std::string_view item : split_list(*text)) {
    if (item.empty()) fail(path, "empty item in '" + *text + "'");
    std::optional<uint8_t> format = sndif_format_from_string(item);
    if (!format) fail(path, "unknown sample format '" + std::string(item) + "'");
    // Formats without a fixed frame size cannot be described by buffer/period sizes in
    // frames: they are never offered, but a list containing them is not wrong.
    if (sndif_format_bytes_per_sample(*format)) mask |= uint64_t{1} << *format;
  }
  if (mask == 0) fail(path, "'" + *text + "' has no format with a fixed frame size");
  return mask;
}

LevelLimits read_level(const ConfigDir& dir) {
  LevelLimits level;
  level.channels_min = read_number(dir, XENSND_FIELD_CHANNELS_MIN, 1, kMaxChannels);
  level.channels_max = read_number(dir, XENSND_FIELD_CHANNELS_MAX, 1, kMaxChannels);
  if (level.channels_min && level.channels_max && *level.channels_min > *level.channels_max)
    fail(dir.node(XENSND_FIELD_CHANNELS_MIN),
         std::to_string(*level.channels_min) + " is more than channels-max " +
             std::to_string(*level.channels_max));
  level.rates = read_rates(dir);
  level.formats = read_formats(dir);
  level.buffer_bytes = read_number(dir, XENSND_FIELD_BUFFER_SIZE, 1, std::numeric_limits<uint32_t>::max());
  return level;
}

// A lower level narrows: the result is the intersection with what is inherited, and an
// empty intersection is a configuration error naming the lower level's node.
Inherited narrow(const Inherited& above, const LevelLimits& level, const std::string& dir) {
  Inherited result = above;
  if (level.channels_min)
    result.channels_min = std::max(above.channels_min.value_or(1), *level.channels_min);
  if (level.channels_max)
    result.channels_max = above.channels_max ? std::min(*above.channels_max, *level.channels_max)
                                             : *level.channels_max;
  if (result.channels_min && result.channels_max && *result.channels_min > *result.channels_max)
    fail(dir, "channels-min/channels-max leave no channel count: at least " +
                  std::to_string(*result.channels_min) + ", at most " +
                  std::to_string(*result.channels_max) + " (after inheritance)");
  if (level.rates) {
    if (above.rates) {
      std::vector<uint32_t> common;
      std::set_intersection(above.rates->begin(), above.rates->end(), level.rates->begin(),
                            level.rates->end(), std::back_inserter(common));
      if (common.empty())
        fail(join_path(dir, XENSND_FIELD_SAMPLE_RATES), "no rate in common with the level above");
      result.rates = std::move(common);
    } else {
      result.rates = level.rates;
    }
  }
  if (level.formats) {
    uint64_t common = above.formats ? (*above.formats & *level.formats) : *level.formats;
    if (common == 0)
      fail(join_path(dir, XENSND_FIELD_SAMPLE_FORMATS), "no format in common with the level above");
    result.formats = common;
  }
  if (level.buffer_bytes)
    result.buffer_bytes = above.buffer_bytes ? std::min(*above.buffer_bytes, *level.buffer_bytes)
                                             : *level.buffer_bytes;
  return result;
}

StreamLimits with_defaults(const Inherited& limits) {
  StreamLimits result;
  result.channels_min = limits.channels_min.value_or(1);
  result.channels_max = limits.channels_max.value_or(std::max(kDefaultChannelsMax, result.channels_min));
  result.rates = limits.rates.value_or(
      std::vector<uint32_t>(std::begin(kDefaultRates), std::end(kDefaultRates)));
  result.formats = limits.formats.value_or(sndif_fixed_size_formats_mask());
  result.buffer_bytes = limits.buffer_bytes.value_or(kDefaultBufferBytes);
  return result;
}

// The numbered children of `dir` (PCM devices of a card, streams of a PCM device), which
// must be 0..N-1 with N >= 1. Other children are settings and are skipped.
size_t count_indexed_children(const ConfigDir& config_dir, const char* what) {
  const std::string& dir = config_dir.path();
  std::vector<uint64_t> indices;
  for (const std::string& child : config_dir.children()) {
    if (child.empty() || !std::all_of(child.begin(), child.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    ParsedNumber parsed = parse_decimal(child, kMaxIndex);
    if (!parsed.value || (child.size() > 1 && child[0] == '0'))
      fail(join_path(dir, child), std::string("is not a valid ") + what + " index (0.." +
                                      std::to_string(kMaxIndex) + ")");
    indices.push_back(*parsed.value);
  }
  if (indices.empty()) fail(dir, std::string("has no ") + what);
  std::sort(indices.begin(), indices.end());
  for (size_t i = 0; i < indices.size(); ++i)
    if (indices[i] != i)
      fail(dir, std::string(what) + " indices must be contiguous from 0, but " +
                    (indices[i] > i ? std::to_string(i) + " is missing"
                                    : std::to_string(indices[i]) + " appears twice"));
  return indices.size();
}

bool has_transport_node(const ConfigDir& stream_dir) {
  return std::any_of(std::begin(abi::kStreamTransportNodes), std::end(abi::kStreamTransportNodes),
                     [&](const char* node) { return stream_dir.has(node); });
}

StreamConfig read_stream(const ConfigDir& dir, size_t pcm_index, size_t stream_index, const Inherited& above) {
  StreamConfig stream;
  stream.pcm_index = pcm_index;
  stream.stream_index = stream_index;
  stream.xenstore_path = dir.path();

  std::string type_path = dir.node(XENSND_FIELD_TYPE);
  std::optional<std::string> type = dir.read(XENSND_FIELD_TYPE);
  if (!type) fail(type_path, "missing (must be \"p\" or \"c\")");
  std::string_view type_text = trim_blanks(*type);
  if (type_text == XENSND_STREAM_TYPE_PLAYBACK)
    stream.type = StreamType::kPlayback;
  else if (type_text == XENSND_STREAM_TYPE_CAPTURE)
    stream.type = StreamType::kCapture;
  else
    fail(type_path, "'" + *type + "' is neither \"p\" (playback) nor \"c\" (capture)");

  std::string id_path = dir.node(XENSND_FIELD_STREAM_UNIQUE_ID);
  std::optional<std::string> unique_id = dir.read(XENSND_FIELD_STREAM_UNIQUE_ID);
  if (!unique_id || unique_id->empty()) fail(id_path, "missing (the backend selects its device by it)");
  stream.unique_id = *unique_id;

  stream.limits = with_defaults(narrow(above, read_level(dir), dir.path()));
  return stream;
}

}  // namespace

std::vector<const StreamConfig*> CardConfig::streams() const {
  std::vector<const StreamConfig*> all;
  for (const PcmDeviceConfig& pcm : pcm_devices)
    for (const StreamConfig& stream : pcm.streams) all.push_back(&stream);
  return all;
}

CardConfig read_card_config(xenio::XenStore& store, std::string_view device_path) {
  CardConfig card;
  card.xenstore_path = std::string(device_path);
  const ConfigDir card_dir(store, card.xenstore_path);
  size_t pcm_count = count_indexed_children(card_dir, "PCM device");
  card.frontend_nodes_present = card_dir.has(XENSND_FIELD_FE_VERSION);
  card.short_name = card_dir.read(XENSND_FIELD_VCARD_SHORT_NAME).value_or("");
  card.long_name = card_dir.read(XENSND_FIELD_VCARD_LONG_NAME).value_or("");
  Inherited card_limits = narrow(Inherited{}, read_level(card_dir), card.xenstore_path);

  for (size_t p = 0; p < pcm_count; ++p) {
    PcmDeviceConfig pcm;
    pcm.index = p;
    const ConfigDir pcm_dir(store, join_path(card.xenstore_path, std::to_string(p)));
    pcm.name = pcm_dir.read(XENSND_FIELD_DEVICE_NAME).value_or("");
    Inherited pcm_limits = narrow(card_limits, read_level(pcm_dir), pcm_dir.path());
    size_t stream_count = count_indexed_children(pcm_dir, "stream");
    for (size_t s = 0; s < stream_count; ++s) {
      const ConfigDir stream_dir(store, join_path(pcm_dir.path(), std::to_string(s)));
      card.frontend_nodes_present = card.frontend_nodes_present || has_transport_node(stream_dir);
      pcm.streams.push_back(read_stream(stream_dir, p, s, pcm_limits));
    }
    card.pcm_devices.push_back(std::move(pcm));
  }
  return card;
}

}  // namespace xensnd
