// XENSND_OP_HW_PARAM_QUERY: narrows the frontend's intervals to what the stream's
// configuration and the device model support. Pure.
#pragma once

#include <optional>

#include "protocol/card_config.h"
#include "protocol/sndif_abi.h"

namespace xensnd::backend {

// The device model's period limits, in frames (the buffer holds at least two periods).
inline constexpr uint32_t kMinPeriodFrames = 32;
inline constexpr uint32_t kMinPeriodsPerBuffer = 2;

// The narrowed configuration space, or nullopt when the intersection is empty (EINVAL).
// Buffer and period are in frames (as snd_be answers), bounded by buffer-size in bytes for
// the smallest frame the remaining formats and channels allow.
std::optional<xensnd_query_hw_param> narrow_hw_params(const StreamLimits& limits,
                                                      const xensnd_query_hw_param& request);

}  // namespace xensnd::backend
