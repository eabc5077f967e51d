// Validation of request parameters against the stream's XenStore configuration: pure
// functions on copies of the request, so a frontend changing shared memory meanwhile cannot
// get a value past them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "backend/pcm_params.h"
#include "protocol/card_config.h"
#include "protocol/sndif_abi.h"

namespace xensnd::backend {

struct OpenCheck {
  std::optional<PcmParams> params;  // set when the request is acceptable
  std::string problem;              // why not, for the log
};

// OPEN: rate, format, channels within the configuration; buffer_sz within buffer-size and
// both sizes whole, non-zero numbers of frames with period_sz <= buffer_sz; a directory ref.
OpenCheck check_open(const StreamLimits& limits, const xensnd_open_req& request);

// READ/WRITE (and the volume requests, which use the same layout): [offset, offset+length)
// must lie inside the buffer; a zero length is refused as snd_be's device would.
bool rw_range_valid(uint32_t offset, uint32_t length, uint32_t buffer_bytes);

}  // namespace xensnd::backend
