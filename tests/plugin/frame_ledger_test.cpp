// FrameLedger's rules with time passed in: prefill, the hardware pointer, underruns, drain,
// stalls and the delay, for a backend whose positions are regular, lag, stop or never move.
#include "plugin/frame_ledger.h"

#include <gmock/gmock.h>

#include <vector>

namespace xensnd::plugin {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using Clock = FrameLedger::Clock;

constexpr uint32_t kFrameBytes = 4;  // S16_LE stereo
constexpr uint64_t kPeriod = 480;    // 10 ms at 48 kHz
constexpr uint64_t kBuffer = 4 * kPeriod;
constexpr uint64_t kLead = 480;      // the pointer's lead on the device: 10 ms at 48 kHz

class FrameLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override { configure(true); }
  // Without a silence area (the tests above the lead's own: a card whose buffer limit leaves
  // no room for one), the lead is a jump of the pointer at START.
  void configure(bool playback, uint64_t period = kPeriod, uint64_t buffer = kBuffer, uint32_t rate = 48000,
                 uint64_t read_frames = 0, uint64_t silence_frames = 0) {
    ledger.configure(FrameLedger::Setup{playback, kFrameBytes, rate, buffer, period, read_frames, silence_frames});
    ledger.configure(FrameLedger::Software{/*boundary=*/buffer << 20, /*avail_min=*/period, /*stop_threshold=*/buffer});
    ledger.set_stall_timeout(2000ms);
    ledger.prepare(0, 0, t0);
  }
  // The application writes `frames`; the requests the ledger asks for are "sent".
  void write(uint64_t frames) {
    ledger.advance_appl(frames);
    send_all();
  }
  void send_all(Clock::time_point now = t0) {
    while (auto r = ledger.next_request(now)) ledger.on_sent(*r, now);
  }
  static uint64_t bytes(uint64_t frames) { return frames * kFrameBytes; }
  static Clock::time_point at(Clock::duration d) { return t0 + d; }

  static inline const Clock::time_point t0 = Clock::time_point{} + 1h;
  FrameLedger ledger;
};

TEST_F(FrameLedgerTest, BeforeStartTheBackendGetsOnePeriod) {
  write(kBuffer);
  EXPECT_EQ(ledger.requested(), kPeriod);
  EXPECT_FALSE(ledger.unsent());  // nothing more may go before START
  ledger.start(t0);
  EXPECT_TRUE(ledger.unsent());
  send_all();
  EXPECT_EQ(ledger.requested(), kBuffer);
  EXPECT_FALSE(ledger.unsent());
}

TEST_F(FrameLedgerTest, RequestsWrapAtTheBufferEnd) {
  ledger.start(t0);
  write(kBuffer - 100);
  ledger.observe(bytes(kBuffer - 100), bytes(kBuffer - 100), at(50ms));
  ledger.advance_appl(300);
  auto first = ledger.next_request(t0);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->offset_bytes, bytes(kBuffer - 100));
  EXPECT_EQ(first->frames, 100u);
  ledger.on_sent(*first, t0);
  auto second = ledger.next_request(t0);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->offset_bytes, 0u);
  EXPECT_EQ(second->frames, 200u);
}

TEST_F(FrameLedgerTest, PointerFollowsPositionsAndTheClockBetweenThem) {
  ledger.start(t0);
  write(kBuffer);
  ledger.observe(bytes(kPeriod), bytes(3 * kPeriod), at(10ms));
  EXPECT_EQ(ledger.hw(), kPeriod + kLead);
  // 5 ms later, no new position: the clock says 240 frames more.
  ledger.observe(bytes(kPeriod), bytes(3 * kPeriod), at(15ms));
  EXPECT_EQ(ledger.hw(), kPeriod + 240 + kLead);
  // Never past what the backend took.
  ledger.observe(bytes(kPeriod), bytes(3 * kPeriod), at(200ms));
  EXPECT_EQ(ledger.hw(), 3 * kPeriod);
  // Everything taken: a frame short of the end until a position says it was played.
  ledger.observe(bytes(kPeriod), bytes(kBuffer), at(300ms));
  EXPECT_EQ(ledger.hw(), kBuffer - 1);
  ledger.observe(bytes(kBuffer), bytes(kBuffer), at(301ms));
  EXPECT_EQ(ledger.hw(), kBuffer);
}

