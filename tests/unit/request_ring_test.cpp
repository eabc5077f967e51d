#include "protocol/request_ring.h"

#include <gmock/gmock.h>

#include <cstdlib>
#include <memory>

#include "protocol/errors.h"

namespace xensnd {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct PageDeleter {
  void operator()(void* p) const { std::free(p); }
};

// A ring page with the backend's view of it, answering like libxenbe.
class RequestRingTest : public ::testing::Test {
 protected:
  RequestRingTest() : page_(std::aligned_alloc(4096, 4096)), ring_(page_.get()) {
    BACK_RING_INIT(&back_, static_cast<xen_sndif_sring*>(page_.get()), 4096);
  }
  xensnd_req take_request() {
    xensnd_req r;
    std::memcpy(&r, RING_GET_REQUEST(&back_, back_.req_cons), sizeof r);
    ++back_.req_cons;
    return r;
  }
  // Returns whether the backend would notify (RING_PUSH_RESPONSES_AND_CHECK_NOTIFY).
  bool answer(uint16_t id, uint8_t op, int32_t status = 0) {
    xensnd_resp resp{};
    resp.id = id;
    resp.operation = op;
    resp.status = status;
    std::memcpy(RING_GET_RESPONSE(&back_, back_.rsp_prod_pvt), &resp, sizeof resp);
    ++back_.rsp_prod_pvt;
    int notify = 0;
    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&back_, notify);
    return notify != 0;
  }
  xensnd_req request(uint8_t op) {
    xensnd_req r{};
    r.operation = op;
    return r;
  }
  Clock::duration later() { return 10s; }

  std::unique_ptr<void, PageDeleter> page_;
  RequestRing ring_;
  xen_sndif_back_ring_t back_{};
};

TEST_F(RequestRingTest, CapacityIs32) {
  EXPECT_EQ(ring_.capacity(), 32u);
  EXPECT_EQ(ring_.free_slots(), 32u);
}

TEST_F(RequestRingTest, NotifiesOnlyWhenTheBackendAsks) {
  // Initially req_event = 1: the first request must notify.
  EXPECT_TRUE(ring_.push(request(XENSND_OP_OPEN), later()).notify);
  // The backend has not re-armed req_event (it is busy): no notification for the next.
  EXPECT_FALSE(ring_.push(request(XENSND_OP_WRITE), later()).notify);
  // The backend consumes and re-arms with RING_FINAL_CHECK_FOR_REQUESTS.
  take_request();
  take_request();
  int more = 0;
  RING_FINAL_CHECK_FOR_REQUESTS(&back_, more);
  EXPECT_FALSE(more);
  EXPECT_TRUE(ring_.push(request(XENSND_OP_WRITE), later()).notify);
}

TEST_F(RequestRingTest, CollectingDoesNotAskForTheNextNotification) {
  // While streaming, answers are picked up when CUR_POS wakes the frontend: each one waking
  // it as well would double the wake-ups (and system calls) per period.
  auto a = ring_.push(request(XENSND_OP_WRITE), later());
  auto b = ring_.push(request(XENSND_OP_WRITE), later());
  take_request();
  take_request();
  EXPECT_TRUE(answer(a.id, XENSND_OP_WRITE));  // rsp_event starts at 1
  ASSERT_EQ(ring_.collect().size(), 1u);
  EXPECT_FALSE(ring_.response_notification_armed());
  EXPECT_FALSE(answer(b.id, XENSND_OP_WRITE));
  auto done = ring_.collect();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, b.id);
  EXPECT_EQ(static_cast<xen_sndif_sring*>(page_.get())->rsp_event, 1u);
}

TEST_F(RequestRingTest, ArmingMakesTheBackendNotifyTheNextResponse) {
  auto a = ring_.push(request(XENSND_OP_OPEN), later());
  auto b = ring_.push(request(XENSND_OP_TRIGGER), later());
  take_request();
  take_request();
  EXPECT_TRUE(answer(a.id, XENSND_OP_OPEN));
  ASSERT_EQ(ring_.collect().size(), 1u);
  EXPECT_FALSE(ring_.arm_response_notification());  // nothing waiting: safe to sleep
  EXPECT_TRUE(ring_.response_notification_armed());
  EXPECT_EQ(static_cast<xen_sndif_sring*>(page_.get())->rsp_event, 2u);
  EXPECT_TRUE(answer(b.id, XENSND_OP_TRIGGER));
  auto done = ring_.collect();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, b.id);
  EXPECT_FALSE(ring_.response_notification_armed());  // one-shot: that answer used it up
}

