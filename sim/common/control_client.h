// Client side of the daemon's control socket (<run_dir>/control): one request line, one
// reply line ("ok ..." or "error ...").
#pragma once

#include <filesystem>
#include <string>

namespace simxen {

// Sends `request` and returns the reply line without its newline. Throws std::runtime_error
// when the daemon cannot be reached.
std::string control_request(const std::filesystem::path& socket, const std::string& request);

}  // namespace simxen
