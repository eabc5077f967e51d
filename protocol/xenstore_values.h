// Strict parsing of the values found in XenStore nodes. The other side of XenStore may be
// a toolstack with a typo or a hostile domain: nothing is trusted, every failure says why.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xensnd {

// A decimal number with optional surrounding blanks, no sign, no other characters, at most
// `max`. nullopt and a reason otherwise.
struct ParsedNumber {
  std::optional<uint64_t> value;
  std::string problem;  // set when value is empty, e.g. "'12x' is not a decimal number"
};
ParsedNumber parse_decimal(std::string_view text, uint64_t max);

// Splits a XENSND_LIST_SEPARATOR list; items are trimmed of blanks. Empty items are kept
// (as empty strings) so the caller can reject them with a precise message.
std::vector<std::string_view> split_list(std::string_view text);

std::string_view trim_blanks(std::string_view text);

// Joins a directory path and a child node name with '/'.
std::string join_path(std::string_view dir, std::string_view child);

}  // namespace xensnd