// A sound server at quantum 64 keeps ~128 frames queued with 480-frame periods: positions
// come every 10 ms and are seen only at its next cycle, but the room its writes need opens
// with the clock in between, so it writes on time and the device never runs dry.
TEST_F(FrameLedgerTest, AClientKeepingLessThanAPeriodQueuedSeesRoomBetweenPositions) {
  ledger.start(t0);
  constexpr uint64_t kQueued = 128, kQuantum = 64;
  write(kQueued);
  uint64_t position = 0;
  for (int cycle = 1; cycle <= 200; ++cycle) {
    const auto now = at(std::chrono::microseconds(cycle * kQuantum * 1'000'000 / 48000));
    const uint64_t device = cycle * kQuantum;  // what a device played by now
    if (device / kPeriod > position / kPeriod) position = device / kPeriod * kPeriod;  // CUR_POS per period
    ledger.observe(bytes(position), bytes(ledger.requested()), now);
    // A position seen late does not pull the pointer back behind the device.
    ASSERT_GE(ledger.hw() + 2, device) << "cycle " << cycle;
    // The server's view of the fill level: written minus the pointer.
    const uint64_t queued = ledger.appl() - std::min(ledger.hw(), ledger.appl());
    ASSERT_LE(queued, kQueued + kQuantum) << "cycle " << cycle << ": the pointer lags the device";
    ASSERT_FALSE(ledger.xrun(now)) << "cycle " << cycle;
    if (queued < kQueued + kQuantum) write(kQueued + kQuantum - queued);
    ASSERT_GT(ledger.appl(), device) << "cycle " << cycle << ": the device would have run dry";
  }
}

// A device that starts 9 ms after START (a backend filling its device first) reports
// positions that far behind the clock, less than a period: the clock must come back to them.
// Left ahead, it showed a sound server keeping a quantum queued an almost empty buffer, and
// the pointer then only followed what the server wrote (PipeWire at quantum 64 inserted
// silence when its cycles came irregularly).
TEST_F(FrameLedgerTest, ADeviceStartingLateBringsTheClockBackToIt) {
  ledger.start(t0);
  constexpr uint64_t kQuantum = 64, kStartFrames = 432;  // 9 ms
  write(2 * kQuantum);
  uint64_t position = 0;
  for (int cycle = 1; cycle <= 200; ++cycle) {
    const auto now = at(std::chrono::microseconds(cycle * kQuantum * 1'000'000 / 48000));
    const uint64_t clock = cycle * kQuantum;
    const uint64_t device = clock > kStartFrames ? clock - kStartFrames : 0;  // what it played by now
    if (device / kPeriod > position / kPeriod) position = device / kPeriod * kPeriod;  // CUR_POS per period
    ledger.observe(bytes(position), bytes(ledger.requested()), now);
    // The pointer never goes back: from where the clock had taken it before the first
    // position (cycle 15), the device catches up within a few cycles.
    if (cycle > 25) {
      // Ahead of the device by at most the lead, a server cycle (the position may have
      // come just after the last look) and the tolerance for late reports (2 ms).
      ASSERT_LE(ledger.hw(), device + kLead + kQuantum + 96) << "cycle " << cycle << ": the clock runs ahead";
      ASSERT_GE(ledger.hw() + 2, device) << "cycle " << cycle << ": the pointer is behind the device";
    }
    const uint64_t queued = ledger.appl() - std::min(ledger.hw(), ledger.appl());
    if (queued < 2 * kQuantum) write(2 * kQuantum - queued);
  }
}

