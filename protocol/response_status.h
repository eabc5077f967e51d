// A response's `status` is the backend's word, not ours: only the values a sndif backend is
// expected to answer are passed on; anything else becomes EIO with the raw value in the
// message, so a hostile -EAGAIN or -EPIPE cannot drive an application's recovery loop.
#pragma once

#include <cstdint>
#include <string>

namespace xensnd {

struct MappedStatus {
  int errno_value = 0;  // 0 on success, else a positive errno
  std::string message;  // empty on success
};

// `operation` is XENSND_OP_*, used only for the message.
MappedStatus map_response_status(int32_t raw_status, uint8_t operation);

// "OPEN", "WRITE"... for messages; "operation 42" when unknown.
std::string operation_name(uint8_t operation);

}  // namespace xensnd
