#include "protocol/hw_params.h"

#include <gmock/gmock.h>

#include "protocol/pcm_format.h"

namespace xensnd {
namespace {

constexpr uint64_t bit(unsigned f) { return uint64_t{1} << f; }

HwParamRanges request() {
  return {bit(XENSND_PCM_FORMAT_S16_LE) | bit(XENSND_PCM_FORMAT_S32_LE), {44100, 48000}, {1, 2}, {256, 8192}, {64, 2048}};
}

TEST(HwParams, WireRoundTrip) {
  HwParamRanges r = request();
  xensnd_query_hw_param wire = hw_params_to_wire(r);
  EXPECT_EQ(wire.rates.min, 44100u);
  EXPECT_EQ(wire.buffer.max, 8192u);
  EXPECT_EQ(hw_params_from_wire(wire), r);
}

TEST(HwParams, AnswerIsIntersectedWithTheRequest) {
  HwParamRanges answer = request();
  answer.rates = {8000, 192000};  // snd_be: the whole device
  answer.formats = ~uint64_t{0};
  answer.channels = {2, 8};
  answer.period_frames = {128, 100000};
  HwParamRanges r = intersect(request(), answer);
  EXPECT_EQ(r.rates, (Interval{44100, 48000}));
  EXPECT_EQ(r.formats, request().formats);
  EXPECT_EQ(r.channels, (Interval{2, 2}));
  EXPECT_EQ(r.period_frames, (Interval{128, 2048}));
  EXPECT_FALSE(is_empty(r));
}

TEST(HwParams, VariableSizeFormatsAreNeverOffered) {
  HwParamRanges a = request();
  a.formats = bit(XENSND_PCM_FORMAT_MPEG) | bit(XENSND_PCM_FORMAT_GSM);
  HwParamRanges b = a;
  EXPECT_EQ(intersect(a, b).formats, 0u);
  EXPECT_TRUE(is_empty(intersect(a, b)));
}

TEST(HwParams, EmptyIntersections) {
  for (int field = 0; field < 5; ++field) {
    HwParamRanges answer = request();
    switch (field) {
      case 0: answer.formats = bit(XENSND_PCM_FORMAT_U8); break;
      case 1: answer.rates = {96000, 96000}; break;
      case 2: answer.channels = {3, 8}; break;
      case 3: answer.buffer_frames = {9000, 10000}; break;
      case 4: answer.period_frames = {1, 32}; break;
    }
    EXPECT_TRUE(is_empty(intersect(request(), answer))) << field;
  }
  HwParamRanges inverted = request();
  inverted.rates = {48000, 44100};  // a backend answering min > max
  EXPECT_TRUE(is_empty(intersect(request(), inverted)));
}

TEST(HwParams, Describe) {
  EXPECT_EQ(describe(request()), "formats s16_le,s32_le, rates 44100-48000 Hz, channels 1-2, buffer 256-8192 frames, period 64-2048 frames");
}

TEST(HwParams, FromLimits) {
  StreamLimits l{1, 2, {8000, 44100, 48000}, bit(XENSND_PCM_FORMAT_S16_LE), 65536};
  HwParamRanges r = ranges_from_limits(l, 2);
  EXPECT_EQ(r.rates, (Interval{8000, 48000}));
  EXPECT_EQ(r.buffer_frames, (Interval{1, 32768}));
}

}  // namespace
}  // namespace xensnd
