#include "sim/toolstack/toolstack_steps.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <random>

#include "sim/common/control_client.h"

namespace simxen::toolstack {

namespace {

constexpr const char* kStateInitialising = "1";
constexpr const char* kStateClosing = "5";
constexpr const char* kStateClosed = "6";

std::string dom_path(unsigned domid) { return "/local/domain/" + std::to_string(domid); }

xs_permissions perm(unsigned domid, unsigned access) { return xs_permissions{domid, access}; }

void make_node(XenstoreClient& xs, xs_transaction_t t, const std::string& path, std::vector<xs_permissions> perms) {
  xs.mkdir(t, path);  // libxl__xs_mknod
  xs.set_permissions(t, path, std::move(perms));
}

// libxl__xs_path_cleanup: remove the node, then every parent left empty.
void path_cleanup(XenstoreClient& xs, xs_transaction_t t, std::string path) {
  xs.remove(t, path);
  for (;;) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0) return;
    path.resize(slash);
    if (!xs.exists(t, path) || !xs.directory(t, path).empty()) return;
    xs.remove(t, path);
  }
}

std::string random_uuid() {
  std::random_device random;
  std::uniform_int_distribution<int> hex(0, 15);
  std::string uuid;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) uuid += '-';
    int digit = hex(random);
    if (i == 12) digit = 4;                    // version 4
    if (i == 16) digit = 8 | (digit & 3);      // RFC 4122 variant
    uuid += "0123456789abcdef"[digit];
  }
  return uuid;
}

bool domain_exists(XenstoreClient& xs, unsigned domid) {
  return domid == 0 || xs_is_domain_introduced(xs.handle(), domid) || xs.exists(XBT_NULL, dom_path(domid));
}

// The toolstack-written keys of a vsnd frontend (libxl__set_xenstore_vsnd), read back in
// libxl's order; what the frontend itself wrote (rings, channels, state) is left out.
Entries read_vsnd_entries(XenstoreClient& xs, const std::string& fe) {
  static const char* params[] = {"sample-rates", "sample-formats", "channels-min", "channels-max", "buffer-size"};
  Entries entries;
  auto take = [&](const std::string& key) {
    if (auto value = xs.read(XBT_NULL, fe + "/" + key)) entries.emplace_back(key, *value);
  };
  take("long-name");
  take("short-name");
  for (const char* p : params) take(p);
  for (unsigned pcm = 0; xs.exists(XBT_NULL, fe + "/" + std::to_string(pcm)); ++pcm) {
    std::string pcm_key = std::to_string(pcm) + "/";
    take(pcm_key + "name");
    for (const char* p : params) take(pcm_key + p);
    for (unsigned s = 0; xs.exists(XBT_NULL, fe + "/" + pcm_key + std::to_string(s)); ++s) {
      std::string key = pcm_key + std::to_string(s) + "/";
      take(key + "unique-id");
      take(key + "type");
      for (const char* p : params) take(key + p);
    }
  }
  return entries;
}

void write_vsnd_nodes(XenstoreClient& xs, unsigned domid, unsigned backend_domid, unsigned devid,
                      const Entries& entries) {
  const std::string fe = frontend_path(domid, devid);
  const std::string be = backend_path(backend_domid, domid, devid);
  const std::string libxl = libxl_device_path(domid, devid);
  const std::vector<xs_permissions> frontend_perms{perm(domid, XS_PERM_NONE), perm(backend_domid, XS_PERM_READ)};
  const std::vector<xs_permissions> backend_perms{perm(backend_domid, XS_PERM_NONE), perm(domid, XS_PERM_READ)};
  // libxl__device_add_async's generic entries, then the vsnd ones.
  Entries front{{"backend-id", std::to_string(backend_domid)}, {"state", kStateInitialising}};
  front.insert(front.end(), entries.begin(), entries.end());
  const Entries back{{"frontend-id", std::to_string(domid)}, {"online", "1"}, {"state", kStateInitialising}};

  xs.in_transaction([&](xs_transaction_t t) {
    xs.remove(t, libxl);
    xs.write(t, libxl + "/frontend", fe);
    xs.write(t, libxl + "/backend", be);

    xs.remove(t, fe);
    make_node(xs, t, fe, frontend_perms);
    xs.write(t, fe + "/backend", be);
    for (const auto& [key, value] : front) {  // libxl__xs_writev_perms
      xs.write(t, fe + "/" + key, value);
      xs.set_permissions(t, fe + "/" + key, frontend_perms);
    }

    xs.remove(t, be);
    make_node(xs, t, be, backend_perms);
    xs.write(t, be + "/frontend", fe);
    for (const auto& [key, value] : back) xs.write(t, be + "/" + key, value);
    for (const auto& [key, value] : back) xs.write(t, libxl + "/" + key, value);
  });
}

