#include "backend/pacing_clock.h"

#include <gtest/gtest.h>

namespace xensnd::backend {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

TEST(PacingClock, FramesFallDueAtTheRate) {
  PacingClock clock(48000, false);
  clock.anchor(5 * kSecond);
  EXPECT_EQ(clock.frames_due(5 * kSecond), 0u);
  EXPECT_EQ(clock.frames_due(5 * kSecond + kSecond / 100), 480u);
  EXPECT_EQ(clock.frames_due(6 * kSecond), 48000u);
  EXPECT_EQ(clock.frames_due(4 * kSecond), 0u);  // before the anchor
}

TEST(PacingClock, TakenFramesAreNotDueAgain) {
  PacingClock clock(44100, false);
  clock.anchor(0);
  clock.take(44000);
  EXPECT_EQ(clock.frames_due(kSecond), 100u);
  clock.take(100);
  EXPECT_EQ(clock.frames_due(kSecond), 0u);
}

TEST(PacingClock, TimeDueIsTheFirstInstantTheFramesAreDue) {
  PacingClock clock(44100, false);
  clock.anchor(1000);
  clock.take(10);
  int64_t when = clock.time_due(441);
  EXPECT_GE(clock.frames_due(when), 441u);
  EXPECT_LT(clock.frames_due(when - 1), 441u);
}

TEST(PacingClock, ReanchoringStartsCountingAgain) {
  PacingClock clock(8000, false);
  clock.anchor(0);
  clock.take(8000);
  clock.anchor(10 * kSecond);
  EXPECT_EQ(clock.frames_due(10 * kSecond + kSecond / 2), 4000u);
}

TEST(PacingClock, NoOverflowAfterHours) {
  PacingClock clock(384000, false);
  clock.anchor(0);
  EXPECT_EQ(clock.frames_due(int64_t{10} * 3600 * kSecond), uint64_t{384000} * 36000);
}

TEST(PacingClock, FreeRunHasEverythingDue) {
  PacingClock clock(48000, true);
  clock.anchor(0);
  EXPECT_GE(clock.frames_due(0), 1u << 30);
}

}  // namespace
}  // namespace xensnd::backend
