// The JSON listing. Strings from XenStore are escaped (any byte < 0x20, quote, backslash):
// a backend or toolstack controls them.
#include <cstdio>
#include <sstream>

#include "protocol/pcm_format.h"
#include "tools/info/report_format.h"

namespace xensnd::info {
namespace {

std::string quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned char>(c));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string quote_or_null(const std::optional<std::string>& text) { return text ? quote(*text) : "null"; }

std::string format_list(uint64_t mask) {
  std::string out = "[";
  bool first = true;
  for (uint8_t f = 0; f < kSndifFormatCount; ++f) {
    if (!(mask & (uint64_t{1} << f))) continue;
    out += (first ? "" : ",") + quote(sndif_format_name(f));
    first = false;
  }
  return out + "]";
}

void write_stream(std::ostream& out, const StreamConfig& s) {
  out << "{\"index\":" << s.stream_index << ",\"direction\":"
      << (s.type == StreamType::kPlayback ? "\"playback\"" : "\"capture\"") << ",\"unique_id\":" << quote(s.unique_id)
      << ",\"xenstore_path\":" << quote(s.xenstore_path) << ",\"formats\":" << format_list(s.limits.formats)
      << ",\"rates\":[";
  for (size_t i = 0; i < s.limits.rates.size(); ++i) out << (i ? "," : "") << s.limits.rates[i];
  out << "],\"channels_min\":" << s.limits.channels_min << ",\"channels_max\":" << s.limits.channels_max
      << ",\"buffer_bytes_max\":" << s.limits.buffer_bytes << "}";
}

void write_card(std::ostream& out, const CardReport& c) {
  out << "{\"device\":" << c.device_id << ",\"xenstore_path\":" << quote(c.xenstore_path)
      << ",\"short_name\":" << (c.config ? quote(c.config->short_name) : "null")
      << ",\"long_name\":" << (c.config ? quote(c.config->long_name) : "null")
      << ",\"config_error\":" << (c.config ? "null" : quote(c.config_error))
      << ",\"frontend_state\":" << quote(c.frontend_state)
      << ",\"backend\":{\"path\":" << (c.backend_path.empty() ? "null" : quote(c.backend_path))
      << ",\"domain\":" << (c.backend_domid ? std::to_string(*c.backend_domid) : "null")
      << ",\"state\":" << (c.backend_path.empty() ? "null" : quote(c.backend_state))
      << ",\"versions\":" << quote_or_null(c.backend_versions) << "}"
      << ",\"protocol_version\":" << quote_or_null(c.protocol_version) << ",\"holder\":";
  if (c.holder)
    out << "{\"pid\":" << (c.holder->pid > 0 ? std::to_string(c.holder->pid) : "null")
        << ",\"command\":" << (c.holder->command.empty() ? "null" : quote(c.holder->command)) << "}";
  else
    out << "null";
  out << ",\"kernel_driver\":" << quote_or_null(c.kernel_driver) << ",\"pcm_devices\":[";
  if (c.config) {
    for (size_t p = 0; p < c.config->pcm_devices.size(); ++p) {
      const PcmDeviceConfig& pcm = c.config->pcm_devices[p];
      out << (p ? "," : "") << "{\"index\":" << pcm.index << ",\"name\":" << quote(pcm.name)
          << ",\"alsa_device\":" << quote(alsa_device_name(c.device_id, pcm.index)) << ",\"streams\":[";
      for (size_t s = 0; s < pcm.streams.size(); ++s) {
        if (s) out << ",";
        write_stream(out, pcm.streams[s]);
      }
      out << "]}";
    }
  }
  out << "]}";
}

}  // namespace

std::string format_json(const std::vector<CardReport>& cards) {
  std::ostringstream out;
  out << "{\"cards\":[";
  for (size_t i = 0; i < cards.size(); ++i) {
    if (i) out << ",";
    write_card(out, cards[i]);
  }
  out << "]}\n";
  return out.str();
}

}  // namespace xensnd::info
