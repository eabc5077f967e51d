#include "backend/request_checks.h"

#include <gtest/gtest.h>

#include "test_limits.h"

namespace xensnd::backend {
namespace {

using testing::good_open;
using testing::stereo_limits;

TEST(CheckOpen, AcceptsAConfiguredCombination) {
  OpenCheck check = check_open(stereo_limits(), good_open());
  ASSERT_TRUE(check.params) << check.problem;
  EXPECT_EQ(check.params->frame_bytes(), 4u);
  EXPECT_EQ(check.params->buffer_bytes, 16384u);
  EXPECT_EQ(check.params->period_bytes, 4096u);
}

TEST(CheckOpen, RefusesEachOutOfConfigurationField) {
  auto refused = [](auto change) {
    xensnd_open_req open = good_open();
    change(open);
    return !check_open(stereo_limits(), open).params;
  };
  EXPECT_TRUE(refused([](auto& o) { o.pcm_rate = 22050; }));
  EXPECT_TRUE(refused([](auto& o) { o.pcm_format = XENSND_PCM_FORMAT_U8; }));
  EXPECT_TRUE(refused([](auto& o) { o.pcm_format = 200; }));
  EXPECT_TRUE(refused([](auto& o) { o.pcm_channels = 3; }));
  EXPECT_TRUE(refused([](auto& o) { o.pcm_channels = 0; }));
  EXPECT_TRUE(refused([](auto& o) { o.buffer_sz = 65540; }));  // over buffer-size
  EXPECT_TRUE(refused([](auto& o) { o.buffer_sz = 16386; }));  // not whole frames
  EXPECT_TRUE(refused([](auto& o) { o.buffer_sz = 0; }));
  EXPECT_TRUE(refused([](auto& o) { o.period_sz = 0; }));
  EXPECT_TRUE(refused([](auto& o) { o.period_sz = 4098; }));
  EXPECT_TRUE(refused([](auto& o) { o.period_sz = 32768; }));  // beyond the buffer
  EXPECT_TRUE(refused([](auto& o) { o.gref_directory = 0; }));
  EXPECT_FALSE(refused([](auto& o) { o.buffer_sz = 65536; }));
}

TEST(RwRange, BoundsOffsetPlusLengthWithoutWrapping) {
  EXPECT_TRUE(rw_range_valid(0, 16384, 16384));
  EXPECT_TRUE(rw_range_valid(16380, 4, 16384));
  EXPECT_FALSE(rw_range_valid(16380, 8, 16384));
  EXPECT_FALSE(rw_range_valid(0, 0, 16384));
  EXPECT_FALSE(rw_range_valid(0xFFFFFFF0u, 0x20, 16384));  // would wrap in 32 bits
  EXPECT_FALSE(rw_range_valid(16384, 1, 16384));
}

}  // namespace
}  // namespace xensnd::backend