// A device slower than the clock (or a counter that went back): each position pulls the
// clock back to the latest the device can be at, so the pointer keeps to the device.
TEST_F(FrameLedgerTest, ASlowerDeviceKeepsThePointerToIt) {
  configure(true, kPeriod, 64 * kPeriod);
  ledger.start(t0);
  write(64 * kPeriod);
  // Half speed, a position every 20 ms (a period); the application looks every 10 ms.
  for (int ms = 10; ms <= 400; ms += 10) {
    const uint64_t device = static_cast<uint64_t>(ms) * 24;
    const uint64_t position = static_cast<uint64_t>(ms / 20) * kPeriod;
    ledger.observe(bytes(position), bytes(64 * kPeriod), at(std::chrono::milliseconds(ms)));
    // From where the clock had taken it before the device showed its pace, the device
    // catches up; then the pointer stays within two looks and the lead of it.
    if (ms >= 100) {
      ASSERT_LE(ledger.hw(), device + 2 * 480 + kLead) << ms << " ms";
    }
    ASSERT_GE(ledger.hw() + 1, device) << ms << " ms";
  }
}

// snd_be's ALSA path into a plugin device: positions 0 while WRITEs complete as its device
// plays. The stream still moves, and plays to the end.
TEST_F(FrameLedgerTest, PositionsStuckAtZeroStillPlayToTheEnd) {
  ledger.start(t0);
  uint64_t written = 0;
  Clock::duration t = 0ms;
  for (int period = 0; period < 50; ++period) {
    const uint64_t room = ledger.avail();
    write(room);
    written += room;
    t += 10ms;
    // The device took everything sent up to its clock.
    const uint64_t taken = std::min<uint64_t>(ledger.requested(), static_cast<uint64_t>(t / 1ms) * 48 + kBuffer);
    ledger.observe(0, bytes(taken), at(t));
    ASSERT_FALSE(ledger.xrun(at(t))) << "period " << period;
    ASSERT_FALSE(ledger.stalled(at(t))) << "period " << period;
  }
  EXPECT_GT(written, 40 * kPeriod);  // it moved at about the device's pace
  // Drain: everything taken, nothing reported played. Done by the clock, not before.
  ledger.observe(0, bytes(ledger.requested()), at(t));
  const auto end = std::chrono::microseconds(ledger.appl() * 1'000'000 / 48000);
  EXPECT_FALSE(ledger.drained(bytes(ledger.requested()), at(end + 99ms)));
  EXPECT_TRUE(ledger.drained(bytes(ledger.requested()), at(end + 101ms)));
}

// --- The lead as silence the device plays first (a silence area, the plugin's usual case) ---

class LeadingSilenceTest : public FrameLedgerTest {
 protected:
  void SetUp() override { configure(true, kPeriod, kBuffer, 48000, 0, /*silence_frames=*/kLead); }
  // Sends what the ledger asks for, counting silence and frames apart.
  void send_counting(Clock::time_point now = t0) {
    while (auto r = ledger.next_request(now)) {
      (r->silence ? silence_sent : frames_sent) += r->frames;
      if (r->silence) {
        EXPECT_EQ(frames_sent, 0u) << "silence after the run's first frame";
      }
      ledger.on_sent(*r, now);
    }
  }
  uint64_t silence_sent = 0, frames_sent = 0;
};

TEST_F(LeadingSilenceTest, TheRunStartsWithTheLeadAsSilenceBeforeItsFirstFrame) {
  send_counting();
  EXPECT_EQ(silence_sent, 0u) << "nothing written, nothing started: an open that never plays sends nothing";
  ledger.advance_appl(kBuffer);
  send_counting();
  EXPECT_EQ(silence_sent, kLead);
  EXPECT_EQ(frames_sent, kPeriod);  // the prefill before START is still a period of frames
  ledger.start(t0);
  send_counting();
  EXPECT_EQ(silence_sent, kLead) << "once a run";
  EXPECT_EQ(frames_sent, kBuffer);
  // The next run (after an underrun, a drop) starts with its own.
  ledger.prepare(kBuffer, bytes(kLead + kBuffer), at(1s));
  silence_sent = frames_sent = 0;
  ledger.start(at(1s));
  send_counting(at(1s));
  EXPECT_EQ(silence_sent, kLead) << "a run started with nothing written starts with the silence too";
}

