#include "tools/info/card_report.h"

#include "plugin/kernel_driver_check.h"
#include "protocol/errors.h"
#include "protocol/sndif_abi.h"
#include "protocol/vsnd_devices.h"
#include "protocol/xenbus_state.h"
#include "protocol/xenstore_values.h"

namespace xensnd::info {

std::string alsa_device_name(unsigned device_id, size_t pcm) {
  return "xensnd:DEV=" + std::to_string(device_id) + ",PCM=" + std::to_string(pcm);
}

std::vector<CardReport> gather_card_reports(xenio::XenStore& store, const ReportSources& sources) {
  std::vector<CardReport> reports;
  for (unsigned id : list_vsnd_devices(store)) {
    CardReport report;
    report.device_id = id;
    report.xenstore_path = "device/vsnd/" + std::to_string(id);
    try {
      report.config = read_card_config(store, report.xenstore_path);
    } catch (const FrontendError& error) {
      // Listed anyway: a card the plugin cannot open is exactly what a user needs to see.
      report.config_error = error.what();
    }
    report.frontend_state = bus_state_name(parse_bus_state(store.read(report.xenstore_path + "/state")));
    if (auto backend = store.read(report.xenstore_path + "/backend"); backend && !backend->empty()) {
      report.backend_path = *backend;
      report.backend_state = bus_state_name(parse_bus_state(store.read(*backend + "/state")));
      report.backend_versions = store.read(*backend + "/" XENSND_FIELD_BE_VERSIONS);
    }
    if (auto domid = store.read(report.xenstore_path + "/backend-id")) {
      if (auto parsed = parse_decimal(*domid, 0x7fef).value) report.backend_domid = static_cast<unsigned>(*parsed);
    }
    report.protocol_version = store.read(report.xenstore_path + "/" XENSND_FIELD_FE_VERSION);
    report.holder = sources.holder_of(id);
    report.kernel_driver = plugin::kernel_driver_of(id, sources.sysfs_root);
    reports.push_back(std::move(report));
  }
  return reports;
}

}  // namespace xensnd::info
