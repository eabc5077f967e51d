// The XenStore wire protocol of <xen/io/xs_wire.h>: a 16-byte xsd_sockmsg header followed by
// at most XENSTORE_PAYLOAD_MAX bytes, usually NUL-terminated strings.
#pragma once

// xs_wire.h needs uint32_t, and errno values for its error table, defined before it.
#include <cerrno>
#include <cstdint>

#include <xen/io/xs_wire.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace simxen::xs {

struct Request {
  xsd_sockmsg header{};
  std::string payload;
};

// The reply or event bytes: header (type, req_id, tx_id, payload length) then payload.
std::string encode_message(uint32_t type, uint32_t req_id, uint32_t tx_id, std::string_view payload);
// "ENOENT" etc. as xenstored sends them (unknown values become "EINVAL", as xenstored does).
const char* error_name(int error);
// Splits a payload into its NUL-terminated strings; bytes after the last NUL are ignored,
// as xenstored ignores them. Returns how many strings there were.
std::vector<std::string_view> split_strings(std::string_view payload);
// The one argument of a request whose payload must be exactly one NUL-terminated string.
std::optional<std::string_view> single_argument(std::string_view payload);

}  // namespace simxen::xs