TEST_F(LeadingSilenceTest, ASilenceAreaSmallerThanTheLeadIsSentSeveralTimes) {
  configure(true, kPeriod, kBuffer, 48000, 0, /*silence_frames=*/200);
  ledger.advance_appl(kPeriod);
  std::vector<uint64_t> silences;
  while (auto r = ledger.next_request(t0)) {
    if (r->silence) silences.push_back(r->frames);
    ledger.on_sent(*r, t0);
  }
  EXPECT_EQ(silences, (std::vector<uint64_t>{200, 200, 80})) << "each WRITE of silence within the area";
  EXPECT_EQ(ledger.silence_sent(), kLead);
  EXPECT_EQ(ledger.requested(), kPeriod);
}

// The lead costs the application nothing at START: the pointer moves from 0 at the device's
// rate, the device that far behind it in the application's frames. A pointer that jumped
// the lead ahead at START made a sound server supply 10 ms more at once, which a source
// following the same clock (a loopback) paid from its margin and then skipped a quantum.
TEST_F(LeadingSilenceTest, ThePointerDoesNotJumpAtStartAndLeadsTheDeviceByTheSilence) {
  write(kBuffer);
  ledger.start(t0);
  send_all();
  ledger.observe(0, bytes(kLead + kBuffer), t0);
  EXPECT_EQ(ledger.hw(), 0u);
  ledger.observe(0, bytes(kLead + kBuffer), at(5ms));
  EXPECT_EQ(ledger.hw(), 240u);  // the clock, nothing more
  // The device played its silence and 100 frames: the pointer is its count, 580.
  ledger.observe(bytes(kLead + 100), bytes(kLead + kBuffer), at(12083us));
  EXPECT_EQ(ledger.hw(), kLead + 100);
  EXPECT_EQ(ledger.played(), 100u);  // of the application's frames
  // The delay counts what the device has yet to play of them, the lead included.
  EXPECT_EQ(ledger.delay(at(12083us)), static_cast<int64_t>(kBuffer - 100));
}

TEST_F(LeadingSilenceTest, UnderrunAndDrainAreJudgedInTheApplicationsFrames) {
  write(kBuffer);
  ledger.start(t0);
  send_all();
  const uint64_t sent = bytes(kLead + kBuffer);
  ledger.observe(bytes(kBuffer), sent, at(40ms));  // silence and all but the lead's worth
  EXPECT_FALSE(ledger.xrun(at(40ms)));
  EXPECT_FALSE(ledger.drained(sent, at(40ms)));
  EXPECT_EQ(ledger.hw(), kBuffer - 1) << "a frame short of the end until a position confirms it";
  ledger.observe(sent, sent, at(50ms));
  EXPECT_TRUE(ledger.xrun(at(50ms)));
  EXPECT_TRUE(ledger.drained(sent, at(50ms)));
  EXPECT_EQ(ledger.hw(), kBuffer);
}

TEST_F(LeadingSilenceTest, SilenceAnsweredIsProgressButNoRoom) {
  write(kBuffer);
  ledger.start(t0);
  send_all();
  // Only the silence was taken: nothing of the ring is free yet, whatever the clock says.
  ledger.observe(0, bytes(kLead), at(30ms));
  EXPECT_EQ(ledger.hw(), 0u);
  EXPECT_FALSE(ledger.stalled(at(30ms) + 2000ms));
  EXPECT_TRUE(ledger.stalled(at(30ms) + 2001ms).has_value());
}

