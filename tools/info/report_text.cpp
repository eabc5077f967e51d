// The human listing, like `aplay -l`: one "card N: short [long], ..." line per card, then its
// PCM devices with the ALSA name that opens each, then their streams.
#include <sstream>

#include "protocol/pcm_format.h"
#include "tools/info/report_format.h"

namespace xensnd::info {
namespace {

std::string join_rates(const std::vector<uint32_t>& rates) {
  std::string text;
  for (uint32_t rate : rates) text += (text.empty() ? "" : ",") + std::to_string(rate);
  return text;
}

std::string describe_holder(const std::optional<CardHolder>& holder) {
  if (!holder) return "free";
  if (holder->pid <= 0) return "in use by another process";
  return "in use by pid " + std::to_string(holder->pid) + (holder->command.empty() ? "" : " (" + holder->command + ")");
}

void write_streams(std::ostream& out, const PcmDeviceConfig& pcm) {
  for (const StreamConfig& stream : pcm.streams) {
    const StreamLimits& l = stream.limits;
    out << "    stream " << stream.stream_index << ": "
        << (stream.type == StreamType::kPlayback ? "playback" : "capture ")
        << "  unique-id \"" << stream.unique_id << "\"  " << sndif_format_mask_names(l.formats) << "  "
        << join_rates(l.rates) << " Hz  " << l.channels_min << "-" << l.channels_max << " ch  buffer <= "
        << l.buffer_bytes << " bytes\n";
  }
}

}  // namespace

std::string format_text(const std::vector<CardReport>& cards) {
  std::ostringstream out;
  out << "**** List of vsnd cards (Xen para-virtual sound, xensnd) ****\n";
  for (const CardReport& card : cards) {
    out << "card " << card.device_id << ": ";
    if (card.config)
      out << card.config->short_name << " [" << card.config->long_name << "]";
    else
      out << "(unusable) [" << card.config_error << "]";
    out << ", backend";
    if (card.backend_domid) out << " domain " << *card.backend_domid;
    out << " " << (card.backend_path.empty() ? "missing" : card.backend_state);
    out << ", protocol "
        << (card.protocol_version ? *card.protocol_version
                                  : (card.backend_versions ? "offered " + *card.backend_versions
                                                           : std::string("2 (versions not published)")));
    out << ", " << describe_holder(card.holder);
    out << ", kernel driver " << (card.kernel_driver ? *card.kernel_driver + " BOUND" : std::string("none")) << "\n";
    if (!card.config) continue;
    for (const PcmDeviceConfig& pcm : card.config->pcm_devices) {
      out << "  device " << pcm.index << ": " << pcm.name << " [" << alsa_device_name(card.device_id, pcm.index)
          << "]\n";
      write_streams(out, pcm);
    }
  }
  return out.str();
}

}  // namespace xensnd::info
