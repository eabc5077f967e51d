#include "sim/toolstack/vsnd_config.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace simxen::toolstack {

namespace {

std::string trim(std::string_view text) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  size_t last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t end = text.find(separator, start);
    parts.push_back(std::string(text.substr(start, end == std::string_view::npos ? end : end - start)));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// ---- the xl.cfg list: [['item', 'item'], ...] -------------------------------------------

class ListParser {
 public:
  explicit ListParser(std::string_view text) : text_(text) {}

  std::vector<std::vector<std::string>> cards() {
    std::vector<std::vector<std::string>> result;
    expect('[');
    if (peek() == ']') throw ConfigError("vsnd list is empty");
    for (;;) {
      result.push_back(card());
      if (peek() == ',') { ++pos_; if (peek() == ']') break; continue; }  // xl allows a trailing comma
      break;
    }
    expect(']');
    if (peek() != '\0') throw ConfigError("unexpected text after the vsnd list at offset " + std::to_string(pos_));
    return result;
  }

 private:
  std::vector<std::string> card() {
    std::vector<std::string> items;
    expect('[');
    while (peek() != ']') {
      items.push_back(quoted());
      if (peek() == ',') ++pos_;
      else if (peek() != ']') throw ConfigError("expected ',' or ']' in the vsnd card list at offset " + std::to_string(pos_));
    }
    expect(']');
    if (items.empty()) throw ConfigError("a vsnd card has no items");
    return items;
  }

  std::string quoted() {
    char quote = peek();
    if (quote != '\'' && quote != '"') throw ConfigError("expected a quoted vsnd item at offset " + std::to_string(pos_));
    size_t end = text_.find(quote, ++pos_);
    if (end == std::string_view::npos) throw ConfigError("unterminated quoted vsnd item");
    std::string item(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return item;
  }

  char peek() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }

