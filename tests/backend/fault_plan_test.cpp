#include "backend/fault_plan.h"

#include <gtest/gtest.h>

#include "protocol/sndif_abi.h"

namespace xensnd::backend {
namespace {

FaultSpec parse(const char* text) {
  std::string error;
  auto spec = parse_fault_spec(text, error);
  EXPECT_TRUE(spec) << error;
  return spec.value_or(FaultSpec{});
}

TEST(FaultPlan, ParsesKindsAndOptions) {
  FaultSpec spec = parse("delay-response:ms=250,op=write,nth=3,stream=0/1");
  EXPECT_EQ(spec.kind, FaultKind::kDelayResponse);
  EXPECT_EQ(spec.ms, 250u);
  EXPECT_EQ(spec.operation, XENSND_OP_WRITE);
  EXPECT_EQ(spec.nth, 3u);
  EXPECT_EQ(spec.stream, std::make_pair(size_t{0}, size_t{1}));
  EXPECT_EQ(parse("exit").kind, FaultKind::kExit);
  EXPECT_FALSE(parse("exit").on_requests());
  EXPECT_TRUE(parse("exit:op=trigger").on_requests());
}

TEST(FaultPlan, MalformedSpecsAreRefusedWithAReason) {
  std::string error;
  EXPECT_FALSE(parse_fault_spec("explode", error));
  EXPECT_NE(error.find("explode"), std::string::npos);
  EXPECT_FALSE(parse_fault_spec("drop-response:nth=0", error));
  EXPECT_FALSE(parse_fault_spec("drop-response:op=dance", error));
  EXPECT_FALSE(parse_fault_spec("delay-response", error));  // needs ms
  EXPECT_FALSE(parse_fault_spec("wrong-id:stream=1", error));
}

TEST(FaultPlan, RequestFaultsFireOnTheNthMatchingRequest) {
  StreamFaults faults({parse("drop-response:op=write,nth=2"), parse("delay-response:ms=5,nth=2")}, 0, 0);
  EXPECT_FALSE(faults.on_request(XENSND_OP_WRITE).drop);
  RequestFaults second = faults.on_request(XENSND_OP_OPEN);
  EXPECT_FALSE(second.drop);
  EXPECT_EQ(second.delay_ms, 5u);  // the 2nd request of any kind, and every later one
  RequestFaults third = faults.on_request(XENSND_OP_WRITE);
  EXPECT_TRUE(third.drop);
  EXPECT_EQ(third.delay_ms, 5u);
  EXPECT_FALSE(faults.on_request(XENSND_OP_WRITE).drop);  // once
}

TEST(FaultPlan, EventFaultsCountPositionEvents) {
  StreamFaults faults({parse("stop-events:nth=3"), parse("position-backwards:nth=2"), parse("exit:nth=5")}, 0, 0);
  EXPECT_FALSE(faults.on_position_event().backwards);
  EXPECT_TRUE(faults.on_position_event().backwards);
  EventFaults third = faults.on_position_event();
  EXPECT_TRUE(third.suppress);
  EXPECT_TRUE(faults.on_position_event().suppress);
  EXPECT_TRUE(faults.on_position_event().exit);
  EXPECT_FALSE(faults.on_request(XENSND_OP_WRITE).exit);
}

TEST(FaultPlan, StreamFilterKeepsOnlyThatStream) {
  StreamFaults other({parse("wrong-id:stream=1/0")}, 0, 0);
  EXPECT_FALSE(other.any());
  StreamFaults mine({parse("wrong-id:stream=1/0")}, 1, 0);
  EXPECT_TRUE(mine.on_request(XENSND_OP_OPEN).wrong_id);
}

}  // namespace
}  // namespace xensnd::backend
