#include "sim/xenstored/node_permissions.h"

#include <charconv>

namespace simxen::xs {

std::optional<PermEntry> parse_perm(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  PermEntry entry;
  switch (text.front()) {
    case 'n': entry.access = kNone; break;
    case 'r': entry.access = kRead; break;
    case 'w': entry.access = kWrite; break;
    case 'b': entry.access = kBoth; break;
    default: return std::nullopt;
  }
  const char* first = text.data() + 1;
  const char* last = text.data() + text.size();
  auto [end, ec] = std::from_chars(first, last, entry.domid);
  if (ec != std::errc() || end != last || entry.domid > 0xffff) return std::nullopt;
  return entry;
}

std::string format_perm(const PermEntry& entry) {
  static constexpr char letters[] = {'n', 'r', 'w', 'b'};
  return letters[entry.access & kBoth] + std::to_string(entry.domid);
}

unsigned access_for(const PermList& perms, uint32_t domid, bool privileged) {
  if (privileged) return kBoth;
  if (perms.empty()) return kNone;
  if (perms[0].domid == domid) return kBoth;
  for (size_t i = 1; i < perms.size(); ++i)
    if (perms[i].domid == domid) return perms[i].access;
  return perms[0].access;
}

}  // namespace simxen::xs
