// What a process needs to run in a simulated domain: XENSTORED_PATH (its domain's XenStore
// socket, which also selects its domain for the drop-in libraries) and LD_LIBRARY_PATH (the
// directory of the drop-in libxengnttab.so.1 / libxenevtchn.so.1). Printed by the daemon and
// the toolstack as lines a shell can source: `export NAME=value`.
#pragma once

#include <filesystem>
#include <string>

namespace simxen {

// The drop-in libraries' directory: the build's sim/lib, or ../lib next to this executable.
std::filesystem::path simulator_library_dir();
std::filesystem::path xenstore_socket_path(const std::filesystem::path& run_dir, unsigned domid);
std::filesystem::path control_socket_path(const std::filesystem::path& run_dir);
// The run directory a XENSTORED_PATH of <run_dir>/dom<id>/xenstored belongs to.
std::filesystem::path run_dir_of_socket(const std::filesystem::path& xenstored_path);
// "export NAME=value\n", the value single-quoted only when the shell needs it.
std::string export_line(const std::string& name, const std::string& value);
// Both lines a process of domain `domid` needs.
std::string domain_environment(const std::filesystem::path& run_dir, unsigned domid);

}  // namespace simxen