bool wait_for_closed(XenstoreClient& xs, const std::string& state_path, double timeout_seconds) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_seconds));
  const char* token = "xensnd-toolstack-detach";
  if (!xs_watch(xs.handle(), state_path.c_str(), token))
    throw std::system_error(errno, std::generic_category(), "xenstore watch " + state_path);
  bool closed = false;
  for (;;) {
    auto state = xs.read(XBT_NULL, state_path);
    if (!state || *state == kStateClosed) { closed = true; break; }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{xs_fileno(xs.handle()), POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(left));
    while (char** event = xs_check_watch(xs.handle())) std::free(event);
  }
  xs_unwatch(xs.handle(), state_path.c_str(), token);
  return closed;
}

}  // namespace

std::string frontend_path(unsigned domid, unsigned devid) {
  return dom_path(domid) + "/device/vsnd/" + std::to_string(devid);
}

std::string backend_path(unsigned backend_domid, unsigned domid, unsigned devid) {
  return dom_path(backend_domid) + "/backend/vsnd/" + std::to_string(domid) + "/" + std::to_string(devid);
}

std::string libxl_device_path(unsigned domid, unsigned devid) {
  return "/libxl/" + std::to_string(domid) + "/device/vsnd/" + std::to_string(devid);
}

void create_domain(XenstoreClient& xs, unsigned domid, const std::string& name, unsigned memory_kib) {
  if (domid == 0 || domid >= 0x7ff0) throw ToolstackError("invalid guest domain id " + std::to_string(domid));
  if (domain_exists(xs, domid)) throw ToolstackError("domain " + std::to_string(domid) + " already exists");
  if (name.empty()) throw ToolstackError("a domain needs a name");
  for (const auto& other : xs.directory(XBT_NULL, "/local/domain"))
    if (xs.read(XBT_NULL, "/local/domain/" + other + "/name") == name)
      throw ToolstackError("domain name '" + name + "' is already used by domain " + other);

  const std::string dom = dom_path(domid);
  const std::string uuid = random_uuid();
  const std::string vm = "/vm/" + uuid;
  const std::string libxl = "/libxl/" + std::to_string(domid);
  const std::vector<xs_permissions> noperm{perm(0, XS_PERM_NONE)};
  const std::vector<xs_permissions> roperm{perm(0, XS_PERM_NONE), perm(domid, XS_PERM_READ)};
  const std::vector<xs_permissions> rwperm{perm(domid, XS_PERM_NONE)};

  xs.in_transaction([&](xs_transaction_t t) {  // libxl__domain_make
    xs.remove(t, dom);
    make_node(xs, t, dom, roperm);
    xs.remove(t, vm);
    make_node(xs, t, vm, roperm);
    xs.remove(t, libxl);
    make_node(xs, t, libxl, noperm);
    make_node(xs, t, libxl + "/device", noperm);
    xs.write(t, dom + "/vm", vm);
    xs.write(t, dom + "/name", name);  // libxl__domain_rename
    for (const char* node : {"cpu", "memory", "device", "control"}) make_node(xs, t, dom + "/" + node, roperm);
    for (const char* node : {"control/shutdown", "control/feature-poweroff", "control/feature-reboot",
                             "control/feature-suspend", "control/sysrq", "device/suspend/event-channel",
                             "data", "drivers", "feature", "attr", "error"})
      make_node(xs, t, dom + "/" + node, rwperm);
    xs.write(t, vm + "/uuid", uuid);
    xs.write(t, vm + "/name", name);
    xs.write(t, dom + "/control/platform-feature-multiprocessor-suspend", "1");
    xs.write(t, dom + "/control/platform-feature-xs_reset_watches", "1");
    xs.write(t, libxl + "/type", "pv");
  });
  xs.in_transaction([&](xs_transaction_t t) {  // libxl__build_post
    xs.write(t, dom + "/memory/static-max", std::to_string(memory_kib));
    xs.write(t, dom + "/memory/target", std::to_string(memory_kib));
    xs.write(t, dom + "/domid", std::to_string(domid));
    xs.write(t, dom + "/cpu/0/availability", "online");
  });
  // No real store ring or event channel exists: the daemon gives the domain its own socket.
  if (!xs_introduce_domain(xs.handle(), domid, 0, 0))
    throw std::system_error(errno, std::generic_category(), "xs_introduce_domain");
}

