#include "protocol/position_tracker.h"

#include <gmock/gmock.h>

namespace xensnd {
namespace {

using ::testing::HasSubstr;
using Verdict = PositionTracker::Verdict;

bool plausible(const PositionTracker::Update& u) { return u.verdict == Verdict::kPlausible; }

TEST(PositionTracker, WithinAnEpoch) {
  PositionTracker t(StreamType::kPlayback);
  t.on_data_sent(8192);
  EXPECT_TRUE(plausible(t.on_position(4096)));
  EXPECT_TRUE(plausible(t.on_position(4096)));  // equal is fine
  EXPECT_TRUE(plausible(t.on_position(8192)));
  EXPECT_EQ(t.position(), 8192u);
}

TEST(PositionTracker, BackwardsReBasesAndKeepsThePosition) {
  PositionTracker t(StreamType::kPlayback);
  t.on_data_sent(8192);
  ASSERT_TRUE(plausible(t.on_position(4096)));
  auto u = t.on_position(4000);
  EXPECT_EQ(u.verdict, Verdict::kRebased);
  EXPECT_THAT(u.problem, HasSubstr("backwards"));
  EXPECT_EQ(t.position(), 4096u);
  // Later positions count from the new base.
  EXPECT_TRUE(plausible(t.on_position(5000)));
  EXPECT_EQ(t.position(), 4096u + 1000);
}

TEST(PositionTracker, AheadOfWrittenIsAnUnderrunClampedToWhatWasSent) {
  PositionTracker t(StreamType::kPlayback);
  t.on_data_sent(4096);
  auto u = t.on_position(4097);
  EXPECT_EQ(u.verdict, Verdict::kAhead);
  EXPECT_THAT(u.problem, HasSubstr("ahead"));
  EXPECT_EQ(t.position(), 4096u);
  EXPECT_NE(t.on_position(~uint64_t{0}).verdict, Verdict::kViolation);
  EXPECT_LE(t.position(), 4096u);
}

TEST(PositionTracker, PositionsImpossibleTooOftenInARowAreAViolation) {
  PositionTracker t(StreamType::kPlayback);
  t.on_data_sent(1 << 20);
  ASSERT_TRUE(plausible(t.on_position(1 << 19)));
  Verdict last = Verdict::kPlausible;
  unsigned rebased = 0;
  for (unsigned i = 0; i <= PositionTracker::kMaxRebasesInARow && last != Verdict::kViolation; ++i) {
    last = t.on_position(1000 - i).verdict;  // backwards, every time
    if (last == Verdict::kRebased) ++rebased;
  }
  EXPECT_EQ(rebased, PositionTracker::kMaxRebasesInARow);
  EXPECT_EQ(last, Verdict::kViolation);
}

TEST(PositionTracker, APlausiblePositionEndsTheRunOfReBases) {
  PositionTracker t(StreamType::kPlayback);
  t.on_data_sent(uint64_t{1} << 40);
  ASSERT_TRUE(plausible(t.on_position(1 << 19)));
  for (unsigned i = 0; i < 3 * PositionTracker::kMaxRebasesInARow; ++i) {
    ASSERT_EQ(t.on_position(1000).verdict, Verdict::kRebased);  // backwards from the last one
    ASSERT_TRUE(plausible(t.on_position(1000 + 2000 * 1000u)));  // then forwards again
  }
}

TEST(PositionTracker, CaptureIsOnlyMonotonicAndReBases) {
  PositionTracker t(StreamType::kCapture);
  EXPECT_TRUE(plausible(t.on_position(1 << 20)));
  EXPECT_EQ(t.on_position(10).verdict, Verdict::kRebased);
  EXPECT_EQ(t.position(), uint64_t{1} << 20);
}

TEST(PositionTracker, RestartAtZeroAfterStop) {
  PositionTracker t(StreamType::kPlayback);
  t.on_data_sent(16384);
  ASSERT_TRUE(plausible(t.on_position(16384)));
  t.on_stop();
  EXPECT_EQ(t.position(), 0u);
  t.on_data_sent(8192);
  EXPECT_TRUE(plausible(t.on_position(2048)));  // below the last raw value: must be a restart
  EXPECT_EQ(t.position(), 2048u);
  EXPECT_EQ(t.restart_behaviour(), PositionTracker::Restart::kAtZero);
}

TEST(PositionTracker, KeepsCountingAfterStop) {
  PositionTracker t(StreamType::kPlayback);
  t.on_data_sent(16384);
  ASSERT_TRUE(plausible(t.on_position(16384)));
  t.on_stop();
  t.on_data_sent(8192);
  EXPECT_TRUE(plausible(t.on_position(16384 + 4096)));  // too far for a restart: continues
  EXPECT_EQ(t.position(), 4096u);
  EXPECT_EQ(t.restart_behaviour(), PositionTracker::Restart::kKeepsCounting);
  // Learned: an ambiguous value later is read the same way.
  t.on_stop();
  t.on_data_sent(65536);
  EXPECT_TRUE(plausible(t.on_position(16384 + 4096 + 1024)));
  EXPECT_EQ(t.position(), 1024u);
}

// snd_be's ALSA path into a plugin device: 0 while playing, the total since OPEN once its
// device underran, and the counter is not reset at STOP.
TEST(PositionTracker, TotalSinceOpenAfterStopReBasesTheEpoch) {
  PositionTracker t(StreamType::kPlayback);
  t.on_data_sent(65532);
  ASSERT_TRUE(plausible(t.on_position(0)));
  ASSERT_TRUE(plausible(t.on_position(0)));
  t.on_stop();
  t.on_data_sent(4096);
  auto u = t.on_position(131064);
  EXPECT_EQ(u.verdict, Verdict::kRebased);
  EXPECT_THAT(u.problem, HasSubstr("after STOP"));
  EXPECT_EQ(t.position(), 0u);
  // It keeps counting from there.
  EXPECT_TRUE(plausible(t.on_position(131064 + 4096)));
  EXPECT_EQ(t.position(), 4096u);
}

TEST(PositionTracker, ResetForANewOpen) {
  PositionTracker t(StreamType::kPlayback);
  t.on_data_sent(4096);
  ASSERT_TRUE(plausible(t.on_position(4096)));
  t.reset();
  EXPECT_EQ(t.position(), 0u);
  EXPECT_EQ(t.sent_in_epoch(), 0u);
  t.on_data_sent(100);
  EXPECT_TRUE(plausible(t.on_position(100)));
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
