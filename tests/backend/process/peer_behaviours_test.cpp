// The production peer's behaviours, reproduced behind switches (issue 9), seen on the wire:
// requests served strictly in order, capture in bursts, positions from audio timestamps,
// and a device that stalls while control requests are still answered.
#include <chrono>
#include <vector>

#include "backend_fixture.h"

namespace backendtest {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

class PeerBehavioursTest : public BackendFixture {
 protected:
  xensnd_req read_period(uint64_t index) {
    uint32_t offset = static_cast<uint32_t>((index % (kBufferBytes / kPeriodBytes)) * kPeriodBytes);
    return ScriptedFrontend::rw_request(XENSND_OP_READ, offset, kPeriodBytes);
  }
  xensnd_req write_request(uint64_t index) {
    uint32_t offset = static_cast<uint32_t>((index % (kBufferBytes / kPeriodBytes)) * kPeriodBytes);
    return ScriptedFrontend::rw_request(XENSND_OP_WRITE, offset, kPeriodBytes);
  }
};

// The default, like snd_be: one thread per ring, each request answered after the one before
// it, even when a later one (a query) could be answered at once.
TEST_F(PeerBehavioursTest, EachRingIsServedStrictlyInOrder) {
  start_backend({});
  ASSERT_EQ(open_stream(0), 0);
  for (uint64_t p = 0; p < 4; ++p) ASSERT_EQ(write_period(0, p), 0);  // the device is full
  ASSERT_EQ(trigger(0, XENSND_OP_TRIGGER_START), 0);
  std::vector<uint16_t> sent;
  for (uint64_t p = 4; p < 7; ++p) sent.push_back(frontend_->send(0, write_request(p)));
  xensnd_req query = ScriptedFrontend::simple_request(XENSND_OP_HW_PARAM_QUERY);
  query.op.hw_param.formats = 1ull << XENSND_PCM_FORMAT_S16_LE;
  query.op.hw_param.rates = {8000, 48000};
  query.op.hw_param.channels = {1, 2};
  query.op.hw_param.buffer = {64, 65536};
  query.op.hw_param.period = {64, 65536};
  sent.push_back(frontend_->send(0, query));
  for (uint16_t id : sent) {
    auto response = frontend_->wait_response(0, 2s);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->id, id);
    EXPECT_EQ(response->status, 0);
  }
}

// --capture-bursts: positions move in real time, READs are answered only at each burst and
// in order; a READ queued behind others waits for all of them.
TEST_F(PeerBehavioursTest, CaptureBurstsAnswerQueuedReadsOnlyAtEachBurst) {
  constexpr int kBurstMs = 400;
  constexpr uint64_t kPeriodsPerBurst = kBurstMs / 20;
  start_backend({"--capture-bursts", std::to_string(kBurstMs), "--source", "sine:1000"});
  ASSERT_EQ(open_stream(1), 0);
  auto start = Clock::now();  // before START: the bursts are timed from START
  ASSERT_EQ(trigger(1, XENSND_OP_TRIGGER_START), 0);
  std::vector<uint16_t> queued;
  uint64_t next = 0;
  for (; next < 4; ++next) queued.push_back(frontend_->send(1, read_period(next)));
  // Positions arrive while the READs wait.
  auto event = frontend_->wait_event(1, 2s);
  ASSERT_TRUE(event);
  EXPECT_GT(event->op.cur_pos.position, 0u);
  EXPECT_LT(seconds_since(start), kBurstMs / 1000.0) << "a position only came with the burst";
  // The first burst answers the queued READs and as many more as it recorded...
  uint64_t answered = 0;
  while (answered < kPeriodsPerBurst) {
    auto response = frontend_->wait_response(1, 3s);
    ASSERT_TRUE(response) << "READ " << answered << " unanswered";
    EXPECT_EQ(response->status, 0);
    EXPECT_EQ(response->id, queued.front());
    queued.erase(queued.begin());
    if (answered == 0) {
      EXPECT_GE(seconds_since(start), kBurstMs / 1000.0) << "answered before the burst";
    }
    ++answered;
    queued.push_back(frontend_->send(1, read_period(next++)));
  }
  // ...and the next READ waits for the second burst.
  auto response = frontend_->wait_response(1, 3s);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->id, queued.front());
  EXPECT_GE(seconds_since(start), 2 * kBurstMs / 1000.0) << "answered before the second burst";
}

