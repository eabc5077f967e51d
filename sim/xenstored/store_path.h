// XenStore node names as C xenstored accepts them: absolute, '/'-separated, no empty
// components, only [A-Za-z0-9-/_@], at most XENSTORE_ABS_PATH_MAX characters. Relative
// names are resolved against the connection's /local/domain/<id>.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace simxen::xs {

std::string domain_path(uint32_t domid);
bool is_valid_absolute_path(std::string_view path);
// Absolute path for `given` as a connection of `domid` sent it; nullopt if invalid (EINVAL).
// Names starting with '@' (special watches) are returned as they are.
std::optional<std::string> canonicalize(std::string_view given, uint32_t domid);
// Parent of an absolute path other than "/".
std::string parent_of(std::string_view path);
std::string basename_of(std::string_view path);
std::string child_path(std::string_view parent, std::string_view name);
// True when `path` is `ancestor` or lies below it.
bool is_same_or_below(std::string_view path, std::string_view ancestor);

}  // namespace simxen::xs
