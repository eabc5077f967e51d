#include "namehints/pcm_hint.h"

#include "protocol/card_config.h"
#include "protocol/errors.h"
#include "protocol/vsnd_devices.h"
#include "protocol/xenstore_values.h"

namespace xensnd::hints {
namespace {

std::optional<unsigned> parse_index(std::string_view text) {
  // Device ids are domid-like (< 2^16 in practice); an index this large is no device.
  if (auto parsed = parse_decimal(text, 0xffff).value) return static_cast<unsigned>(*parsed);
  return std::nullopt;
}

std::string io_direction(const PcmDeviceConfig& pcm) {
  bool playback = false, capture = false;
  for (const StreamConfig& stream : pcm.streams) (stream.type == StreamType::kPlayback ? playback : capture) = true;
  if (playback && !capture) return "|IOIDOutput";
  if (capture && !playback) return "|IOIDInput";
  return "";
}

}  // namespace

PcmHint describe_pcm(xenio::XenStore& store, std::string_view dev, std::string_view pcm) {
  std::optional<unsigned> device;
  if (dev.empty()) {
    const std::vector<unsigned> devices = list_vsnd_devices(store);
    if (devices.empty()) return {};
    device = devices.front();
  } else {
    device = parse_index(dev);
  }
  const std::optional<unsigned> pcm_index = pcm.empty() ? std::optional<unsigned>(0) : parse_index(pcm);
  if (!device || !pcm_index) return {};
  CardConfig card;
  try {
    card = read_card_config(store, "device/vsnd/" + std::to_string(*device));
  } catch (const FrontendError&) {
    return {};  // no such card, or one the plugin could not open either: not offered
  }
  if (*pcm_index >= card.pcm_devices.size()) return {};
  const PcmDeviceConfig& pcm_device = card.pcm_devices[*pcm_index];
  const std::string where = "vsnd card " + std::to_string(*device) + ", PCM device " + std::to_string(*pcm_index);
  PcmHint hint;
  hint.show = true;
  hint.description = card.long_name + ", " + pcm_device.name + "\n" +
                     (dev.empty() ? "Xen para-virtual sound, the first card (" + where + ")"
                                  : "Xen para-virtual sound (" + where + ")") +
                     io_direction(pcm_device);
  return hint;
}

}  // namespace xensnd::hints
