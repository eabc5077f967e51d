// The plugin's options: any text alsa-lib's configuration parser accepts (loaded with
// snd_config_load() from the input, as the body of a `pcm.NAME { ... }` definition) given
// to parse_plugin_options().
//
// Checked: anything wrong is an OptionError naming the option, never another exception;
// options that are accepted mean what they say, restated here independently: a number
// (an integer, or a string of decimal digits as @args passes them) is taken in decimal and
// within its range, so "010" is ten or refused, never eight; the delay is never negative;
// an empty device/pcm/unique_id string means "not given"; unique_id never comes with pcm or
// stream.
#include <fuzzer/FuzzedDataProvider.h>

#include <alsa/asoundlib.h>

#include <cctype>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "fuzz/fuzz_check.h"
#include "plugin/plugin_options.h"

namespace {

using ConfigPtr = std::unique_ptr<snd_config_t, decltype(&snd_config_delete)>;

// An integer option's value as the node gives it, if it is one: an integer, or a string of
// decimal digits (after blanks and a sign).
std::optional<long long> decimal_value(snd_config_t* node) {
  switch (snd_config_get_type(node)) {
    case SND_CONFIG_TYPE_INTEGER: {
      long v = 0;
      snd_config_get_integer(node, &v);
      return v;
    }
    case SND_CONFIG_TYPE_INTEGER64: {
      long long v = 0;
      snd_config_get_integer64(node, &v);
      return v;
    }
    case SND_CONFIG_TYPE_STRING: {
      const char* text = nullptr;
      if (snd_config_get_string(node, &text) < 0 || !text) return std::nullopt;
      // Leading blanks and a sign are harmless; digits are decimal whatever they start with.
      std::string s = text;
      size_t at = 0;
      while (at < s.size() && std::isspace(static_cast<unsigned char>(s[at]))) ++at;
      bool negative = at < s.size() && s[at] == '-';
      if (at < s.size() && (s[at] == '-' || s[at] == '+')) ++at;
      if (at == s.size()) return std::nullopt;
      for (size_t i = at; i < s.size(); ++i)
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
      size_t first = s.find_first_not_of('0', at);
      if (first == std::string::npos) return 0;
      if (s.size() - first > 18) return std::nullopt;  // beyond every option's range
      long long magnitude = std::stoll(s.substr(first));
      return negative ? -magnitude : magnitude;
    }
    default:
      return std::nullopt;
  }
}

bool empty_string(snd_config_t* node) {
  const char* text = nullptr;
  return snd_config_get_type(node) == SND_CONFIG_TYPE_STRING && snd_config_get_string(node, &text) >= 0 && text &&
         *text == '\0';
}

// alsa-lib reports every syntax error on stderr: the fuzzer makes millions.
void quiet(const char*, int, const char*, int, const char*, ...) {}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  snd_lib_error_set_handler(quiet);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  snd_input_t* input = nullptr;
  if (snd_input_buffer_open(&input, reinterpret_cast<const char*>(data), static_cast<ssize_t>(size)) < 0) return 0;
  snd_config_t* raw = nullptr;
  if (snd_config_top(&raw) < 0) {
    snd_input_close(input);
    return 0;
  }
  ConfigPtr top(raw, &snd_config_delete);
  int loaded = snd_config_load(top.get(), input);
  snd_input_close(input);
  if (loaded < 0) return 0;  // not alsa-lib's syntax: never reaches the plugin

  xensnd::plugin::PluginOptions options;
  try {
    options = xensnd::plugin::parse_plugin_options(top.get());
  } catch (const xensnd::plugin::OptionError& e) {
    FUZZ_CHECK(std::string(e.what()).find("option") != std::string::npos);
    return 0;
  }

  // Accepted: each option as the last node of that name says.
  std::map<std::string, snd_config_t*> last;
  snd_config_iterator_t i, next;
  snd_config_for_each(i, next, top.get()) {
    snd_config_t* node = snd_config_iterator_entry(i);
    const char* id = nullptr;
    FUZZ_CHECK(snd_config_get_id(node, &id) >= 0 && id);
    last[id] = node;
  }
  auto number = [&](const char* name) -> std::optional<long long> {
    auto it = last.find(name);
    if (it == last.end() || empty_string(it->second)) return std::nullopt;
    std::optional<long long> v = decimal_value(it->second);
    FUZZ_CHECK(v.has_value());  // accepted, so it must have been a number
    return v;
  };
  auto check_index = [&](const char* name, const std::optional<unsigned>& parsed) {
    std::optional<long long> given = number(name);
    FUZZ_CHECK(given.has_value() == parsed.has_value());
    if (given) FUZZ_CHECK(*given >= 0 && static_cast<long long>(*parsed) == *given);
  };
  check_index("device", options.device);
  check_index("pcm", options.pcm);
  check_index("stream", options.stream);
  if (auto delay = number("delay")) FUZZ_CHECK(options.delay_frames == *delay);
  FUZZ_CHECK(options.delay_frames >= 0);
  if (auto v = number("period_frames_min")) FUZZ_CHECK(options.period_frames_min == *v);
  FUZZ_CHECK(options.period_frames_min >= 1);
  if (auto v = number("handshake_timeout_ms")) FUZZ_CHECK(options.handshake_timeout.count() == *v);
  if (auto v = number("response_timeout_ms")) FUZZ_CHECK(options.response_timeout.count() == *v);
  if (auto v = number("position_timeout_ms")) FUZZ_CHECK(options.position_timeout.count() == *v);
  for (auto timeout : {options.handshake_timeout, options.response_timeout, options.position_timeout})
    FUZZ_CHECK(timeout.count() > 0);
  if (options.unique_id) FUZZ_CHECK(!options.unique_id->empty() && !options.pcm && !options.stream);
  return 0;
}
