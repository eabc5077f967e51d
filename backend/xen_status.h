// Response statuses: sndif answers with negative Xen errno values (xen/errno.h), which are
// the same numbers as Linux's but must be named from Xen's list.
#pragma once

#include <xen/errno.h>

#include <cstdint>

namespace xensnd::backend {

inline constexpr int32_t kStatusOk = 0;
inline constexpr int32_t kStatusInvalid = -XEN_EINVAL;        // bad parameters, wrong state
inline constexpr int32_t kStatusBusy = -XEN_EBUSY;            // already open / already started
inline constexpr int32_t kStatusIo = -XEN_EIO;                // the sink or source failed
inline constexpr int32_t kStatusNoMemory = -XEN_ENOMEM;       // mapping the buffer failed
inline constexpr int32_t kStatusUnsupported = -XEN_EOPNOTSUPP;  // unknown operation

}  // namespace xensnd::backend
