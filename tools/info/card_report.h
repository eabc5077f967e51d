// What xensnd-info tells about each vsnd card of this guest, gathered from XenStore (through
// protocol/'s card configuration reader), the plugin's ownership claim and sysfs.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "protocol/card_config.h"
#include "tools/info/card_holder.h"
#include "xenio/xenstore.h"

namespace xensnd::info {

struct CardReport {
  unsigned device_id = 0;
  std::string xenstore_path;            // device/vsnd/<id>
  std::optional<CardConfig> config;     // nullopt when it does not parse
  std::string config_error;             // why, then
  std::string frontend_state;           // "Initialising (1)" ...
  std::string backend_path;             // empty when the node is missing
  std::optional<unsigned> backend_domid;
  std::string backend_state;
  std::optional<std::string> backend_versions;   // the backend's `versions` list, if published
  std::optional<std::string> protocol_version;   // the `version` a connected frontend wrote
  std::optional<CardHolder> holder;
  std::optional<std::string> kernel_driver;
};

struct ReportSources {
  std::function<std::optional<CardHolder>(unsigned)> holder_of = find_card_holder;
  std::string sysfs_root = "/sys";
};

// One report per card under device/vsnd, lowest id first. XenStore errors other than a
// missing node propagate (xenio::XenError).
std::vector<CardReport> gather_card_reports(xenio::XenStore& store, const ReportSources& sources = {});

// The ALSA device string that opens PCM device `pcm` of card `device_id`.
std::string alsa_device_name(unsigned device_id, size_t pcm);

}  // namespace xensnd::info