TEST_F(FrameLedgerTest, UnderrunWhenThePositionsReachWhatWasWritten) {
  ledger.start(t0);
  write(kBuffer);
  ledger.observe(bytes(kBuffer - 1), bytes(kBuffer), at(40ms));
  EXPECT_FALSE(ledger.xrun(at(40ms)));
  ledger.observe(bytes(kBuffer), bytes(kBuffer), at(41ms));
  EXPECT_TRUE(ledger.xrun(at(41ms)));
}

TEST_F(FrameLedgerTest, AStarvedDeviceThatStopsReportingIsAnUnderrunNotAStall) {
  ledger.start(t0);
  write(kBuffer);
  // Positions up to 3 periods, then none: the device ran dry after the last one.
  ledger.observe(bytes(3 * kPeriod), bytes(kBuffer), at(30ms));
  EXPECT_FALSE(ledger.xrun(at(40ms)));
  // 100 ms' grace (two periods would be 20 ms) after the clock says "played" at 40 ms.
  EXPECT_FALSE(ledger.xrun(at(139ms)));
  EXPECT_TRUE(ledger.xrun(at(141ms)));
  EXPECT_FALSE(ledger.stalled(at(5s)));
}

TEST_F(FrameLedgerTest, PositionsStuckWellShortOfWhatTheBackendTookAreAStallNotAnUnderrun) {
  // A backend killed mid-stream: it took the whole buffer into its device, reported a period
  // played, then nothing. The clock alone would call that an underrun, and the application's
  // recovery would wait out the response timeout on a dead backend.
  ledger.start(t0);
  write(kBuffer);
  ledger.observe(bytes(kPeriod), bytes(kBuffer), at(10ms));
  EXPECT_FALSE(ledger.xrun(at(1s)));
  EXPECT_FALSE(ledger.drained(bytes(kBuffer), at(1s)));
  EXPECT_FALSE(ledger.stalled(at(2010ms)));
  auto stall = ledger.stalled(at(2011ms));
  ASSERT_TRUE(stall);
  EXPECT_THAT(*stall, HasSubstr(std::to_string(kBuffer - kPeriod) + " frames to play"));
  // Positions within a period of the end (the last partial period unreported) are a device
  // that ran dry.
  ledger.observe(bytes(kBuffer - kPeriod), bytes(kBuffer), at(2012ms));
  EXPECT_TRUE(ledger.xrun(at(2012ms)));
  EXPECT_TRUE(ledger.drained(bytes(kBuffer), at(2012ms)));
  EXPECT_FALSE(ledger.stalled(at(5s)));
}

TEST_F(FrameLedgerTest, CompletedWritesAloneAreNoUnderrun) {
  // A backend that copies out at once but plays in real time: not dry while the clock says
  // the data is still playing.
  ledger.start(t0);
  write(kBuffer);
  ledger.observe(0, bytes(kBuffer), at(1ms));
  EXPECT_FALSE(ledger.xrun(at(1ms)));
  EXPECT_LT(ledger.hw(), kBuffer);  // and ioplug must not see a finished buffer either
}

TEST_F(FrameLedgerTest, StalledPositionsWithDataOutstandingEndInAnError) {
  ledger.start(t0);
  write(kBuffer);
  ledger.observe(bytes(kPeriod), bytes(2 * kPeriod), at(10ms));  // then nothing moves
  EXPECT_FALSE(ledger.stalled(at(2009ms)));
  auto stall = ledger.stalled(at(2011ms));
  ASSERT_TRUE(stall);
  EXPECT_THAT(*stall, HasSubstr("no progress for 2001 ms"));
  EXPECT_THAT(*stall, HasSubstr(std::to_string(kBuffer - kPeriod) + " frames to play"));
}

TEST_F(FrameLedgerTest, AnswersAreProgressToo) {
  ledger.start(t0);
  write(kBuffer);
  ledger.observe(0, bytes(kPeriod), at(10ms));
  ledger.observe(0, bytes(2 * kPeriod), at(1900ms));  // a WRITE completed: the backend lives
  EXPECT_FALSE(ledger.stalled(at(3000ms)));
  EXPECT_TRUE(ledger.stalled(at(3901ms)));
}

