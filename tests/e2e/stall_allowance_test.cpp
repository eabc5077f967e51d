// The allowance for the machine's stalls must excuse only what a stall long enough, just
// before, explains; and the backend's log must place each WAV on the clock, or not at all.
#include "tests/e2e/stall_allowance.h"

#include <gtest/gtest.h>

#include <sstream>
#include <stdexcept>

namespace xensnd::e2e {
namespace {

using namespace std::chrono_literals;

constexpr auto kCycle = 5333us;  // 256 frames at 48 kHz

MachineStall stall_at(double seconds, std::chrono::microseconds length) {
  const auto at = std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
  return {std::chrono::steady_clock::time_point(at), length, 0};
}

TEST(StallAllowance, ExplainsWhatFollowsALongEnoughStallClosely) {
  const StallAllowance allowance({stall_at(100.0, 9ms)}, kCycle, "one stall");
  EXPECT_TRUE(allowance.explains(100.015));  // as seen: a splice 15-20 ms after the stall began
  EXPECT_TRUE(allowance.explains(100.0));
  EXPECT_TRUE(allowance.explains(100.108));
}

TEST(StallAllowance, NamesTheStallThatExplains) {
  const StallAllowance allowance({stall_at(100.0, 9ms), stall_at(100.05, 9ms), stall_at(200.0, 9ms)}, kCycle, "");
  EXPECT_EQ(allowance.explains(100.01), allowance.explains(100.02));    // the two edges of one gap
  EXPECT_NE(allowance.explains(100.04), allowance.explains(100.06));    // the latest before each
  EXPECT_NE(allowance.explains(100.06), allowance.explains(200.01));
  EXPECT_EQ(allowance.precedes(199.99, 16ms), allowance.explains(200.01));
}

TEST(StallAllowance, ExplainsNothingBeforeTheStallOrLongAfter) {
  const StallAllowance allowance({stall_at(100.0, 9ms)}, kCycle, "one stall");
  EXPECT_FALSE(allowance.explains(99.998));  // before it began, a tick before it was seen
  EXPECT_FALSE(allowance.explains(100.110));  // 100 ms after the stall's end
  EXPECT_FALSE(allowance.explains(130.0));
}

TEST(StallAllowance, StallsShorterThanACycleExplainNothing) {
  // Even a tick (1 ms) longer than the monitor saw them.
  const StallAllowance allowance({stall_at(100.0, 4ms), stall_at(100.01, 2ms)}, kCycle, "short stalls");
  EXPECT_FALSE(allowance.explains(100.02));
}

TEST(StallAllowance, AStallMayHaveLastedATickMoreThanSeen) {
  // The monitor sees a pause when its next wake-up comes late: one that began right after a
  // wake-up lasted up to a tick more than the lateness (seen at quantum 64: a splice right
  // after a 0.662 ms pause, half a 1.33 ms cycle being 0.667 ms).
  const auto half_cycle = 667us;
  EXPECT_TRUE(StallAllowance({stall_at(100.0, 662us)}, half_cycle, "", 250us).explains(100.01));
  EXPECT_TRUE(StallAllowance({stall_at(100.0, 450us)}, half_cycle, "", 250us).explains(100.01));
  EXPECT_FALSE(StallAllowance({stall_at(100.0, 400us)}, half_cycle, "", 250us).explains(100.01));
}

TEST(StallAllowance, PrecedesOnlyWhatWasRecordedJustBeforeALongEnoughStall) {
  const StallAllowance allowance({stall_at(100.0, 9ms), stall_at(200.0, 2ms)}, kCycle, "two stalls");
  EXPECT_TRUE(allowance.precedes(99.990, 16ms));  // as seen: skipped frames 4-11 ms before
  EXPECT_TRUE(allowance.precedes(100.0, 16ms));
  EXPECT_FALSE(allowance.precedes(99.980, 16ms));  // longer before than the follower holds
  EXPECT_FALSE(allowance.precedes(100.001, 16ms));  // after it: explains() judges those
  EXPECT_FALSE(allowance.precedes(199.995, 16ms));  // a stall shorter than `shortest`
}

TEST(StallAllowance, StallsBackToBackOnAnyCpuAreOne) {
  // As seen: 4.1 ms on CPU 1, then 2.0 ms on CPU 0 as it ended; each shorter than a cycle.
  MachineStall first = stall_at(100.0, 4100us), second = stall_at(100.0041, 2ms);
  first.cpu = 1;
  const StallAllowance allowance({second, first}, kCycle, "back to back");
  EXPECT_TRUE(allowance.explains(100.02));
  EXPECT_NE(allowance.last_stall_before(100.02).find("6.1 ms"), std::string::npos) << allowance.last_stall_before(100.02);
  // A few milliseconds apart they are two stalls, neither long enough.
  const StallAllowance apart({stall_at(100.0, 4100us), stall_at(100.008, 2ms)}, kCycle, "apart");
  EXPECT_FALSE(apart.explains(100.02));
  // Half a millisecond apart: one to a monitor that looks every millisecond, two to one that
  // looks every quarter.
  const std::vector<MachineStall> near = {stall_at(100.0, 4100us), stall_at(100.0046, 2ms)};
  EXPECT_TRUE(StallAllowance(near, kCycle, "1 ms tick").explains(100.02));
  EXPECT_FALSE(StallAllowance(near, kCycle, "0.25 ms tick", 250us).explains(100.02));
}

TEST(StallAllowance, NoStallsExplainNothing) {
  const StallAllowance allowance({}, kCycle, "no stall");
  EXPECT_FALSE(allowance.explains(100.0));
  EXPECT_EQ(allowance.last_stall_before(100.0), "none");
}

TEST(StallAllowance, ExcusedShareIsTheRunCoveredByTheWindowsOfLongEnoughStalls) {
  // A 9 ms stall's window: a tick before it to 100 ms after its end, 110 ms in all.
  const StallAllowance one({stall_at(100.0, 9ms)}, kCycle, "one stall");
  EXPECT_NEAR(one.excused_share(99.0, 101.0), 0.110 / 2, 1e-9);
  EXPECT_NEAR(one.excused_share(99.0, 101.0, 20ms), 0.130 / 2, 1e-9);  // and 20 ms ahead of it
  EXPECT_NEAR(one.excused_share(100.05, 101.05), 0.059, 1e-9);         // only what is in the run
  EXPECT_EQ(one.excused_share(101.0, 101.0), 0);
  // Overlapping windows count once; a stall too short to splice counts not at all.
  const StallAllowance overlapping({stall_at(100.0, 9ms), stall_at(100.05, 9ms), stall_at(100.5, 2ms)}, kCycle, "");
  EXPECT_NEAR(overlapping.excused_share(99.0, 101.0), 0.160 / 2, 1e-9);
  // Windows covering the whole run excuse everything: such a run cannot judge a card.
  std::vector<MachineStall> every_50ms;
  for (int i = 0; i < 40; ++i) every_50ms.push_back(stall_at(100.0 + i * 0.05, 6ms));
  EXPECT_NEAR(StallAllowance(every_50ms, kCycle, "").excused_share(100.0, 102.0), 1.0, 1e-9);
  EXPECT_EQ(StallAllowance({}, kCycle, "no stall").excused_share(99.0, 101.0), 0);
  // An allowance not made from a monitor has no run of its own.
  EXPECT_THROW(one.excused_share(), std::logic_error);
}

TEST(StallAllowance, NamesTheLastStallBefore) {
  const StallAllowance allowance({stall_at(90.0, 2ms), stall_at(99.5, 3ms), stall_at(101.0, 9ms)}, kCycle, "");
  const std::string text = allowance.last_stall_before(100.0);
  EXPECT_NE(text.find("3 ms on CPU 0"), std::string::npos) << text;
  EXPECT_NE(text.find("500 ms earlier"), std::string::npos) << text;
}

TEST(BackendLog, ReadsTheTimeOfALine) {
  EXPECT_EQ(backend_log_time("xensnd-backend[3741.003] info: vsnd 1/0 stream 0/0: START at position 0"), 3741.003);
  EXPECT_EQ(backend_log_time("xensnd-backend[3741.003518] info: vsnd 1/0 stream 0/0: START at position 0"), 3741.003518);
  EXPECT_EQ(backend_log_time("no time here"), std::nullopt);
  EXPECT_EQ(backend_log_time("xensnd-backend[12x] info: odd"), std::nullopt);
  EXPECT_EQ(backend_log_time("xensnd-backend[] info: empty"), std::nullopt);
}

TEST(BackendLog, PlacesEachRunOfEachOpenOnTheClock) {
  std::istringstream log(
      "xensnd-backend[10.000] info: vsnd 1/0 stream 0/0: opened 48000 Hz, format 14, 2 channels\n"
      "xensnd-backend[10.010] info: vsnd 1/0 stream 0/1: START at position 0\n"
      "xensnd-backend[10.020] info: vsnd 1/0 stream 0/0: START at position 0\n"
      "xensnd-backend[20.000] info: vsnd 1/0 stream 0/0: opened 48000 Hz, format 14, 2 channels\n"
      "xensnd-backend[20.100] info: vsnd 1/0 stream 0/0: START at position 0\n"
      "xensnd-backend[21.000] info: vsnd 1/0 stream 0/0: STOP at position 9600\n"  // 1200 frames of 8 bytes
      "xensnd-backend[21.500] info: vsnd 1/0 stream 0/0: START at position 9600\n"
      "xensnd-backend[22.000] info: vsnd 1/0 stream 0/0: STOP at position 19200\n"
      "xensnd-backend[22.000] info: vsnd 1/0 stream 0/0: START at position 0\n"  // after an xrun
      "xensnd-backend[22.200] warning: vsnd 1/0 stream 0/0: underrun #1 at position 9600 (the frontend did not write in time)\n"
      "xensnd-backend[30.000] info: vsnd 1/0 stream 0/0: opened 48000 Hz, format 14, 2 channels\n"
      "xensnd-backend[40.000] info: vsnd 1/0 stream 0/0: opened 48000 Hz, format 14, 2 channels\n"
      "xensnd-backend[40.100] info: vsnd 1/0 stream 0/0: START at position 0\n"
      "xensnd-backend[40.200] info: vsnd 1/0 stream 0/0: START at position 0\n");
  const std::vector<std::vector<StreamRun>> runs = stream_runs(log, "0/0");
  ASSERT_EQ(runs.size(), 4u);
  ASSERT_EQ(runs[0].size(), 1u);  // stream 0/1's START is not stream 0/0's
  EXPECT_EQ(runs[0][0].started, 10.020);
  EXPECT_EQ(run_time(runs[0], 4800, 48000, 8), 10.120);
  EXPECT_EQ(run_time(runs[1], 0, 48000, 8), 20.100);
  EXPECT_EQ(run_time(runs[1], 1199, 48000, 8), 20.100 + 1199.0 / 48000);
  EXPECT_EQ(run_time(runs[1], 1200, 48000, 8), 21.500);  // the second run's first frame
  EXPECT_EQ(run_time(runs[1], 2400, 48000, 8), 22.000);
  EXPECT_EQ(run_time(runs[1], 3599, 48000, 8), 22.000 + 1199.0 / 48000);
  EXPECT_EQ(run_time(runs[1], 3600, 48000, 8), 22.200);  // played on after running dry
  ASSERT_EQ(runs[1].size(), 4u);
  EXPECT_TRUE(runs[2].empty());  // never started
  EXPECT_TRUE(runs[3].empty());  // started twice without a STOP: its runs cannot be told apart
  EXPECT_EQ(run_time(runs[3], 0, 48000, 8), std::nullopt);
  log.clear();
  log.seekg(0);
  EXPECT_TRUE(stream_runs(log, "0/1").empty()) << "stream 0/1 was never opened";
  log.clear();
  log.seekg(0);
  const std::vector<std::vector<StreamRun>> as_if_none = stream_runs(log, "0/0", /*after_underruns=*/false);
  ASSERT_EQ(as_if_none.size(), 4u);
  EXPECT_EQ(run_time(as_if_none[1], 3600, 48000, 8), 22.025);
}

}  // namespace
}  // namespace xensnd::e2e
