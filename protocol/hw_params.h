// HW_PARAM_QUERY: the request's ranges to the wire and back. A backend's answer is
// intersected with what was asked (snd_be answers rates.max from its whole device, not a
// subset), and an empty intersection means the configuration is impossible (EINVAL).
#pragma once

#include <string>

#include "protocol/sndif_abi.h"
#include "protocol/stream.h"

namespace xensnd {

xensnd_query_hw_param hw_params_to_wire(const HwParamRanges& ranges);
HwParamRanges hw_params_from_wire(const xensnd_query_hw_param& wire);

HwParamRanges intersect(const HwParamRanges& a, const HwParamRanges& b);
// True when no configuration fits: no format or an empty interval.
bool is_empty(const HwParamRanges& ranges);
// "formats s16_le, rates 44100-48000, ..." for messages.
std::string describe(const HwParamRanges& ranges);

// The ranges a stream's configuration allows (the starting point of a query).
HwParamRanges ranges_from_limits(const StreamLimits& limits, uint32_t bytes_per_frame_min);

}  // namespace xensnd