void destroy_domain(XenstoreClient& xs, unsigned domid) {
  if (domid == 0) throw ToolstackError("refusing to destroy domain 0");
  const std::string dom = dom_path(domid);
  const bool introduced = xs_is_domain_introduced(xs.handle(), domid);
  if (!introduced && !xs.exists(XBT_NULL, dom)) throw ToolstackError("no domain " + std::to_string(domid));
  std::vector<std::string> backends;
  for (const auto& kind : xs.directory(XBT_NULL, dom + "/device"))
    for (const auto& devid : xs.directory(XBT_NULL, dom + "/device/" + kind))
      if (auto be = xs.read(XBT_NULL, dom + "/device/" + kind + "/" + devid + "/backend")) backends.push_back(*be);
  auto vm = xs.read(XBT_NULL, dom + "/vm");
  xs.in_transaction([&](xs_transaction_t t) {
    for (const auto& be : backends) path_cleanup(xs, t, be);
    xs.remove(t, dom);
    if (vm && vm->rfind("/vm/", 0) == 0) xs.remove(t, *vm);
    xs.remove(t, "/libxl/" + std::to_string(domid));
  });
  // On real Xen xenstored notices the dead domain itself; here the toolstack tells it.
  if (introduced && !xs_release_domain(xs.handle(), domid))
    throw std::system_error(errno, std::generic_category(), "xs_release_domain");
}

unsigned resolve_domain(XenstoreClient& xs, const std::string& name_or_id) {
  if (!name_or_id.empty() && std::all_of(name_or_id.begin(), name_or_id.end(), ::isdigit))
    return static_cast<unsigned>(std::stoul(name_or_id));
  for (const auto& domid : xs.directory(XBT_NULL, "/local/domain"))
    if (xs.read(XBT_NULL, "/local/domain/" + domid + "/name") == name_or_id) return static_cast<unsigned>(std::stoul(domid));
  throw ToolstackError("no domain named '" + name_or_id + "'");
}

void attach_vsnd(XenstoreClient& xs, unsigned domid, unsigned backend_domid, unsigned devid, const Entries& entries) {
  if (domid == 0 || !xs.exists(XBT_NULL, dom_path(domid)))
    throw ToolstackError("no guest domain " + std::to_string(domid) + " (create-domain first)");
  if (!domain_exists(xs, backend_domid)) throw ToolstackError("no backend domain " + std::to_string(backend_domid));
  if (backend_domid == domid) throw ToolstackError("a domain cannot be its own vsnd backend");
  if (xs.exists(XBT_NULL, frontend_path(domid, devid)) || xs.exists(XBT_NULL, libxl_device_path(domid, devid)))
    throw ToolstackError("vsnd device " + std::to_string(devid) + " is already attached to domain " +
                         std::to_string(domid) + "; detach it first");
  write_vsnd_nodes(xs, domid, backend_domid, devid, entries);
}

bool detach_vsnd(XenstoreClient& xs, unsigned domid, unsigned devid, double timeout_seconds) {
  const std::string fe = frontend_path(domid, devid);
  const std::string libxl = libxl_device_path(domid, devid);
  auto be = xs.read(XBT_NULL, libxl + "/backend");
  if (!be) be = xs.read(XBT_NULL, fe + "/backend");
  if (!be) throw ToolstackError("domain " + std::to_string(domid) + " has no vsnd device " + std::to_string(devid));
  const std::string state_path = *be + "/state";
  bool present = false;
  xs.in_transaction([&](xs_transaction_t t) {  // libxl__initiate_device_generic_remove
    auto state = xs.read(t, state_path);
    present = state.has_value();
    if (!present) return;
    xs.write(t, *be + "/online", "0");
    if (*state != kStateClosed) xs.write(t, state_path, kStateClosing);
  });
  bool closed = !present || wait_for_closed(xs, state_path, timeout_seconds);
  xs.in_transaction([&](xs_transaction_t t) {  // libxl__device_destroy
    path_cleanup(xs, t, fe);
    path_cleanup(xs, t, libxl);
    path_cleanup(xs, t, *be);
  });
  return closed;
}

void save_restore(XenstoreClient& xs, const std::filesystem::path& control_socket, unsigned domid) {
  if (domid == 0 || !xs.exists(XBT_NULL, dom_path(domid))) throw ToolstackError("no guest domain " + std::to_string(domid));
  std::string reply = control_request(control_socket, "invalidate " + std::to_string(domid));
  if (reply != "ok") throw ToolstackError("the simulator refused to invalidate domain " + std::to_string(domid) + ": " + reply);
  for (const auto& devid : xs.directory(XBT_NULL, dom_path(domid) + "/device/vsnd")) {
    const std::string fe = dom_path(domid) + "/device/vsnd/" + devid;
    auto backend_id = xs.read(XBT_NULL, fe + "/backend-id");
    if (!backend_id) continue;
    Entries entries = read_vsnd_entries(xs, fe);
    write_vsnd_nodes(xs, domid, static_cast<unsigned>(std::stoul(*backend_id)), static_cast<unsigned>(std::stoul(devid)), entries);
  }
}

}  // namespace simxen::toolstack