TEST_F(FrameLedgerTest, APauseIsNoStallAndFreezesTheDelay) {
  ledger.start(t0);
  write(kBuffer);
  ledger.observe(bytes(kPeriod), bytes(kBuffer), at(10ms));
  ledger.pause(true, at(15ms));
  const int64_t frozen = ledger.delay(at(15ms));
  EXPECT_EQ(ledger.delay(at(10s)), frozen);
  EXPECT_FALSE(ledger.stalled(at(10s)));
  ledger.pause(false, at(10s));
  EXPECT_EQ(ledger.delay(at(10s)), frozen);
  EXPECT_FALSE(ledger.stalled(at(10s) + 1s));
}

TEST_F(FrameLedgerTest, StallAllowanceIsBoundedForLongPeriods) {
  // 1 Hz with a 100 000-frame period: two periods would be 55 hours.
  configure(true, 100000, 400000, 1);
  EXPECT_EQ(ledger.stall_allowance(), Clock::duration(FrameLedger::Stall::kPeriodsCap));
  configure(true, 48000, 4 * 48000, 48000);  // 1 s periods: two of them
  EXPECT_EQ(ledger.stall_allowance(), Clock::duration(2s));
  configure(true, 96000, 4 * 96000, 48000);  // 2 s periods
  EXPECT_EQ(ledger.stall_allowance(), Clock::duration(4s));
}

TEST_F(FrameLedgerTest, DelayInterpolatesAtMostAPeriodAndNeverPastWhatWasSent) {
  ledger.start(t0);
  write(kBuffer);
  ledger.observe(bytes(kPeriod), bytes(kBuffer), at(10ms));
  EXPECT_EQ(ledger.delay(at(10ms)), static_cast<int64_t>(kBuffer - kPeriod));
  EXPECT_EQ(ledger.delay(at(15ms)), static_cast<int64_t>(kBuffer - kPeriod - 240));
  EXPECT_EQ(ledger.delay(at(100ms)), static_cast<int64_t>(kBuffer - 2 * kPeriod));
}

TEST_F(FrameLedgerTest, RewindMovesTheApplicationBackNotWhatWasSent) {
  ledger.sync_appl(0);
  ledger.sync_appl(3 * kPeriod);
  EXPECT_EQ(ledger.appl(), 3 * kPeriod);
  send_all();
  EXPECT_EQ(ledger.requested(), kPeriod);  // before START
  ledger.sync_appl(2 * kPeriod);          // rewound a period
  EXPECT_EQ(ledger.appl(), 2 * kPeriod);
  EXPECT_EQ(ledger.requested(), kPeriod);
}

TEST_F(FrameLedgerTest, CaptureKeepsTheConsumedPartRequested) {
  constexpr uint64_t kGrain = 64;
  configure(false, kPeriod, kBuffer, 48000, kGrain);
  EXPECT_FALSE(ledger.next_request(t0));  // nothing before START
  ledger.start(t0);
  send_all();
  EXPECT_EQ(ledger.requested(), kBuffer);
  // Two periods answered on time; the pointer is two grains behind the clock.
  ledger.observe(0, bytes(2 * kPeriod), at(20ms));
  EXPECT_EQ(ledger.hw(), 2 * kPeriod - 2 * kGrain);
  EXPECT_EQ(ledger.avail(), 2 * kPeriod - 2 * kGrain);
  EXPECT_FALSE(ledger.next_request(t0));  // the buffer is all requested until the app reads
  ledger.advance_appl(kPeriod);
  send_all();
  EXPECT_EQ(ledger.requested(), (kBuffer + kPeriod) / kGrain * kGrain);  // whole READs
  EXPECT_EQ(ledger.delay(at(20ms)), static_cast<int64_t>(kPeriod - 2 * kGrain));
  // The application stops reading: the buffer fills, and once a device would have produced
  // more than it holds (by the clock: 2400 frames at 50 ms) plus 100 ms (4800 frames), an overrun.
  ledger.observe(0, bytes(kBuffer + kPeriod), at(50ms));
  EXPECT_FALSE(ledger.xrun(at(50ms)));
  EXPECT_FALSE(ledger.xrun(at(149ms)));
  EXPECT_TRUE(ledger.xrun(at(151ms)));
}

