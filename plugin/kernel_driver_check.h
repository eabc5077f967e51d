// A stock guest autoloads the kernel's sndif frontend (snd-xen-front), which binds
// device/vsnd/N at boot. Two frontends on one card would corrupt each other, so an open finds
// out first and says how to get the kernel driver out of the way.
#pragma once

#include <optional>
#include <string>

namespace xensnd::plugin {

// The name of the kernel driver bound to vsnd device `device_id` (from
// <sysfs_root>/bus/xen/devices/vsnd-<id>/driver), or nullopt when none is.
std::optional<std::string> kernel_driver_of(unsigned device_id, const std::string& sysfs_root = "/sys");

// Throws FrontendError(EBUSY) with the blacklisting instructions when a driver is bound.
void refuse_if_kernel_driver_bound(unsigned device_id, const std::string& sysfs_root = "/sys");

}  // namespace xensnd::plugin
