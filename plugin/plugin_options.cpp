#include "plugin/plugin_options.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <optional>
#include <string_view>

namespace xensnd::plugin {
namespace {

std::string option_name(snd_config_t* node) {
  const char* id = nullptr;
  if (snd_config_get_id(node, &id) < 0 || id == nullptr) return "?";
  return id;
}

// A string option's integer: plain decimal only. strtoll's base 0 would read "010" as 8 and
// "0x10" as 16, and would skip leading blanks; none of that is what a user typing a card
// number means, so anything but [-]digits (and a leading zero before more digits) is refused.
std::optional<long long> strict_decimal(std::string_view text) {
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '-') digits.remove_prefix(1);
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  if (digits.size() > 1 && digits.front() == '0') return std::nullopt;
  long long value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return text.front() == '-' ? -value : value;
}

// Integers may arrive as integers or, from @args and hand-written files, as strings.
long long integer_value(snd_config_t* node, long long min, long long max) {
  const std::string name = option_name(node);
  long long value = 0;
  switch (snd_config_get_type(node)) {
    case SND_CONFIG_TYPE_INTEGER: {
      long v = 0;
      snd_config_get_integer(node, &v);
      value = v;
      break;
    }
    case SND_CONFIG_TYPE_INTEGER64:
      snd_config_get_integer64(node, &value);
      break;
    case SND_CONFIG_TYPE_STRING: {
      const char* text = nullptr;
      snd_config_get_string(node, &text);
      if (text == nullptr || *text == '\0')
        throw OptionError("option '" + name + "' is empty; it needs an integer");
      const std::optional<long long> parsed = strict_decimal(text);
      if (!parsed)
        throw OptionError("option '" + name + "' is \"" + text +
                          "\"; it needs a decimal integer (digits only, no leading zero)");
      value = *parsed;
      break;
    }
    default:
      throw OptionError("option '" + name + "' must be an integer");
  }
  if (value < min || value > max)
    throw OptionError("option '" + name + "' is " + std::to_string(value) + "; it must be between " +
                      std::to_string(min) + " and " + std::to_string(max));
  return value;
}

std::string string_value(snd_config_t* node) {
  const char* text = nullptr;
  if (snd_config_get_type(node) != SND_CONFIG_TYPE_STRING || snd_config_get_string(node, &text) < 0 ||
      text == nullptr)
    throw OptionError("option '" + option_name(node) + "' must be a string");
  return text;
}

}  // namespace

PluginOptions parse_plugin_options(snd_config_t* conf) {
  PluginOptions options;
  snd_config_iterator_t i, next;
  snd_config_for_each(i, next, conf) {
    snd_config_t* node = snd_config_iterator_entry(i);
    const std::string name = option_name(node);
    if (name == "comment" || name == "type" || name == "hint") continue;
    if (name == "device") {
      // An empty string is how the @args definition says "not given" (the first card).
      if (snd_config_get_type(node) == SND_CONFIG_TYPE_STRING && string_value(node).empty()) continue;
      options.device = static_cast<unsigned>(integer_value(node, 0, INT_MAX));
    } else if (name == "pcm") {
      // Empty: not given (PCM 0, or whatever unique_id selects), as with device.
      if (snd_config_get_type(node) == SND_CONFIG_TYPE_STRING && string_value(node).empty()) continue;
      options.pcm = static_cast<unsigned>(integer_value(node, 0, INT_MAX));
    } else if (name == "stream") {
      options.stream = static_cast<unsigned>(integer_value(node, 0, INT_MAX));
    } else if (name == "unique_id") {
      // An empty string is how the @args definition says "not given".
      std::string id = string_value(node);
      if (!id.empty()) options.unique_id = std::move(id);
    } else if (name == "delay") {
      // Added to every delay report: a negative value would make snd_pcm_delay() report
      // frames played that were never written.
      options.delay_frames = static_cast<long>(integer_value(node, 0, 1000000));
    } else if (name == "period_frames_min") {
      options.period_frames_min = static_cast<unsigned>(integer_value(node, 1, 1 << 20));
    } else if (name == "handshake_timeout_ms") {
      options.handshake_timeout = std::chrono::milliseconds(integer_value(node, 1, 600000));
    } else if (name == "response_timeout_ms") {
      options.response_timeout = std::chrono::milliseconds(integer_value(node, 1, 600000));
    } else if (name == "position_timeout_ms") {
      options.position_timeout = std::chrono::milliseconds(integer_value(node, 1, 600000));
    } else {
      throw OptionError("unknown option '" + name +
                        "' (known: device, pcm, stream, unique_id, delay, period_frames_min, "
                        "handshake_timeout_ms, response_timeout_ms, position_timeout_ms)");
    }
  }
  if (options.unique_id && (options.pcm || options.stream))
    throw OptionError("option 'unique_id' selects the stream by itself; do not combine it with "
                      "'pcm' or 'stream'");
  return options;
}

}  // namespace xensnd::plugin
