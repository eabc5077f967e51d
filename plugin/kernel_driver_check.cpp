#include "plugin/kernel_driver_check.h"

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "protocol/errors.h"

namespace xensnd::plugin {

std::optional<std::string> kernel_driver_of(unsigned device_id, const std::string& sysfs_root) {
  const std::filesystem::path link =
      std::filesystem::path(sysfs_root) / "bus/xen/devices" / ("vsnd-" + std::to_string(device_id)) /
      "driver";
  std::error_code error;
  if (!std::filesystem::is_symlink(link, error)) return std::nullopt;
  const std::filesystem::path target = std::filesystem::read_symlink(link, error);
  if (error) return std::string("unknown");
  return target.filename().string();
}

void refuse_if_kernel_driver_bound(unsigned device_id, const std::string& sysfs_root) {
  const auto driver = kernel_driver_of(device_id, sysfs_root);
  if (!driver) return;
  const std::string device = "vsnd-" + std::to_string(device_id);
  throw FrontendError(
      EBUSY, "vsnd device " + std::to_string(device_id) + " is bound to the kernel driver '" +
                 *driver + "' (snd-xen-front); xensnd cannot drive it at the same time. Unbind it " +
                 "now with 'echo " + device + " > /sys/bus/xen/drivers/" + *driver +
                 "/unbind' (as root) and keep it away for good by installing xensnd's "
                 "modprobe.d blacklist (blacklist snd_xen_front, then reboot or rmmod "
                 "snd_xen_front)");
}

}  // namespace xensnd::plugin
