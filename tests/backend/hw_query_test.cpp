#include "backend/hw_query.h"

#include <gtest/gtest.h>

#include "test_limits.h"

namespace xensnd::backend {
namespace {

xensnd_query_hw_param everything() {
  xensnd_query_hw_param q{};
  q.formats = ~uint64_t{0};
  q.rates = {1, 1000000};
  q.channels = {1, 64};
  q.buffer = {1, 1u << 30};
  q.period = {1, 1u << 30};
  return q;
}

TEST(HwQuery, NarrowsAnOpenRequestToTheConfiguration) {
  auto answer = narrow_hw_params(testing::stereo_limits(), everything());
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->formats, testing::stereo_limits().formats);
  EXPECT_EQ(answer->rates.min, 8000u);
  EXPECT_EQ(answer->rates.max, 48000u);
  EXPECT_EQ(answer->channels.min, 1u);
  EXPECT_EQ(answer->channels.max, 2u);
  // 65536 bytes of the smallest frame (s16, mono) = 32768 frames.
  EXPECT_EQ(answer->buffer.max, 32768u);
  EXPECT_EQ(answer->period.max, 16384u);
  EXPECT_EQ(answer->period.min, kMinPeriodFrames);
}

TEST(HwQuery, RatesShrinkToTheSupportedOnesInsideTheInterval) {
  auto q = everything();
  q.rates = {9000, 47000};
  auto answer = narrow_hw_params(testing::stereo_limits(), q);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->rates.min, 44100u);
  EXPECT_EQ(answer->rates.max, 44100u);
}

TEST(HwQuery, ChannelsAndFramesFollowTheNarrowedFormat) {
  auto q = everything();
  q.formats = uint64_t{1} << XENSND_PCM_FORMAT_S32_LE;
  q.channels = {2, 2};
  auto answer = narrow_hw_params(testing::stereo_limits(), q);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->buffer.max, 65536u / 8);
}

TEST(HwQuery, EmptyIntersectionsAreRefused) {
  auto limits = testing::stereo_limits();
  auto q = everything();
  q.formats = uint64_t{1} << XENSND_PCM_FORMAT_U8;
  EXPECT_FALSE(narrow_hw_params(limits, q));
  q = everything();
  q.rates = {44101, 47999};
  EXPECT_FALSE(narrow_hw_params(limits, q));
  q = everything();
  q.channels = {3, 8};
  EXPECT_FALSE(narrow_hw_params(limits, q));
  q = everything();
  q.period = {20000, 30000};  // more than half of the largest buffer
  EXPECT_FALSE(narrow_hw_params(limits, q));
  q = everything();
  q.buffer = {0, 0};
  EXPECT_FALSE(narrow_hw_params(limits, q));
}

TEST(HwQuery, BufferAtLeastTwoPeriods) {
  auto q = everything();
  q.period = {1000, 1000};
  auto answer = narrow_hw_params(testing::stereo_limits(), q);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->buffer.min, 2000u);
}

}  // namespace
}  // namespace xensnd::backend
