#include "xenio/error.h"

#include <cerrno>

namespace xenio {

void throw_errno(const std::string& what_was_attempted) {
  // Some library paths fail without setting errno; never report "Success" as an error.
  int saved = errno != 0 ? errno : EIO;
  throw XenError(saved, what_was_attempted);
}

}  // namespace xenio
