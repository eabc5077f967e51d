#include "protocol/hw_params.h"

#include <algorithm>

#include "protocol/pcm_format.h"

namespace xensnd {
namespace {

Interval intersect(Interval a, Interval b) { return {std::max(a.min, b.min), std::min(a.max, b.max)}; }

std::string text(Interval i) {
  return i.min == i.max ? std::to_string(i.min) : std::to_string(i.min) + "-" + std::to_string(i.max);
}

}  // namespace

xensnd_query_hw_param hw_params_to_wire(const HwParamRanges& r) {
  xensnd_query_hw_param wire{};
  wire.formats = r.formats;
  wire.rates = {r.rates.min, r.rates.max};
  wire.channels = {r.channels.min, r.channels.max};
  wire.buffer = {r.buffer_frames.min, r.buffer_frames.max};
  wire.period = {r.period_frames.min, r.period_frames.max};
  return wire;
}

HwParamRanges hw_params_from_wire(const xensnd_query_hw_param& wire) {
  HwParamRanges r;
  r.formats = wire.formats;
  r.rates = {wire.rates.min, wire.rates.max};
  r.channels = {wire.channels.min, wire.channels.max};
  r.buffer_frames = {wire.buffer.min, wire.buffer.max};
  r.period_frames = {wire.period.min, wire.period.max};
  return r;
}

HwParamRanges intersect(const HwParamRanges& a, const HwParamRanges& b) {
  HwParamRanges r;
  // Formats without a fixed frame size are never offered, whatever a backend says.
  r.formats = a.formats & b.formats & sndif_fixed_size_formats_mask();
  r.rates = intersect(a.rates, b.rates);
  r.channels = intersect(a.channels, b.channels);
  r.buffer_frames = intersect(a.buffer_frames, b.buffer_frames);
  r.period_frames = intersect(a.period_frames, b.period_frames);
  return r;
}

bool is_empty(const HwParamRanges& r) {
  return r.formats == 0 || r.rates.empty() || r.channels.empty() || r.buffer_frames.empty() ||
         r.period_frames.empty();
}

std::string describe(const HwParamRanges& r) {
  std::string formats = sndif_format_mask_names(r.formats);
  return "formats " + (formats.empty() ? std::string("none") : formats) + ", rates " + text(r.rates) +
         " Hz, channels " + text(r.channels) + ", buffer " + text(r.buffer_frames) +
         " frames, period " + text(r.period_frames) + " frames";
}

HwParamRanges ranges_from_limits(const StreamLimits& limits, uint32_t bytes_per_frame_min) {
  HwParamRanges r;
  r.formats = limits.formats;
  if (!limits.rates.empty()) r.rates = {limits.rates.front(), limits.rates.back()};
  else r.rates = {1, 0};
  r.channels = {limits.channels_min, limits.channels_max};
  uint32_t max_frames = bytes_per_frame_min ? limits.buffer_bytes / bytes_per_frame_min : 0;
  r.buffer_frames = {1, max_frames};
  r.period_frames = {1, max_frames};
  return r;
}

}  // namespace xensnd
