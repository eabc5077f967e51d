// Errors from the Xen libraries: every failure carries errno and says what was attempted.
#pragma once

#include <string>
#include <system_error>

namespace xenio {

// Thrown by every xenio call that fails. code() is a std::generic_category errno.
class XenError : public std::system_error {
 public:
  XenError(int errno_value, const std::string& what_was_attempted)
      : std::system_error(errno_value, std::generic_category(), what_was_attempted) {}
  int errno_value() const { return code().value(); }
};

// Throws XenError for the current errno (or EIO if a library failed without setting it).
[[noreturn]] void throw_errno(const std::string& what_was_attempted);

}  // namespace xenio
