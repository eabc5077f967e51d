// A node's permission list as Xen keeps it: entry 0 names the owner and the access of every
// domain not listed; entries 1.. give a listed domain its access. Dom0 (privileged) and the
// owner always have full access.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace simxen::xs {

enum Access : unsigned { kNone = 0, kRead = 1, kWrite = 2, kBoth = 3 };

struct PermEntry {
  uint32_t domid = 0;
  unsigned access = kNone;
  bool operator==(const PermEntry&) const = default;
};
using PermList = std::vector<PermEntry>;

// "r5", "w0", "b3", "n7" as the wire carries them; nullopt on anything else.
std::optional<PermEntry> parse_perm(std::string_view text);
std::string format_perm(const PermEntry& entry);
// The access a connection of `domid` has (kBoth for the privileged and the owner).
unsigned access_for(const PermList& perms, uint32_t domid, bool privileged);

}  // namespace simxen::xs
