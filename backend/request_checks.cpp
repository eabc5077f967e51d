#include "backend/request_checks.h"

#include <algorithm>

#include "protocol/pcm_format.h"

namespace xensnd::backend {

OpenCheck check_open(const StreamLimits& limits, const xensnd_open_req& request) {
  OpenCheck result;
  auto fail = [&](std::string why) {
    result.problem = std::move(why);
    return result;
  };
  if (!std::binary_search(limits.rates.begin(), limits.rates.end(), request.pcm_rate))
    return fail("rate " + std::to_string(request.pcm_rate) + " is not in sample-rates");
  if (request.pcm_format >= 64 || !(limits.formats & (uint64_t{1} << request.pcm_format)))
    return fail("format " + std::to_string(request.pcm_format) + " is not in sample-formats");
  std::optional<uint32_t> sample_bytes = sndif_format_bytes_per_sample(request.pcm_format);
  if (!sample_bytes) return fail("format " + std::to_string(request.pcm_format) + " has no frame size");
  if (request.pcm_channels < limits.channels_min || request.pcm_channels > limits.channels_max ||
      request.pcm_channels == 0)
    return fail(std::to_string(request.pcm_channels) + " channels outside channels-min/max");
  uint32_t frame = *sample_bytes * request.pcm_channels;
  if (request.buffer_sz == 0 || request.buffer_sz % frame != 0)
    return fail("buffer_sz " + std::to_string(request.buffer_sz) + " is not a whole number of " +
                std::to_string(frame) + "-byte frames");
  if (request.buffer_sz > limits.buffer_bytes)
    return fail("buffer_sz " + std::to_string(request.buffer_sz) + " exceeds buffer-size " +
                std::to_string(limits.buffer_bytes));
  if (request.period_sz == 0 || request.period_sz % frame != 0 || request.period_sz > request.buffer_sz)
    return fail("period_sz " + std::to_string(request.period_sz) +
                " is not a whole number of frames within the buffer");
  if (request.gref_directory == 0) return fail("gref_directory is 0 (not a grant)");
  PcmParams params;
  params.rate = request.pcm_rate;
  params.format = request.pcm_format;
  params.channels = request.pcm_channels;
  params.sample_bytes = *sample_bytes;
  params.buffer_bytes = request.buffer_sz;
  params.period_bytes = request.period_sz;
  result.params = params;
  return result;
}

bool rw_range_valid(uint32_t offset, uint32_t length, uint32_t buffer_bytes) {
  // 64-bit sum: offset + length must not wrap past the check.
  return length != 0 && uint64_t{offset} + length <= buffer_bytes;
}

}  // namespace xensnd::backend
