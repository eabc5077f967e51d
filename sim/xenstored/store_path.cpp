#include "sim/xenstored/store_path.h"

#include "sim/xenstored/wire_format.h"

namespace simxen::xs {

std::string domain_path(uint32_t domid) { return "/local/domain/" + std::to_string(domid); }

static bool valid_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '/' || c == '_' || c == '@';
}

bool is_valid_absolute_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  if (path.size() > 1 && path.back() == '/') return false;
  if (path.find("//") != std::string_view::npos) return false;
  if (path.size() > XENSTORE_ABS_PATH_MAX) return false;
  for (char c : path)
    if (!valid_char(c)) return false;
  return true;
}

std::optional<std::string> canonicalize(std::string_view given, uint32_t domid) {
  if (!given.empty() && given.front() == '@') {
    if (given.size() > XENSTORE_REL_PATH_MAX) return std::nullopt;
    return std::string(given);
  }
  std::string path = (!given.empty() && given.front() == '/')
                         ? std::string(given)
                         : domain_path(domid) + "/" + std::string(given);
  if (!is_valid_absolute_path(path)) return std::nullopt;
  return path;
}

std::string parent_of(std::string_view path) {
  auto slash = path.rfind('/');
  if (slash == 0 || slash == std::string_view::npos) return "/";
  return std::string(path.substr(0, slash));
}

std::string basename_of(std::string_view path) {
  auto slash = path.rfind('/');
  return std::string(path.substr(slash == std::string_view::npos ? 0 : slash + 1));
}

std::string child_path(std::string_view parent, std::string_view name) {
  if (parent == "/") return "/" + std::string(name);
  return std::string(parent) + "/" + std::string(name);
}

bool is_same_or_below(std::string_view path, std::string_view ancestor) {
  if (ancestor == "/") return !path.empty() && path.front() == '/';
  if (path.size() < ancestor.size() || path.substr(0, ancestor.size()) != ancestor) return false;
  return path.size() == ancestor.size() || path[ancestor.size()] == '/';
}

}  // namespace simxen::xs
