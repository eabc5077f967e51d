#include "backend/hw_query.h"

#include <algorithm>

#include "protocol/pcm_format.h"

namespace xensnd::backend {
namespace {

struct Interval {
  uint32_t min;
  uint32_t max;
  bool empty() const { return min > max; }
};

Interval intersect(Interval a, Interval b) { return {std::max(a.min, b.min), std::min(a.max, b.max)}; }

}  // namespace

std::optional<xensnd_query_hw_param> narrow_hw_params(const StreamLimits& limits,
                                                      const xensnd_query_hw_param& request) {
  xensnd_query_hw_param answer{};

  // Formats: only those with a fixed frame size can be offered.
  uint64_t formats = request.formats & limits.formats;
  uint32_t smallest_sample = 0;
  for (uint8_t f = 0; f < 64; ++f) {
    if (!(formats & (uint64_t{1} << f))) continue;
    std::optional<uint32_t> bytes = sndif_format_bytes_per_sample(f);
    if (!bytes) {
      formats &= ~(uint64_t{1} << f);
      continue;
    }
    if (smallest_sample == 0 || *bytes < smallest_sample) smallest_sample = *bytes;
  }
  if (formats == 0) return std::nullopt;
  answer.formats = formats;

  // Rates: a discrete list; the interval shrinks to the supported rates inside it.
  auto first = std::lower_bound(limits.rates.begin(), limits.rates.end(), request.rates.min);
  auto last = std::upper_bound(limits.rates.begin(), limits.rates.end(), request.rates.max);
  if (first >= last) return std::nullopt;
  answer.rates.min = *first;
  answer.rates.max = *(last - 1);

  Interval channels = intersect({request.channels.min, request.channels.max},
                                {std::max(limits.channels_min, 1u), limits.channels_max});
  if (channels.empty()) return std::nullopt;
  answer.channels.min = channels.min;
  answer.channels.max = channels.max;

  // The largest buffer holds buffer-size bytes of the smallest frame still possible.
  uint32_t max_buffer_frames = limits.buffer_bytes / (smallest_sample * channels.min);
  Interval buffer = intersect({request.buffer.min, request.buffer.max},
                              {kMinPeriodFrames * kMinPeriodsPerBuffer, max_buffer_frames});
  Interval period = intersect({request.period.min, request.period.max},
                              {kMinPeriodFrames, max_buffer_frames / kMinPeriodsPerBuffer});
  if (buffer.empty() || period.empty()) return std::nullopt;
  // Cross constraints: buffer >= 2 periods.
  period.max = std::min(period.max, buffer.max / kMinPeriodsPerBuffer);
  // period.min <= max_buffer_frames / 2 here, so the product cannot overflow.
  buffer.min = std::max(buffer.min, period.min * kMinPeriodsPerBuffer);
  if (buffer.empty() || period.empty()) return std::nullopt;
  answer.buffer.min = buffer.min;
  answer.buffer.max = buffer.max;
  answer.period.min = period.min;
  answer.period.max = period.max;
  return answer;
}

}  // namespace xensnd::backend
