// HW_PARAM_QUERY: any answer a backend may put on the wire, against a request built from a
// fuzzed stream configuration.
//
// Checked: the wire format round-trips; the intersection is never wider than the request
// nor the answer in any field and offers only fixed-size formats (what the frontend can
// open), is commutative and idempotent; is_empty() is true exactly when a field is empty;
// describe() names every field; ranges_from_limits() stays within the configuration.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstring>

#include "fuzz/fuzz_check.h"
#include "protocol/hw_params.h"
#include "protocol/pcm_format.h"

namespace {

using xensnd::HwParamRanges;
using xensnd::Interval;

bool within(Interval inner, Interval outer) {
  return inner.empty() || (inner.min >= outer.min && inner.max <= outer.max);
}

xensnd::StreamLimits limits_from(FuzzedDataProvider& in) {
  xensnd::StreamLimits l;
  l.channels_min = in.ConsumeIntegralInRange<uint32_t>(0, 40);
  l.channels_max = in.ConsumeIntegralInRange<uint32_t>(0, 40);
  size_t rates = in.ConsumeIntegralInRange<size_t>(0, 8);
  for (size_t i = 0; i < rates; ++i) l.rates.push_back(in.ConsumeIntegral<uint32_t>());
  std::sort(l.rates.begin(), l.rates.end());
  l.rates.erase(std::unique(l.rates.begin(), l.rates.end()), l.rates.end());
  l.formats = in.ConsumeIntegral<uint64_t>() & xensnd::sndif_fixed_size_formats_mask();
  l.buffer_bytes = in.ConsumeIntegral<uint32_t>();
  return l;
}

// As many bytes of `wire` as the input still has; the rest stays zero.
void fill(FuzzedDataProvider& in, xensnd_query_hw_param& wire) {
  std::vector<uint8_t> bytes = in.ConsumeBytes<uint8_t>(sizeof wire);
  if (!bytes.empty()) std::memcpy(&wire, bytes.data(), bytes.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  xensnd::StreamLimits limits = limits_from(in);
  uint32_t frame_min = in.ConsumeIntegralInRange<uint32_t>(0, 256);
  HwParamRanges request = xensnd::ranges_from_limits(limits, frame_min);
  FUZZ_CHECK(request.formats == limits.formats);
  if (!limits.rates.empty()) FUZZ_CHECK(request.rates.min == limits.rates.front() && request.rates.max == limits.rates.back());
  else FUZZ_CHECK(request.rates.empty());
  if (frame_min && !request.buffer_frames.empty())
    FUZZ_CHECK(uint64_t{request.buffer_frames.max} * frame_min <= limits.buffer_bytes);

  // The application may have narrowed it further.
  if (in.ConsumeBool()) {
    xensnd_query_hw_param narrowed{};
    fill(in, narrowed);
    request = xensnd::intersect(request, xensnd::hw_params_from_wire(narrowed));
  }

  // The backend's answer: any bytes.
  xensnd_query_hw_param wire{};
  fill(in, wire);
  HwParamRanges answer = xensnd::hw_params_from_wire(wire);
  xensnd_query_hw_param back = xensnd::hw_params_to_wire(answer);
  FUZZ_CHECK(std::memcmp(&back, &wire, sizeof wire) == 0);
  FUZZ_CHECK(xensnd::hw_params_from_wire(xensnd::hw_params_to_wire(request)) == request);

  HwParamRanges result = xensnd::intersect(request, answer);
  FUZZ_CHECK((result.formats & ~request.formats) == 0 && (result.formats & ~answer.formats) == 0);
  FUZZ_CHECK((result.formats & ~xensnd::sndif_fixed_size_formats_mask()) == 0);
  for (auto field : {&HwParamRanges::rates, &HwParamRanges::channels, &HwParamRanges::buffer_frames,
                     &HwParamRanges::period_frames}) {
    FUZZ_CHECK(within(result.*field, request.*field));
    FUZZ_CHECK(within(result.*field, answer.*field));
  }
  FUZZ_CHECK(xensnd::intersect(answer, request) == result);
  FUZZ_CHECK(xensnd::intersect(result, result) == result);
  bool empty = result.formats == 0 || result.rates.empty() || result.channels.empty() ||
               result.buffer_frames.empty() || result.period_frames.empty();
  FUZZ_CHECK(xensnd::is_empty(result) == empty);

  std::string text = xensnd::describe(answer);
  for (const char* field : {"formats", "rates", "channels", "buffer", "period"})
    FUZZ_CHECK(text.find(field) != std::string::npos);
  return 0;
}
