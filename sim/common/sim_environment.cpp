#include "sim/common/sim_environment.h"

#include <unistd.h>

#include <string_view>
#include <system_error>

#ifndef XENSND_SIM_LIBDIR
#define XENSND_SIM_LIBDIR ""
#endif

namespace simxen {

namespace fs = std::filesystem;

fs::path simulator_library_dir() {
  std::error_code error;
  fs::path built(XENSND_SIM_LIBDIR);
  if (!built.empty() && fs::is_directory(built, error)) return built;
  fs::path self = fs::read_symlink("/proc/self/exe", error);
  if (!error) return (self.parent_path() / ".." / "lib").lexically_normal();
  return built;
}

fs::path xenstore_socket_path(const fs::path& run_dir, unsigned domid) {
  return run_dir / ("dom" + std::to_string(domid)) / "xenstored";
}

fs::path control_socket_path(const fs::path& run_dir) { return run_dir / "control"; }

fs::path run_dir_of_socket(const fs::path& xenstored_path) {
  return xenstored_path.parent_path().parent_path();
}

std::string export_line(const std::string& name, const std::string& value) {
  bool plain = !value.empty();
  for (char c : value) {
    bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                std::string_view("/._+-:=@,%").find(c) != std::string_view::npos;
    plain = plain && safe;
  }
  if (plain) return "export " + name + "=" + value + "\n";
  std::string quoted = "'";
  for (char c : value) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return "export " + name + "=" + quoted + "'\n";
}

std::string domain_environment(const fs::path& run_dir, unsigned domid) {
  return export_line("XENSTORED_PATH", xenstore_socket_path(run_dir, domid).string()) +
         export_line("LD_LIBRARY_PATH", simulator_library_dir().string());
}

}  // namespace simxen
