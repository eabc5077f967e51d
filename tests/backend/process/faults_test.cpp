// Each --fault switch produces its fault, as a frontend would see it.
#include <chrono>

#include "backend_fixture.h"

namespace backendtest {
namespace {

class FaultsTest : public BackendFixture {
 protected:
  // OPEN, two periods, START.
  void start_playing() {
    ASSERT_EQ(open_stream(0), 0);
    ASSERT_EQ(write_period(0, 0), 0);
    ASSERT_EQ(write_period(0, 1), 0);
    ASSERT_EQ(trigger(0, XENSND_OP_TRIGGER_START), 0);
  }
  std::vector<uint64_t> positions(size_t count) {
    std::vector<uint64_t> out;
    uint64_t next_period = 2;
    while (out.size() < count) {
      auto event = frontend_->wait_event(0);
      if (!event) break;
      out.push_back(event->op.cur_pos.position);
      if (next_period < 2 + count) {
        EXPECT_EQ(write_period(0, next_period++), 0);
      }
    }
    return out;
  }
};

TEST_F(FaultsTest, DropResponseNeverAnswersThatRequest) {
  start_backend({"--fault", "drop-response:op=write,nth=2"});
  ASSERT_EQ(open_stream(0), 0);
  ASSERT_EQ(write_period(0, 0), 0);
  uint16_t dropped = frontend_->send(0, ScriptedFrontend::rw_request(XENSND_OP_WRITE, kPeriodBytes, kPeriodBytes));
  uint16_t query = frontend_->send(0, ScriptedFrontend::simple_request(XENSND_OP_HW_PARAM_QUERY));
  auto response = frontend_->wait_response(0);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->id, query);  // the WRITE's answer was skipped
  EXPECT_NE(response->id, dropped);
}

TEST_F(FaultsTest, WrongIdAndWrongOperation) {
  start_backend({"--fault", "wrong-id:op=open", "--fault", "wrong-operation:op=trigger"});
  grant_ref_t directory = frontend_->share_buffer(0, kBufferBytes);
  uint16_t id = frontend_->send(0, ScriptedFrontend::open_request(kRate, XENSND_PCM_FORMAT_S16_LE, 2, kBufferBytes,
                                                                  kPeriodBytes, directory));
  auto open = frontend_->wait_response(0);
  ASSERT_TRUE(open);
  EXPECT_NE(open->id, id);
  EXPECT_EQ(open->operation, XENSND_OP_OPEN);
  auto start = frontend_->call(0, ScriptedFrontend::trigger_request(XENSND_OP_TRIGGER_START));
  EXPECT_NE(start.operation, XENSND_OP_TRIGGER);
}

TEST_F(FaultsTest, DelayResponseHoldsTheAnswer) {
  start_backend({"--fault", "delay-response:ms=300,op=hw-param-query"});
  auto before = std::chrono::steady_clock::now();
  frontend_->call(0, ScriptedFrontend::simple_request(XENSND_OP_HW_PARAM_QUERY));
  EXPECT_GE(std::chrono::steady_clock::now() - before, 300ms);
}

TEST_F(FaultsTest, PositionGoesBackwards) {
  start_backend({"--fault", "position-backwards:nth=3"});
  start_playing();
  auto p = positions(3);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_GT(p[1], p[0]);
  EXPECT_LT(p[2], p[1]);
}

TEST_F(FaultsTest, PositionJumpsBeyondTheBuffer) {
  start_backend({"--fault", "position-beyond:nth=2"});
  start_playing();
  auto p = positions(2);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_GT(p[1] - p[0], kBufferBytes);
}

TEST_F(FaultsTest, EventFloodOverrunsTheEventRing) {
  start_backend({"--fault", "event-flood:nth=2"});
  start_playing();
  ASSERT_TRUE(frontend_->wait_event(0));
  ASSERT_EQ(write_period(0, 2), 0);
  ASSERT_TRUE(frontend_->wait_events_pending(0, XENSND_IN_RING_LEN + 1));
  EXPECT_GT(frontend_->event_prod(0) - frontend_->event_cons(0), XENSND_IN_RING_LEN);
}

TEST_F(FaultsTest, StopEventsSilencesCurPos) {
  start_backend({"--fault", "stop-events:nth=3"});
  start_playing();
  auto p = positions(2);
  ASSERT_EQ(p.size(), 2u);
  // Six more periods through a four-period device: WRITEs are answered only as the device
  // plays, so several more period boundaries pass while we wait for the answers.
  for (uint64_t i = 4; i < 10; ++i) ASSERT_EQ(write_period(0, i), 0);
  EXPECT_TRUE(frontend_->take_events(0).empty());
  EXPECT_NE(backend_->log().find("no more events"), std::string::npos);
}

TEST_F(FaultsTest, ExitMidStream) {
  start_backend({"--fault", "exit:nth=2"});
  start_playing();
  ASSERT_TRUE(frontend_->wait_event(0));
  ASSERT_EQ(write_period(0, 2), 0);
  EXPECT_EQ(backend_->wait_exit(5s), 3);
}

TEST_F(FaultsTest, ExitOnARequest) {
  start_backend({"--fault", "exit:op=trigger"});
  ASSERT_EQ(open_stream(0), 0);
  frontend_->send(0, ScriptedFrontend::trigger_request(XENSND_OP_TRIGGER_START));
  EXPECT_EQ(backend_->wait_exit(5s), 3);
  EXPECT_FALSE(frontend_->wait_response(0, 100ms));
}

TEST_F(FaultsTest, SetClosingMidStream) {
  start_backend({"--fault", "set-closing:nth=2"});
  start_playing();
  ASSERT_TRUE(frontend_->wait_event(0));
  ASSERT_EQ(write_period(0, 2), 0);
  EXPECT_TRUE(frontend_->wait_backend_state(5)) << backend_->log();
}

}  // namespace
}  // namespace backendtest