  void expect(char c) {
    if (peek() != c) throw ConfigError(std::string("expected '") + c + "' in the vsnd list at offset " + std::to_string(pos_));
    ++pos_;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// ---- one item: "CARD, key=value, ..." as xl's parse_vsnd_item() -----------------------

unsigned parse_number(const std::string& key, const std::string& value) {
  unsigned number = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || number == 0)
    throw ConfigError("invalid " + key + " '" + value + "': expected a positive number");
  return number;
}

const std::vector<std::string>& known_formats() {
  // libxl_vsnd_pcm_format, as libxl_vsnd_pcm_format_to_string() spells them.
  static const std::vector<std::string> formats = {
      "s8", "u8", "s16_le", "s16_be", "u16_le", "u16_be", "s24_le", "s24_be", "u24_le", "u24_be",
      "s32_le", "s32_be", "u32_le", "u32_be", "f32_le", "f32_be", "f64_le", "f64_be",
      "iec958_subframe_le", "iec958_subframe_be", "mu_law", "a_law", "ima_adpcm", "mpeg", "gsm"};
  return formats;
}

// Returns false if `key` is not one of the parameters every level takes.
bool parse_common_param(const std::string& key, const std::string& value, VsndParams* params) {
  if (key == "sample-rates") {
    params->sample_rates.clear();
    for (const auto& rate : split(value, ';')) params->sample_rates.push_back(parse_number(key, trim(rate)));
  } else if (key == "sample-formats") {
    params->sample_formats.clear();
    for (const auto& raw : split(value, ';')) {
      std::string format = lower(trim(raw));
      const auto& formats = known_formats();
      if (std::find(formats.begin(), formats.end(), format) == formats.end())
        throw ConfigError("invalid pcm format '" + trim(raw) + "'");
      params->sample_formats.push_back(format);
    }
  } else if (key == "channels-min") {
    params->channels_min = parse_number(key, value);
  } else if (key == "channels-max") {
    params->channels_max = parse_number(key, value);
  } else if (key == "buffer-size") {
    params->buffer_size = parse_number(key, value);
  } else {
    return false;
  }
  return true;
}

void parse_item(const std::string& item, VsndCard* card) {
  std::vector<std::string> tokens;
  for (const auto& raw : split(item, ',')) {
    std::string token = trim(raw);
    if (!token.empty()) tokens.push_back(token);  // xl's strtok skips empty tokens
  }
  if (tokens.empty()) throw ConfigError("empty vsnd item");
  std::string kind = lower(tokens[0]);
  if (kind == "pcm") {
    card->pcms.emplace_back();
  } else if (kind == "stream") {
    if (card->pcms.empty()) card->pcms.emplace_back();  // as xl: a stream implies a pcm
    card->pcms.back().streams.emplace_back();
  } else if (kind != "card") {
    throw ConfigError("invalid vsnd item key '" + tokens[0] + "': expected CARD, PCM or STREAM");
  }
  for (size_t i = 1; i < tokens.size(); ++i) {
    size_t equals = tokens[i].find('=');
    if (equals == std::string::npos || equals == 0)
      throw ConfigError("invalid vsnd parameter '" + tokens[i] + "' in " + tokens[0] + ": expected key=value");
    std::string key = trim(tokens[i].substr(0, equals));
    std::string value = trim(tokens[i].substr(equals + 1));
    VsndParams* params = kind == "card" ? &card->params
                         : kind == "pcm" ? &card->pcms.back().params
                                         : &card->pcms.back().streams.back().params;
    if (parse_common_param(key, value, params)) continue;
    if (kind == "card" && key == "backend") card->backend = value;
    else if (kind == "card" && key == "short-name") card->short_name = value;
    else if (kind == "card" && key == "long-name") card->long_name = value;
    else if (kind == "pcm" && key == "name") card->pcms.back().name = value;
    else if (kind == "stream" && key == "unique-id") card->pcms.back().streams.back().unique_id = value;
    else if (kind == "stream" && key == "type") {
      std::string type = lower(value);
      if (type != "p" && type != "c") throw ConfigError("invalid stream type '" + value + "': expected P or C");
      card->pcms.back().streams.back().type = type;
    } else {
      throw ConfigError("invalid vsnd parameter '" + key + "' for " + tokens[0]);
    }
  }
}

void check_params(const VsndParams& params, const std::string& where) {
  if (params.channels_min && params.channels_max && params.channels_min > params.channels_max)
    throw ConfigError(where + ": channels-min is greater than channels-max");
}

// Stricter than xl where a frontend or backend would fail later and more obscurely.
void validate(const VsndCard& card) {
  check_params(card.params, "card");
  if (card.pcms.empty()) throw ConfigError("the vsnd card has no PCM device");
  for (size_t p = 0; p < card.pcms.size(); ++p) {
    const auto& pcm = card.pcms[p];
    check_params(pcm.params, "pcm " + std::to_string(p));
    if (pcm.streams.empty()) throw ConfigError("pcm " + std::to_string(p) + " has no STREAM");
    for (size_t s = 0; s < pcm.streams.size(); ++s) {
      std::string where = "pcm " + std::to_string(p) + " stream " + std::to_string(s);
      check_params(pcm.streams[s].params, where);
      if (pcm.streams[s].unique_id.empty()) throw ConfigError(where + " has no unique-id");
      if (pcm.streams[s].type.empty()) throw ConfigError(where + " has no type (P or C)");
    }
  }
}

void append_params(const std::string& prefix, const VsndParams& params,
                   std::vector<std::pair<std::string, std::string>>* entries) {
  auto join = [](const auto& values, auto to_text) {
    std::string text;
    for (const auto& value : values) text += (text.empty() ? "" : ",") + to_text(value);
    return text;
  };
  if (!params.sample_rates.empty())
    entries->emplace_back(prefix + "sample-rates", join(params.sample_rates, [](unsigned r) { return std::to_string(r); }));
  if (!params.sample_formats.empty())
    entries->emplace_back(prefix + "sample-formats", join(params.sample_formats, [](const std::string& f) { return f; }));
  if (params.channels_min) entries->emplace_back(prefix + "channels-min", std::to_string(params.channels_min));
  if (params.channels_max) entries->emplace_back(prefix + "channels-max", std::to_string(params.channels_max));
  if (params.buffer_size) entries->emplace_back(prefix + "buffer-size", std::to_string(params.buffer_size));
}

}  // namespace

VsndCard parse_vsnd_config(const std::string& text) {
  std::string body = trim(text);
  if (body.rfind("vsnd", 0) == 0) {
    size_t equals = body.find('=');
    if (equals == std::string::npos) throw ConfigError("expected 'vsnd=' followed by a list");
    body = trim(body.substr(equals + 1));
  }
  std::vector<std::string> items;
  if (!body.empty() && body.front() == '[') {
    auto cards = ListParser(body).cards();
    if (cards.size() != 1)
      throw ConfigError("the vsnd list has " + std::to_string(cards.size()) + " cards; attach one card per --devid");
    items = cards.front();
  } else {
    items = split(body, '|');
  }
  VsndCard card;
  for (const auto& item : items) parse_item(item, &card);
  validate(card);
  return card;
}

std::vector<std::pair<std::string, std::string>> vsnd_frontend_entries(const VsndCard& card) {
  std::vector<std::pair<std::string, std::string>> entries;
  if (!card.long_name.empty()) entries.emplace_back("long-name", card.long_name);
  if (!card.short_name.empty()) entries.emplace_back("short-name", card.short_name);
  append_params("", card.params, &entries);
  for (size_t p = 0; p < card.pcms.size(); ++p) {
    const auto& pcm = card.pcms[p];
    std::string pcm_prefix = std::to_string(p) + "/";
    if (!pcm.name.empty()) entries.emplace_back(pcm_prefix + "name", pcm.name);
    append_params(pcm_prefix, pcm.params, &entries);
    for (size_t s = 0; s < pcm.streams.size(); ++s) {
      const auto& stream = pcm.streams[s];
      std::string prefix = pcm_prefix + std::to_string(s) + "/";
      entries.emplace_back(prefix + "unique-id", stream.unique_id);
      entries.emplace_back(prefix + "type", stream.type);
      append_params(prefix, stream.params, &entries);
    }
  }
  return entries;
}

}  // namespace simxen::toolstack