// --positions audio-timestamp: CUR_POS stays 0 while the WRITEs are accepted; in underrun it
// is the total written since OPEN; STOP/START does not reset it.
TEST_F(PeerBehavioursTest, AudioTimestampPositionsAreZeroUntilAnUnderrunThenTheWrittenTotal) {
  start_backend({"--positions", "audio-timestamp"});
  ASSERT_EQ(open_stream(0), 0);
  uint64_t written = 0;
  for (; written < 4; ++written) ASSERT_EQ(write_period(0, written), 0);
  ASSERT_EQ(trigger(0, XENSND_OP_TRIGGER_START), 0);
  for (; written < 8; ++written) ASSERT_EQ(write_period(0, written), 0);  // each when room
  std::vector<uint64_t> positions;
  while (positions.empty() || positions.back() == 0) {
    auto event = frontend_->wait_event(0, 2s);
    ASSERT_TRUE(event) << "no CUR_POS after " << positions.size() << " events";
    positions.push_back(event->op.cur_pos.position);
    ASSERT_LT(positions.size(), 100u) << "still 0 long after the data ran out";
  }
  EXPECT_GE(positions.size(), 3u) << "positions were not 0 while playing";
  EXPECT_EQ(positions.back(), 8 * kPeriodBytes);
  // Data again (ALSA recovers the underrun): positions restart from what was written before
  // it, then the next underrun reports the new total.
  auto positions_until_change = [&](uint64_t from) {
    for (int i = 0; i < 100; ++i) {
      auto next_event = frontend_->wait_event(0, 2s);
      if (!next_event) return uint64_t{0};
      if (next_event->op.cur_pos.position != from) return uint64_t{next_event->op.cur_pos.position};
    }
    return uint64_t{0};
  };
  ASSERT_EQ(write_period(0, written++), 0);
  EXPECT_EQ(positions_until_change(8 * kPeriodBytes), 9 * kPeriodBytes);
  // STOP/START resets nothing: the counters count from OPEN.
  ASSERT_EQ(trigger(0, XENSND_OP_TRIGGER_STOP), 0);
  frontend_->take_events(0);
  // Two periods: the first event (a period after START) comes while they play.
  ASSERT_EQ(write_period(0, written++), 0);
  ASSERT_EQ(write_period(0, written++), 0);
  ASSERT_EQ(trigger(0, XENSND_OP_TRIGGER_START), 0);
  auto event = frontend_->wait_event(0, 2s);
  ASSERT_TRUE(event);
  EXPECT_EQ(event->op.cur_pos.position, 8 * kPeriodBytes);
  EXPECT_EQ(positions_until_change(8 * kPeriodBytes), 11 * kPeriodBytes);
}

// --stall-after: positions keep arriving and stop moving; a WRITE that needs room is no
// longer answered while a TRIGGER behind it is.
TEST_F(PeerBehavioursTest, StalledDeviceAnswersControlButNotData) {
  start_backend({"--stall-after", "40"});  // two of the four periods written
  ASSERT_EQ(open_stream(0), 0);
  for (uint64_t p = 0; p < 4; ++p) ASSERT_EQ(write_period(0, p), 0);
  ASSERT_EQ(trigger(0, XENSND_OP_TRIGGER_START), 0);
  // Three events in a row with the same position: stalled.
  std::vector<uint64_t> positions;
  while (positions.size() < 3 || positions[positions.size() - 1] != positions[positions.size() - 3]) {
    auto event = frontend_->wait_event(0, 2s);
    ASSERT_TRUE(event) << "positions stopped arriving";
    positions.push_back(event->op.cur_pos.position);
    ASSERT_LT(positions.size(), 100u);
  }
  EXPECT_GT(positions.back(), 0u);
  EXPECT_LT(positions.back(), 4 * kPeriodBytes);
  // What fits in the device's FIFO (the two periods played before the stall) is accepted.
  ASSERT_EQ(write_period(0, 4), 0);
  ASSERT_EQ(write_period(0, 5), 0);
  uint16_t write_id = frontend_->send(0, write_request(6));
  EXPECT_FALSE(frontend_->wait_response(0, 300ms)) << "WRITE " << write_id << " answered by a stalled device";
  uint16_t stop_id = frontend_->send(0, ScriptedFrontend::trigger_request(XENSND_OP_TRIGGER_STOP));
  auto response = frontend_->wait_response(0, 2s);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->id, stop_id);
  EXPECT_EQ(response->status, 0);
  EXPECT_EQ(frontend_->call(0, ScriptedFrontend::simple_request(XENSND_OP_CLOSE)).status, 0);
  EXPECT_NE(backend_->log().find("the device stalls at position"), std::string::npos);
}

}  // namespace
}  // namespace backendtest