TEST_F(RequestRingTest, ArmingReportsResponsesThatCameBeforeIt) {
  // ring.h's race: a response produced before rsp_event was raised is never notified; the
  // frontend must see it on arming and collect it instead of sleeping.
  auto a = ring_.push(request(XENSND_OP_WRITE), later());
  auto b = ring_.push(request(XENSND_OP_WRITE), later());
  take_request();
  take_request();
  answer(a.id, XENSND_OP_WRITE);
  ASSERT_EQ(ring_.collect().size(), 1u);
  EXPECT_FALSE(answer(b.id, XENSND_OP_WRITE));  // not armed: silent
  EXPECT_TRUE(ring_.arm_response_notification());
  ASSERT_EQ(ring_.collect().size(), 1u);
  EXPECT_FALSE(ring_.arm_response_notification());
  EXPECT_EQ(ring_.outstanding(), 0u);
}

TEST_F(RequestRingTest, NegativeControlAFrontendThatDoesNotReArmIsNotNotified) {
  // Shows the test above can fail: consuming without RING_FINAL_CHECK_FOR_RESPONSES leaves
  // rsp_event behind and libxenbe does not notify the second response.
  auto a = ring_.push(request(XENSND_OP_OPEN), later());
  auto b = ring_.push(request(XENSND_OP_TRIGGER), later());
  take_request();
  take_request();
  EXPECT_TRUE(answer(a.id, XENSND_OP_OPEN));
  EXPECT_FALSE(answer(b.id, XENSND_OP_TRIGGER));  // nobody consumed/re-armed in between
}

TEST_F(RequestRingTest, FreshIdsAndMatching) {
  std::vector<uint16_t> ids;
  for (int i = 0; i < 32; ++i) ids.push_back(ring_.push(request(XENSND_OP_WRITE), later()).id);
  EXPECT_EQ(ring_.free_slots(), 0u);
  EXPECT_THROW(ring_.push(request(XENSND_OP_WRITE), later()), std::logic_error);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::unique(ids.begin(), ids.end()), ids.end());
  // Answers out of order are fine as long as each matches.
  for (int i = 31; i >= 0; --i) answer(ids[i], XENSND_OP_WRITE);
  EXPECT_EQ(ring_.collect().size(), 32u);
  EXPECT_EQ(ring_.outstanding(), 0u);
}

TEST_F(RequestRingTest, IdsWrapWithoutReusingOutstandingOnes) {
  auto stuck = ring_.push(request(XENSND_OP_WRITE), later());  // never answered
  for (int i = 0; i < 70000; ++i) {
    auto p = ring_.push(request(XENSND_OP_TRIGGER), later());
    ASSERT_NE(p.id, stuck.id);
    take_request();
    answer(p.id, XENSND_OP_TRIGGER);
    ASSERT_EQ(ring_.collect().size(), 1u);
  }
  EXPECT_TRUE(ring_.is_outstanding(stuck.id));
}

TEST_F(RequestRingTest, UnknownIdIsAViolation) {
  ring_.push(request(XENSND_OP_OPEN), later());
  answer(4242, XENSND_OP_OPEN);
  try {
    ring_.collect();
    FAIL();
  } catch (const BackendGoneError& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown request id 4242"));
  }
}

TEST_F(RequestRingTest, WrongOperationIsAViolation) {
  auto p = ring_.push(request(XENSND_OP_WRITE), later());
  answer(p.id, XENSND_OP_READ);
  EXPECT_THROW(ring_.collect(), BackendGoneError);
}

TEST_F(RequestRingTest, DuplicateAnswerIsAViolation) {
  auto p = ring_.push(request(XENSND_OP_WRITE), later());
  ring_.push(request(XENSND_OP_WRITE), later());
  answer(p.id, XENSND_OP_WRITE);
  answer(p.id, XENSND_OP_WRITE);
  EXPECT_THROW(ring_.collect(), BackendGoneError);
}

TEST_F(RequestRingTest, RspProdPastRequestsIsAViolation) {
  ring_.push(request(XENSND_OP_WRITE), later());
  static_cast<xen_sndif_sring*>(page_.get())->rsp_prod = 2;
  EXPECT_THAT([&] { try { ring_.collect(); } catch (const BackendGoneError& e) { throw std::runtime_error(e.what()); } },
              ::testing::ThrowsMessage<std::runtime_error>(HasSubstr("only 1 requests are outstanding")));
  static_cast<xen_sndif_sring*>(page_.get())->rsp_prod = 0xfffffff0u;  // "behind" wraps huge
  EXPECT_THROW(ring_.collect(), BackendGoneError);
}

