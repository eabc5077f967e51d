#include "protocol/xenstore_values.h"

#include "protocol/sndif_abi.h"

namespace xensnd {

std::string_view trim_blanks(std::string_view text) {
  constexpr std::string_view kBlanks = " \t\n\r";
  size_t first = text.find_first_not_of(kBlanks);
  if (first == std::string_view::npos) return {};
  size_t last = text.find_last_not_of(kBlanks);
  return text.substr(first, last - first + 1);
}

ParsedNumber parse_decimal(std::string_view text, uint64_t max) {
  std::string_view digits = trim_blanks(text);
  auto quoted = [&] { return "'" + std::string(text) + "'"; };
  if (digits.empty()) return {std::nullopt, "empty value where a number is expected"};
  uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return {std::nullopt, quoted() + " is not a decimal number"};
    unsigned digit = static_cast<unsigned>(c - '0');
    if (digit > max) return {std::nullopt, quoted() + " is larger than " + std::to_string(max)};
    // Checked before multiplying: a 30-digit string must not wrap around.
    if (value > (max - digit) / 10) return {std::nullopt, quoted() + " is larger than " + std::to_string(max)};
    value = value * 10 + digit;
  }
  return {value, {}};
}

std::vector<std::string_view> split_list(std::string_view text) {
  std::vector<std::string_view> items;
  constexpr std::string_view kSeparator = XENSND_LIST_SEPARATOR;
  size_t start = 0;
  while (true) {
    size_t end = text.find(kSeparator, start);
    if (end == std::string_view::npos) {
      items.push_back(trim_blanks(text.substr(start)));
      return items;
    }
    items.push_back(trim_blanks(text.substr(start, end - start)));
    start = end + kSeparator.size();
  }
}

std::string join_path(std::string_view dir, std::string_view child) {
  std::string path(dir);
  if (!path.empty() && path.back() != '/') path += '/';
  path += child;
  return path;
}

}  // namespace xensnd
