// What xl/libxl write to XenStore for a guest's life-cycle steps, replayed through the real
// libxenstore: libxl__domain_make + libxl__build_post (create), libxl__device_generic_add
// (vsnd attach), libxl__initiate_device_generic_remove + libxl__device_destroy (detach),
// libxl__destroy_domid (destroy), and a simulated save/restore.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "sim/toolstack/xenstore_client.h"

namespace simxen::toolstack {

using Entries = std::vector<std::pair<std::string, std::string>>;

struct ToolstackError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string frontend_path(unsigned domid, unsigned devid);
std::string backend_path(unsigned backend_domid, unsigned domid, unsigned devid);
std::string libxl_device_path(unsigned domid, unsigned devid);

void create_domain(XenstoreClient& xs, unsigned domid, const std::string& name, unsigned memory_kib);
void destroy_domain(XenstoreClient& xs, unsigned domid);
// Resolves "backend=" of a config (a domain id or name) as libxl__resolve_domid does.
unsigned resolve_domain(XenstoreClient& xs, const std::string& name_or_id);
// `entries` are the frontend's card entries (vsnd_frontend_entries()).
void attach_vsnd(XenstoreClient& xs, unsigned domid, unsigned backend_domid, unsigned devid,
                 const Entries& entries);
// Returns false if the backend did not reach Closed in time (the device is removed anyway,
// as libxl's forced removal does).
bool detach_vsnd(XenstoreClient& xs, unsigned domid, unsigned devid, double timeout_seconds);
// Invalidates the domain's grants and event channels through the daemon's control socket and
// rewrites each of its vsnd devices as a restored domain gets them: fresh, state 1.
void save_restore(XenstoreClient& xs, const std::filesystem::path& control_socket, unsigned domid);

}  // namespace simxen::toolstack
