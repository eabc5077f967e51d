// Reading a loopback recording against the played WAV: only the played tone's own splices are
// taken for copies, and the loop's lag comes from the backend's log after the capture START.
#include "tests/e2e/loopback_recording.h"

#include <gtest/gtest.h>

#include <sstream>

namespace xensnd::e2e {
namespace {

ToneReport report(size_t first, std::vector<size_t> splices) {
  ToneReport r;
  r.first = first;
  r.splices = std::move(splices);
  return r;
}

TEST(LoopbackRecording, TheToneOwnSplicesComeBackTheRestStays) {
  // The recording runs 4672 frames behind; the capture side then skipped 256 frames at 675584.
  const ToneReport played = report(993, {197600, 777184, 1261792});
  const ToneReport recorded = report(5665, {202272, 675584, 781600, 1260032, 1265952});
  size_t copies = 0;
  const std::vector<RecordedSplice> left = not_played_back(recorded, played, copies);
  EXPECT_EQ(copies, 3u);
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].sample, 675584u);
  EXPECT_EQ(left[0].played_at, 675584 - 4672);
  // After the copy at 781600 the lag is 4416 exactly.
  EXPECT_EQ(left[1].sample, 1260032u);
  EXPECT_EQ(left[1].played_at, 1260032 - 4416);
}

TEST(LoopbackRecording, ASpliceFarFromEveryPlayedOneIsNotACopy) {
  size_t copies = 0;
  const std::vector<RecordedSplice> left = not_played_back(report(5000, {300000}), report(1000, {200000}), copies);
  EXPECT_EQ(copies, 0u);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].played_at, 296000);
}

TEST(LoopbackRecording, TheLagIsWhatTheLoopHeldAfterTheCaptureStarted) {
  std::istringstream log(
      "xensnd-backend[10.000] info: loopback from 0/0: delivering, 9999 frames buffered\n"  // an earlier open
      "xensnd-backend[11.000] info: vsnd 1/0 stream 0/1: START at position 0\n"
      "xensnd-backend[11.110] info: loopback from 0/0: delivering, 5280 frames buffered\n");
  const std::optional<double> lag = loopback_lag(log, 48000);
  ASSERT_TRUE(lag);
  EXPECT_DOUBLE_EQ(*lag, 0.11);
}

TEST(LoopbackRecording, NoLagWithoutTheLine) {
  std::istringstream log("xensnd-backend[11.000] info: vsnd 1/0 stream 0/1: START at position 0\n");
  EXPECT_FALSE(loopback_lag(log, 48000));
}

}  // namespace
}  // namespace xensnd::e2e