TEST_F(FrameLedgerTest, CaptureInBurstsIsNoOverrun) {
  configure(false);
  ledger.start(t0);
  send_all();
  // Nothing for 2 s (the backend's lateness is learnt while the buffer has room)...
  ledger.observe(0, 0, at(1500ms));
  ledger.observe(0, 0, at(2000ms));
  // ...then a burst fills the buffer at once: nothing was lost.
  ledger.observe(0, bytes(kBuffer), at(2010ms));
  EXPECT_FALSE(ledger.xrun(at(2010ms)));
  ledger.advance_appl(kBuffer);
  send_all();
  ledger.observe(0, bytes(2 * kBuffer), at(2015ms));
  EXPECT_FALSE(ledger.xrun(at(2015ms)));
}

TEST(CaptureGrainTest, ASixteenthOfThePeriodWithinItsFloors) {
  EXPECT_EQ(FrameLedger::capture_grain(1024, 48000, 1), 64u);   // PipeWire's default period
  EXPECT_EQ(FrameLedger::capture_grain(6000, 48000, 1), 375u);  // arecord's default
  EXPECT_EQ(FrameLedger::capture_grain(480, 48000, 1), 64u);    // never below 64 frames...
  EXPECT_EQ(FrameLedger::capture_grain(4096, 192000, 1), 256u);
  EXPECT_EQ(FrameLedger::capture_grain(2048, 192000, 1), 192u);  // ...or a millisecond...
  EXPECT_EQ(FrameLedger::capture_grain(1024, 48000, 100), 100u);  // ...or the backend's smallest period
  EXPECT_EQ(FrameLedger::capture_grain(32, 48000, 1), 32u);       // and never above the period
}

TEST_F(FrameLedgerTest, CaptureReadsAGrainAtATime) {
  constexpr uint64_t kPipeWirePeriod = 1024, kGrain = 64;
  configure(false, kPipeWirePeriod, 4 * kPipeWirePeriod, 48000, kGrain);
  ledger.start(t0);
  for (int slot = 0; slot < 31; ++slot) {  // as many as the ring's slots take
    auto r = ledger.next_request(t0);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->frames, kGrain);
    EXPECT_EQ(r->offset_bytes, bytes(slot * kGrain));
    ledger.on_sent(*r, t0);
  }
  // The pointer moves with the answered READs, not a period at a time: by the clock, two
  // grains behind it (8 ms: 384 frames), and never past what arrived.
  ledger.observe(0, bytes(5 * kGrain), at(8ms));
  EXPECT_EQ(ledger.avail(), 384 - 2 * kGrain);
  ledger.observe(0, bytes(5 * kGrain), at(10ms));
  EXPECT_EQ(ledger.avail(), 5 * kGrain);
}

