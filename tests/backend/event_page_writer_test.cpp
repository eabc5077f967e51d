#include "backend/event_page_writer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace xensnd::backend {
namespace {

struct Page {
  alignas(64) uint8_t bytes[4096] = {};
  xensnd_event_page* header() { return reinterpret_cast<xensnd_event_page*>(bytes); }
  xensnd_evt event(uint32_t index) {
    xensnd_evt e;
    std::memcpy(&e, bytes + XENSND_IN_RING_OFFS + (index % XENSND_IN_RING_LEN) * sizeof e, sizeof e);
    return e;
  }
};

TEST(EventPageWriter, WritesCurPosEventsWithRisingIds) {
  Page page;
  EventPageWriter writer(page.bytes);
  ASSERT_EQ(writer.push_position(4096), EventPageWriter::Result::kWritten);
  ASSERT_EQ(writer.push_position(8192), EventPageWriter::Result::kWritten);
  EXPECT_EQ(page.header()->in_prod, 2u);
  EXPECT_EQ(page.event(0).type, XENSND_EVT_CUR_POS);
  EXPECT_EQ(page.event(0).op.cur_pos.position, 4096u);
  EXPECT_EQ(page.event(1).op.cur_pos.position, 8192u);
  EXPECT_EQ(page.event(1).id, page.event(0).id + 1);
}

TEST(EventPageWriter, NeverOverwritesUnreadEvents) {
  Page page;
  EventPageWriter writer(page.bytes);
  for (uint32_t i = 0; i < XENSND_IN_RING_LEN; ++i)
    ASSERT_EQ(writer.push_position(i), EventPageWriter::Result::kWritten);
  EXPECT_EQ(writer.push_position(999), EventPageWriter::Result::kFull);
  EXPECT_EQ(page.event(0).op.cur_pos.position, 0u);
  page.header()->in_cons = 1;  // the frontend read one
  EXPECT_EQ(writer.push_position(999), EventPageWriter::Result::kWritten);
  EXPECT_EQ(page.event(XENSND_IN_RING_LEN).op.cur_pos.position, 999u);
}

TEST(EventPageWriter, ABogusConsumerIndexCountsAsFull) {
  Page page;
  EventPageWriter writer(page.bytes);
  page.header()->in_cons = 500;  // "ahead" of the producer
  EXPECT_EQ(writer.push_position(1), EventPageWriter::Result::kFull);
  EXPECT_EQ(page.header()->in_prod, 0u);
}

TEST(EventPageWriter, UncheckedPushesOverrunTheConsumer) {
  Page page;
  EventPageWriter writer(page.bytes);
  for (uint32_t i = 0; i < 2 * XENSND_IN_RING_LEN; ++i) writer.push_position_unchecked(i);
  EXPECT_EQ(page.header()->in_prod, 2 * XENSND_IN_RING_LEN);
  EXPECT_EQ(page.header()->in_cons, 0u);
}

}  // namespace
}  // namespace xensnd::backend
