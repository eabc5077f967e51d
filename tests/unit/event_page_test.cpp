#include "protocol/event_page.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace xensnd {
namespace {

struct PageDeleter {
  void operator()(void* p) const { std::free(p); }
};

class EventPageTest : public ::testing::Test {
 protected:
  EventPageTest() : page_(static_cast<xensnd_event_page*>(std::aligned_alloc(4096, 4096))) {
    std::memset(page_.get(), 0, 4096);
  }
  void publish(uint64_t position, uint8_t type = XENSND_EVT_CUR_POS) {
    xensnd_evt e{};
    e.type = type;
    e.op.cur_pos.position = position;
    std::memcpy(&XENSND_IN_RING_REF(page_.get(), page_->in_prod), &e, sizeof e);
    ++page_->in_prod;
  }
  std::unique_ptr<xensnd_event_page, PageDeleter> page_;
};

TEST_F(EventPageTest, ReadsInOrderAndPublishesInCons) {
  EventPageReader reader(page_.get());
  EXPECT_TRUE(reader.read().positions.empty());
  publish(10);
  publish(20);
  EventBatch b = reader.read();
  EXPECT_EQ(b.positions, (std::vector<uint64_t>{10, 20}));
  EXPECT_FALSE(b.overrun);
  EXPECT_EQ(page_->in_cons, 2u);
  EXPECT_TRUE(reader.read().positions.empty());
}

TEST_F(EventPageTest, IgnoresUnknownTypes) {
  EventPageReader reader(page_.get());
  publish(10);
  publish(99, 5);
  publish(30);
  EventBatch b = reader.read();
  EXPECT_EQ(b.positions, (std::vector<uint64_t>{10, 30}));
  EXPECT_EQ(b.ignored, 1u);
}

TEST_F(EventPageTest, WrapsAroundTheRing) {
  EventPageReader reader(page_.get());
  for (uint64_t round = 0; round < 5; ++round) {
    for (uint64_t i = 0; i < 50; ++i) publish(round * 1000 + i);
    EventBatch b = reader.read();
    ASSERT_EQ(b.positions.size(), 50u);
    EXPECT_EQ(b.positions.back(), round * 1000 + 49);
    EXPECT_FALSE(b.overrun);
  }
  EXPECT_EQ(reader.overruns(), 0u);
}

TEST_F(EventPageTest, ExactlyARingFullIsNoOverrun) {
  EventPageReader reader(page_.get());
  for (uint64_t i = 0; i < XENSND_IN_RING_LEN; ++i) publish(i);
  EventBatch b = reader.read();
  // The oldest slot is the one the backend writes next: it is not trusted (see below),
  // but losing it is no overrun, the newer positions supersede it.
  ASSERT_EQ(b.positions.size(), XENSND_IN_RING_LEN - 1);
  EXPECT_EQ(b.positions.front(), 1u);
  EXPECT_EQ(b.positions.back(), XENSND_IN_RING_LEN - 1);
  EXPECT_FALSE(b.overrun);
  EXPECT_EQ(page_->in_cons, XENSND_IN_RING_LEN);
}

TEST_F(EventPageTest, OldestSlotOfAFullRingIsNotTrusted) {
  // 63 unread events: the backend's next event goes into the slot of the oldest one, and
  // it may be writing it while we copy (in_prod moves only after the slot is written).
  EventPageReader reader(page_.get());
  for (uint64_t i = 1; i <= XENSND_IN_RING_LEN; ++i) publish(i * 100);
  xensnd_evt next{};
  next.type = XENSND_EVT_CUR_POS;
  next.op.cur_pos.position = 999999;
  std::memcpy(&XENSND_IN_RING_REF(page_.get(), page_->in_prod), &next, sizeof next);  // not published
  EventBatch b = reader.read();
  ASSERT_FALSE(b.positions.empty());
  EXPECT_TRUE(std::is_sorted(b.positions.begin(), b.positions.end()));
  EXPECT_EQ(std::count(b.positions.begin(), b.positions.end(), 999999u), 0);
  EXPECT_EQ(b.positions.back(), XENSND_IN_RING_LEN * 100);
}

TEST_F(EventPageTest, OverrunKeepsOnlyTheNewest) {
  EventPageReader reader(page_.get());
  for (uint64_t i = 1; i <= 200; ++i) publish(i);
  EventBatch b = reader.read();
  EXPECT_TRUE(b.overrun);
  EXPECT_EQ(b.positions, (std::vector<uint64_t>{200}));
  EXPECT_EQ(reader.overruns(), 1u);
  EXPECT_EQ(page_->in_cons, 200u);
  publish(201);
  EXPECT_EQ(reader.read().positions, (std::vector<uint64_t>{201}));
}

TEST_F(EventPageTest, InProdFarAheadOrBehindIsBounded) {
  EventPageReader reader(page_.get());
  page_->in_prod = 0xfffffff0u;  // "behind" us in unsigned terms = huge distance
  EventBatch b = reader.read();
  EXPECT_TRUE(b.overrun);
  EXPECT_LE(b.positions.size(), 1u);
  EXPECT_EQ(page_->in_cons, 0xfffffff0u);
  for (int i = 0; i < 40; ++i) publish(7);  // in_prod wraps past 2^32
  EXPECT_EQ(reader.read().positions.size(), 40u);
}

TEST_F(EventPageTest, DiscardAll) {
  EventPageReader reader(page_.get());
  publish(1);
  publish(2);
  reader.discard_all();
  EXPECT_EQ(page_->in_cons, 2u);
  EXPECT_TRUE(reader.read().positions.empty());
}

}  // namespace
}  // namespace xensnd
