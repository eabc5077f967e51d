#include "sim/xenstored/wire_format.h"

#include <cerrno>
#include <cstring>

namespace simxen::xs {

std::string encode_message(uint32_t type, uint32_t req_id, uint32_t tx_id, std::string_view payload) {
  xsd_sockmsg header{type, req_id, tx_id, static_cast<uint32_t>(payload.size())};
  std::string bytes(sizeof header, '\0');
  std::memcpy(bytes.data(), &header, sizeof header);
  bytes.append(payload);
  return bytes;
}

const char* error_name(int error) {
  for (const auto& entry : xsd_errors)
    if (entry.errnum == error) return entry.errstring;
  return "EINVAL";
}

std::vector<std::string_view> split_strings(std::string_view payload) {
  std::vector<std::string_view> strings;
  size_t start = 0;
  while (start < payload.size()) {
    size_t nul = payload.find('\0', start);
    if (nul == std::string_view::npos) break;
    strings.push_back(payload.substr(start, nul - start));
    start = nul + 1;
  }
  return strings;
}

std::optional<std::string_view> single_argument(std::string_view payload) {
  if (payload.empty() || payload.find('\0') != payload.size() - 1) return std::nullopt;
  return payload.substr(0, payload.size() - 1);
}

}  // namespace simxen::xs
