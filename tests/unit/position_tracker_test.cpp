#include "protocol/position_tracker.h"

#include <gmock/gmock.h>

namespace xensnd {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;

TEST(PositionTracker, WithinAnEpoch) {
  PositionTracker t(StreamType::kPlayback);
  t.on_data_sent(8192);
  EXPECT_FALSE(t.on_position(4096));
  EXPECT_FALSE(t.on_position(4096));  // equal is fine
  EXPECT_FALSE(t.on_position(8192));
  EXPECT_EQ(t.position(), 8192u);
}

TEST(PositionTracker, BackwardsIsAViolationAndChangesNothing) {
  PositionTracker t(StreamType::kPlayback);
  t.on_data_sent(8192);
  ASSERT_FALSE(t.on_position(4096));
  EXPECT_THAT(t.on_position(4000), Optional(HasSubstr("backwards")));
  EXPECT_EQ(t.position(), 4096u);
}

TEST(PositionTracker, AheadOfWrittenIsAViolation) {
  PositionTracker t(StreamType::kPlayback);
  t.on_data_sent(4096);
  EXPECT_THAT(t.on_position(4097), Optional(HasSubstr("ahead")));
  EXPECT_THAT(t.on_position(~uint64_t{0}), Optional(HasSubstr("ahead")));
  EXPECT_EQ(t.position(), 0u);
}

TEST(PositionTracker, CaptureIsOnlyMonotonic) {
  PositionTracker t(StreamType::kCapture);
  EXPECT_FALSE(t.on_position(1 << 20));
  EXPECT_TRUE(t.on_position(10));
}

TEST(PositionTracker, RestartAtZeroAfterStop) {
  PositionTracker t(StreamType::kPlayback);
  t.on_data_sent(16384);
  ASSERT_FALSE(t.on_position(16384));
  t.on_stop();
  EXPECT_EQ(t.position(), 0u);
  t.on_data_sent(8192);
  EXPECT_FALSE(t.on_position(2048));  // below the last raw value: must be a restart
  EXPECT_EQ(t.position(), 2048u);
  EXPECT_EQ(t.restart_behaviour(), PositionTracker::Restart::kAtZero);
}

TEST(PositionTracker, KeepsCountingAfterStop) {
  PositionTracker t(StreamType::kPlayback);
  t.on_data_sent(16384);
  ASSERT_FALSE(t.on_position(16384));
  t.on_stop();
  t.on_data_sent(8192);
  EXPECT_FALSE(t.on_position(16384 + 4096));  // too far for a restart: continues
  EXPECT_EQ(t.position(), 4096u);
  EXPECT_EQ(t.restart_behaviour(), PositionTracker::Restart::kKeepsCounting);
  // Learned: an ambiguous value later is read the same way.
  t.on_stop();
  t.on_data_sent(65536);
  EXPECT_FALSE(t.on_position(16384 + 4096 + 1024));
  EXPECT_EQ(t.position(), 1024u);
}

TEST(PositionTracker, ImpossibleFirstPositionOfAnEpoch) {
  PositionTracker t(StreamType::kPlayback);
  t.on_data_sent(4096);
  ASSERT_FALSE(t.on_position(4096));
  t.on_stop();
  t.on_data_sent(1024);
  EXPECT_THAT(t.on_position(100000), Optional(HasSubstr("after STOP")));
  EXPECT_FALSE(t.on_position(512));  // and the tracker is still usable
}

TEST(PositionTracker, ResetForANewOpen) {
  PositionTracker t(StreamType::kPlayback);
  t.on_data_sent(4096);
  ASSERT_FALSE(t.on_position(4096));
  t.reset();
  EXPECT_EQ(t.position(), 0u);
  EXPECT_EQ(t.sent_in_epoch(), 0u);
  t.on_data_sent(100);
  EXPECT_FALSE(t.on_position(100));
}

TEST(PositionTracker, FrameHelpers) {
  EXPECT_EQ(bytes_to_frames(4096, 4), 1024u);
  EXPECT_EQ(bytes_to_frames(4095, 4), 1023u);
  EXPECT_EQ(bytes_to_frames(4096, 0), 0u);
  EXPECT_EQ(frames_in_buffer(5000, 4096), 904u);
  EXPECT_EQ(frames_in_buffer(uint64_t{1} << 40, 1000), (uint64_t{1} << 40) % 1000);
}

}  // namespace
}  // namespace xensnd
