// xensnd-toolstack: the xl/libxl steps the software Xen needs, done through the real
// libxenstore as dom0 (run it with the environment xensnd-simxen prints).
//
//   xensnd-toolstack create-domain --domid N --name NAME [--memory KIB]
//       prints the guest's environment: export XENSTORED_PATH=... / export LD_LIBRARY_PATH=...
//   xensnd-toolstack vsnd-attach --domid N [--backend-domid B] --devid D --config 'VSND'
//   xensnd-toolstack vsnd-detach --domid N --devid D [--timeout SECONDS]
//   xensnd-toolstack save-restore --domid N
//   xensnd-toolstack destroy-domain --domid N
// --run-dir DIR names the daemon's run directory; by default it is found from XENSTORED_PATH.
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "sim/common/sim_environment.h"
#include "sim/toolstack/toolstack_steps.h"
#include "sim/toolstack/vsnd_config.h"

namespace fs = std::filesystem;
using namespace simxen::toolstack;

namespace {

const char* kUsage =
    "usage: xensnd-toolstack COMMAND [OPTIONS]\n"
    "  create-domain  --domid N --name NAME [--memory KIB]\n"
    "  vsnd-attach    --domid N [--backend-domid B] --devid D --config VSND\n"
    "  vsnd-detach    --domid N --devid D [--timeout SECONDS]   (default 10, as libxl)\n"
    "  save-restore   --domid N\n"
    "  destroy-domain --domid N\n"
    "common: --run-dir DIR (default: from XENSTORED_PATH)\n"
    "VSND: vsnd=[['CARD, short-name=..', 'PCM, name=..', 'STREAM, unique-id=.., type=P']]\n"
    "      or CARD, ... | PCM, ... | STREAM, ...\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Arguments {
 public:
  Arguments(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) {
      std::string key = argv[i];
      if (key.rfind("--", 0) != 0 || i + 1 >= argc) throw UsageError("expected --option VALUE, got '" + key + "'");
      values_[key.substr(2)] = argv[++i];
    }
  }
  std::optional<std::string> get(const std::string& key) {
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    used_.insert(key);
    return it->second;
  }
  std::string required(const std::string& key) {
    auto value = get(key);
    if (!value) throw UsageError("--" + key + " is required");
    return *value;
  }
  unsigned number(const std::string& key, std::optional<unsigned> fallback = std::nullopt) {
    auto value = get(key);
    if (!value) {
      if (fallback) return *fallback;
      throw UsageError("--" + key + " is required");
    }
    unsigned n = 0;
    auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
    if (value->empty() || ec != std::errc() || end != value->data() + value->size())
      throw UsageError("--" + key + " needs a number, got '" + *value + "'");
    return n;
  }
  void check_all_used() {
    for (const auto& [key, value] : values_)
      if (!used_.count(key)) throw UsageError("unknown option --" + key + " for this command");
  }

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> used_;
};

fs::path run_dir(Arguments& args) {
  if (auto dir = args.get("run-dir")) return fs::absolute(*dir);
  const char* socket = std::getenv("XENSTORED_PATH");
  if (!socket) throw UsageError("XENSTORED_PATH is not set: source the output of xensnd-simxen, or give --run-dir");
  return simxen::run_dir_of_socket(socket);
}

int run(const std::string& command, Arguments& args) {
  const fs::path dir = run_dir(args);
  // libxenstore connects to XENSTORED_PATH: make --run-dir mean dom0's socket there.
  ::setenv("XENSTORED_PATH", simxen::xenstore_socket_path(dir, 0).c_str(), 1);
  if (command == "create-domain") {
    unsigned domid = args.number("domid");
    std::string name = args.required("name");
    unsigned memory = args.number("memory", 131072);
    args.check_all_used();
    XenstoreClient xs;
    create_domain(xs, domid, name, memory);
    std::fputs(simxen::domain_environment(dir, domid).c_str(), stdout);
    return 0;
  }
  if (command == "vsnd-attach") {
    unsigned domid = args.number("domid");
    unsigned devid = args.number("devid");
    std::optional<std::string> backend_arg = args.get("backend-domid");
    std::string config_text = args.required("config");
    VsndCard card;
    try {
      card = parse_vsnd_config(config_text);
    } catch (const ConfigError& error) {
      std::fprintf(stderr, "xensnd-toolstack: bad vsnd config: %s\n", error.what());
      return 1;
    }
    std::optional<unsigned> cli_backend;
    if (backend_arg) cli_backend = args.number("backend-domid");
    args.check_all_used();
    XenstoreClient xs;
    unsigned backend = cli_backend ? *cli_backend : card.backend ? resolve_domain(xs, *card.backend) : 0;
    if (cli_backend && card.backend && resolve_domain(xs, *card.backend) != *cli_backend)
      throw ToolstackError("--backend-domid " + std::to_string(*cli_backend) + " contradicts backend=" + *card.backend + " in the config");
    attach_vsnd(xs, domid, backend, devid, vsnd_frontend_entries(card));
    return 0;
  }
  if (command == "vsnd-detach") {
    unsigned domid = args.number("domid");
    unsigned devid = args.number("devid");
    double timeout = 10;
    if (auto text = args.get("timeout")) {
      char* end = nullptr;
      timeout = std::strtod(text->c_str(), &end);
      if (text->empty() || *end || timeout < 0) throw UsageError("--timeout needs a number of seconds");
    }
    args.check_all_used();
    XenstoreClient xs;
    if (!detach_vsnd(xs, domid, devid, timeout))
      std::fprintf(stderr, "xensnd-toolstack: the backend did not close vsnd device %u within %gs; removed it anyway (as libxl does)\n", devid, timeout);
    return 0;
  }
  if (command == "save-restore") {
    unsigned domid = args.number("domid");
    args.check_all_used();
    XenstoreClient xs;
    save_restore(xs, simxen::control_socket_path(dir), domid);
    return 0;
  }
  if (command == "destroy-domain") {
    unsigned domid = args.number("domid");
    args.check_all_used();
    XenstoreClient xs;
    destroy_domain(xs, domid);
    return 0;
  }
  throw UsageError("unknown command '" + command + "'");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  try {
    Arguments args(argc, argv, 2);
    return run(argv[1], args);
  } catch (const UsageError& error) {
    std::fprintf(stderr, "xensnd-toolstack: %s\n%s", error.what(), kUsage);
    return 2;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "xensnd-toolstack: %s\n", error.what());
    return 1;
  }
}
