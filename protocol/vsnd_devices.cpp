#include "protocol/vsnd_devices.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>

#include "protocol/card_config.h"
#include "protocol/errors.h"

namespace xensnd {
namespace {

// Only plain digits: "+3", " 3" or "3a" are not the names a toolstack writes.
std::optional<unsigned> device_id_of(const std::string& name) {
  if (name.empty() || name.size() > 10) return std::nullopt;
  unsigned long long value = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > std::numeric_limits<unsigned>::max()) return std::nullopt;
  return static_cast<unsigned>(value);
}

}  // namespace

std::vector<unsigned> list_vsnd_devices(xenio::XenStore& store) {
  std::vector<unsigned> ids;
  const auto entries = store.directory("device/vsnd");
  if (!entries) return ids;
  for (const std::string& name : *entries)
    if (auto id = device_id_of(name)) ids.push_back(*id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

std::optional<unsigned> find_vsnd_device_with_stream(xenio::XenStore& store, std::string_view unique_id) {
  for (const auto& [id, stream_id] : list_stream_unique_ids(store))
    if (stream_id == unique_id) return id;
  return std::nullopt;
}

std::vector<std::pair<unsigned, std::string>> list_stream_unique_ids(xenio::XenStore& store) {
  std::vector<std::pair<unsigned, std::string>> ids;
  for (unsigned id : list_vsnd_devices(store)) {
    CardConfig config;
    try {
      config = read_card_config(store, "device/vsnd/" + std::to_string(id));
    } catch (const ConfigError&) {
      continue;  // naming the card explicitly reports why it does not parse
    }
    for (const StreamConfig* stream : config.streams())
      if (!stream->unique_id.empty()) ids.emplace_back(id, stream->unique_id);
  }
  return ids;
}

}  // namespace xensnd