TEST_F(FrameLedgerTest, CapturePointerMovesWithTheClockWhateverGrainTheAnswersEndOn) {
  // PipeWire's source at quantum 1024 reads from a timer; the answers come a grain at a time,
  // each a grain after its last frame was recorded or up to a grain later still. At each
  // cycle the pointer must have moved by the quantum, not by a quantum plus or minus a grain.
  constexpr uint64_t kQuantum = 1024, kGrain = 64;
  configure(false, kQuantum, 4 * kQuantum, 48000, kGrain);
  ledger.start(t0);
  send_all();
  uint64_t previous_hw = 0, completed_changes = 0, previous_completed = 0;
  for (uint64_t cycle = 1; cycle <= 40; ++cycle) {
    const auto now = at(std::chrono::microseconds(cycle * kQuantum * 1'000'000 / 48000));
    const uint64_t recorded = cycle * kQuantum;
    const uint64_t late = cycle % 3 == 0 ? 2 * kGrain - 1 : kGrain;  // the answer's lateness
    const uint64_t completed = (recorded - late) / kGrain * kGrain;
    completed_changes += completed - previous_completed != kQuantum;
    previous_completed = completed;
    ledger.observe(0, bytes(completed), now);
    if (cycle > 3) {
      EXPECT_NEAR(static_cast<double>(ledger.hw() - previous_hw), kQuantum, 1.0) << "cycle " << cycle;
    }
    previous_hw = ledger.hw();
    EXPECT_LE(ledger.hw(), completed) << "a frame that has not arrived";
    ledger.advance_appl(ledger.avail());
    send_all(now);
  }
  EXPECT_GT(completed_changes, 10u) << "the answers did not jitter: the test proves nothing";
  // A backend that falls behind (a burst on its way): the pointer shows all that came, held
  // back no more, and the next timely answers put it back on the clock.
  const auto late_at = at(std::chrono::microseconds(41 * kQuantum * 1'000'000 / 48000));
  ledger.observe(0, bytes(previous_completed), late_at);
  EXPECT_EQ(ledger.hw(), previous_completed);
  const auto burst_at = late_at + 5ms;
  const uint64_t burst = previous_completed + 2 * kQuantum;
  ledger.observe(0, bytes(burst), burst_at);
  EXPECT_EQ(ledger.hw(), burst - 2 * kGrain);
}

TEST_F(FrameLedgerTest, CaptureLatenessIsNotLearntFromReadsAskedLate) {
  configure(false, kPeriod, kBuffer, 48000, 64);
  ledger.start(t0);
  for (int slot = 0; slot < 4; ++slot) ledger.on_sent(*ledger.next_request(t0), t0);
  ledger.observe(0, bytes(256), at(10ms));  // answered in time
  // The application (and so the plugin) sleeps for a second: the backend's device overruns.
  // Its READs are asked for only now, for frames recorded long ago, and answered at once.
  ledger.advance_appl(256);
  send_all(at(1000ms));
  ledger.observe(0, bytes(256), at(1000ms));
  ledger.observe(0, bytes(256 + kBuffer), at(1001ms));
  ledger.observe(0, bytes(256 + kBuffer), at(1004ms));
  EXPECT_EQ(ledger.avail(), kBuffer);
  // Not a backend delivering late (which would excuse a second's worth): an overrun.
  EXPECT_TRUE(ledger.xrun(at(1001ms)));
}

TEST_F(FrameLedgerTest, CaptureAsksAtOnceForWhatTheDeviceRecordedUnasked) {
  constexpr uint64_t kPipeWirePeriod = 1024, kGrain = 64, kRing = 4096;
  configure(false, kPipeWirePeriod, kRing, 48000, kGrain);
  ledger.start(t0);
  for (int slot = 0; slot < 31; ++slot) ledger.on_sent(*ledger.next_request(t0), t0);
  ledger.observe(0, bytes(31 * kGrain), at(42ms));
  // At 100 ms (4800 frames recorded) the application reads what arrived: what the device
  // recorded since, a grain short of the clock, is asked for in whole grains at once (to
  // the ring's end, then the rest from its start), and then a grain at a time again.
  ledger.advance_appl(31 * kGrain);
  auto r = ledger.next_request(at(100ms));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->offset_bytes, bytes(31 * kGrain));
  EXPECT_EQ(r->frames, kRing - 31 * kGrain);
  ledger.on_sent(*r, at(100ms));
  r = ledger.next_request(at(100ms));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->offset_bytes, 0u);
  EXPECT_EQ(r->frames, (4800 - kGrain - kRing) / kGrain * kGrain);
  ledger.on_sent(*r, at(100ms));
  r = ledger.next_request(at(100ms));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->frames, kGrain);
}

}  // namespace
}  // namespace xensnd::plugin
