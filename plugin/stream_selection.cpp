#include "plugin/stream_selection.h"

#include <stdexcept>

namespace xensnd::plugin {
namespace {

const char* direction_name(StreamType type) {
  return type == StreamType::kPlayback ? "playback" : "capture";
}

std::string describe_streams(const CardConfig& card) {
  std::string text;
  for (const StreamConfig* s : card.streams()) {
    if (!text.empty()) text += ", ";
    text += "pcm " + std::to_string(s->pcm_index) + " stream " + std::to_string(s->stream_index) +
            " (" + direction_name(s->type) + ", unique-id \"" + s->unique_id + "\")";
  }
  return text.empty() ? "no streams" : text;
}

}  // namespace

const StreamConfig& select_stream(const CardConfig& card, const StreamSelector& selector,
                                  StreamType direction) {
  const std::string offers = "; card " + card.xenstore_path + " has " + describe_streams(card);
  if (selector.unique_id) {
    for (const StreamConfig* s : card.streams()) {
      if (s->unique_id != *selector.unique_id) continue;
      if (s->type != direction)
        throw std::invalid_argument("option 'unique_id': stream \"" + *selector.unique_id +
                                    "\" is a " + direction_name(s->type) +
                                    " stream, but the PCM was opened for " +
                                    direction_name(direction) + offers);
      return *s;
    }
    throw std::invalid_argument("option 'unique_id': no stream has unique-id \"" +
                                *selector.unique_id + "\"" + offers);
  }
  const unsigned pcm = selector.pcm.value_or(0);
  if (pcm >= card.pcm_devices.size())
    throw std::invalid_argument("option 'pcm': the card has no PCM device " + std::to_string(pcm) +
                                offers);
  const PcmDeviceConfig& device = card.pcm_devices[pcm];
  if (selector.stream) {
    if (*selector.stream >= device.streams.size())
      throw std::invalid_argument("option 'stream': PCM device " + std::to_string(pcm) +
                                  " has no stream " + std::to_string(*selector.stream) + offers);
    const StreamConfig& s = device.streams[*selector.stream];
    if (s.type != direction)
      throw std::invalid_argument("option 'stream': stream " + std::to_string(*selector.stream) +
                                  " of PCM device " + std::to_string(pcm) + " is a " +
                                  direction_name(s.type) + " stream, but the PCM was opened for " +
                                  direction_name(direction) + offers);
    return s;
  }
  for (const StreamConfig& s : device.streams)
    if (s.type == direction) return s;
  throw std::invalid_argument(std::string(selector.pcm ? "option 'pcm'" : "default PCM device 0") +
                              ": PCM device " + std::to_string(pcm) + " has no " +
                              direction_name(direction) + " stream" + offers);
}

}  // namespace xensnd::plugin
