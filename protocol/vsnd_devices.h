// The vsnd cards the toolstack gave this guest: the numeric entries under its device/vsnd.
// The plugin's default card is the lowest of them (a guest whose only card is device 3 has
// no device 0).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include "xenio/xenstore.h"

namespace xensnd {

// The device ids under device/vsnd (relative to the caller's domain), sorted ascending.
// Entries that are not plain decimal numbers are ignored: they are no device a frontend
// could connect. Empty when the guest has no vsnd device (or no device/vsnd at all).
std::vector<unsigned> list_vsnd_devices(xenio::XenStore& store);

// The lowest-numbered card with a stream whose unique-id is `unique_id`, or nullopt. A card
// whose configuration does not parse is passed over: naming it explicitly reports why.
std::optional<unsigned> find_vsnd_device_with_stream(xenio::XenStore& store, std::string_view unique_id);

// Every stream unique-id of every card whose configuration parses, as (device id, unique-id)
// in card order then stream order; streams without a unique-id are left out. For messages that
// tell a user which ids exist.
std::vector<std::pair<unsigned, std::string>> list_stream_unique_ids(xenio::XenStore& store);

}  // namespace xensnd
