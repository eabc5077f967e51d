#include "protocol/response_status.h"

#include <cerrno>
#include <cstring>

#include "protocol/sndif_abi.h"

namespace xensnd {
namespace {
// Linux' kernel-internal ENOTSUPP, which Linux-derived backends let through.
constexpr int32_t kLinuxEnotsupp = 524;
}  // namespace

std::string operation_name(uint8_t operation) {
  switch (operation) {
    case XENSND_OP_OPEN: return "OPEN";
    case XENSND_OP_CLOSE: return "CLOSE";
    case XENSND_OP_READ: return "READ";
    case XENSND_OP_WRITE: return "WRITE";
    case XENSND_OP_SET_VOLUME: return "SET_VOLUME";
    case XENSND_OP_GET_VOLUME: return "GET_VOLUME";
    case XENSND_OP_MUTE: return "MUTE";
    case XENSND_OP_UNMUTE: return "UNMUTE";
    case XENSND_OP_TRIGGER: return "TRIGGER";
    case XENSND_OP_HW_PARAM_QUERY: return "HW_PARAM_QUERY";
  }
  return "operation " + std::to_string(operation);
}

MappedStatus map_response_status(int32_t raw_status, uint8_t operation) {
  if (raw_status == 0) return {};
  int mapped = 0;
  switch (raw_status) {
    case -EINVAL:
    case -ENOMEM:
    case -EBUSY:
    case -ENODEV:
    case -EIO:
    case -ENOSYS:
    case -EOPNOTSUPP:
    case -ENOENT:
    case -EPERM:
      mapped = -raw_status;
      break;
    case -kLinuxEnotsupp:
      mapped = EOPNOTSUPP;
      break;
    default:
      return {EIO, "the backend answered " + operation_name(operation) +
                       " with the unexpected status " + std::to_string(raw_status)};
  }
  return {mapped, "the backend refused " + operation_name(operation) + ": " +
                      std::strerror(mapped) + " (status " + std::to_string(raw_status) + ")"};
}

}  // namespace xensnd