TEST_F(RequestRingTest, StatusIsMapped) {
  auto a = ring_.push(request(XENSND_OP_WRITE), later());
  auto b = ring_.push(request(XENSND_OP_WRITE), later());
  auto c = ring_.push(request(XENSND_OP_OPEN), later());
  answer(a.id, XENSND_OP_WRITE, 0);
  answer(b.id, XENSND_OP_WRITE, -EPIPE);
  answer(c.id, XENSND_OP_OPEN, -EINVAL);
  auto done = ring_.collect();
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(done[0].status.errno_value, 0);
  EXPECT_EQ(done[1].status.errno_value, EIO);
  EXPECT_EQ(done[1].raw_status, -EPIPE);
  EXPECT_EQ(done[2].status.errno_value, EINVAL);
}

TEST_F(RequestRingTest, OnlyTheOldestRequestsClockRuns) {
  auto now = Clock::now();
  auto first = ring_.push(request(XENSND_OP_WRITE), 5s, now);
  auto second = ring_.push(request(XENSND_OP_TRIGGER), 1s, now);
  // The TRIGGER waits behind the WRITE: its second has not started.
  EXPECT_EQ(ring_.next_deadline(), now + 5s);
  EXPECT_NO_THROW(ring_.check_deadlines(now + 2s));
  EXPECT_THAT([&] { try { ring_.check_deadlines(now + 5s); } catch (const BackendGoneError& e) { throw std::runtime_error(e.what()); } },
              ::testing::ThrowsMessage<std::runtime_error>(HasSubstr("did not answer WRITE (request " +
                                                                     std::to_string(first.id) + ") in time")));
  // The WRITE completes at +4 s: the TRIGGER's second starts there.
  answer(first.id, XENSND_OP_WRITE);
  std::vector<Completion> done;
  ring_.collect(done, now + 4s);
  EXPECT_EQ(ring_.next_deadline(), now + 5s);
  EXPECT_NO_THROW(ring_.check_deadlines(now + 4900ms));
  EXPECT_THAT([&] { try { ring_.check_deadlines(now + 5s); } catch (const BackendGoneError& e) { throw std::runtime_error(e.what()); } },
              ::testing::ThrowsMessage<std::runtime_error>(HasSubstr("TRIGGER (request " + std::to_string(second.id))));
}

TEST_F(RequestRingTest, AnswersToYoungerRequestsDoNotRestartTheOldest) {
  auto now = Clock::now();
  ring_.push(request(XENSND_OP_WRITE), 1s, now);
  auto b = ring_.push(request(XENSND_OP_WRITE), 1s, now);
  answer(b.id, XENSND_OP_WRITE);
  std::vector<Completion> done;
  ring_.collect(done, now + 900ms);
  EXPECT_EQ(ring_.next_deadline(), now + 1s);
}

TEST_F(RequestRingTest, HeldDataRequestsHaveNoClockUntilReleased) {
  auto now = Clock::now();
  ring_.hold_data_requests(true, now);
  ring_.push(request(XENSND_OP_WRITE), 1s, now);
  ring_.push(request(XENSND_OP_WRITE), 1s, now);
  EXPECT_FALSE(ring_.next_deadline());
  EXPECT_NO_THROW(ring_.check_deadlines(now + 1h));
  // START: the backend may take them now.
  ring_.hold_data_requests(false, now + 10s);
  EXPECT_EQ(ring_.next_deadline(), now + 11s);
}

TEST_F(RequestRingTest, AControlRequestBehindHeldDataStartsItsClock) {
  auto now = Clock::now();
  ring_.hold_data_requests(true, now);
  ring_.push(request(XENSND_OP_WRITE), 2s, now);
  EXPECT_FALSE(ring_.next_deadline());
  // A STOP (or CLOSE) behind it: the backend must get through the WRITE to answer it.
  ring_.push(request(XENSND_OP_TRIGGER), 1s, now + 10s);
  EXPECT_EQ(ring_.next_deadline(), now + 12s);
  EXPECT_THROW(ring_.check_deadlines(now + 12s), BackendGoneError);
}

}  // namespace
}  // namespace xensnd
