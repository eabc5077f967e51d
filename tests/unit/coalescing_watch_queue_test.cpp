#include "xenio/coalescing_watch_queue.h"

#include <gtest/gtest.h>

namespace xenio {
namespace {

XenStoreWatchEvent event(std::string path, std::string token) { return {std::move(path), std::move(token)}; }

TEST(CoalescingWatchQueue, KeepsOrderAndDropsAnEventAlreadyQueued) {
  CoalescingWatchQueue queue(16);
  EXPECT_TRUE(queue.push(event("be/state", "a")));
  EXPECT_TRUE(queue.push(event("fe", "a")));
  EXPECT_FALSE(queue.push(event("be/state", "a")));
  EXPECT_TRUE(queue.push(event("be/state", "b")));  // another watch's token is news
  EXPECT_EQ(queue.size(), 3u);
  EXPECT_EQ(queue.pop()->path, "be/state");
  EXPECT_EQ(queue.pop()->path, "fe");
  auto last = queue.pop();
  EXPECT_EQ(last->token, "b");
  EXPECT_FALSE(queue.pop().has_value());
  EXPECT_TRUE(queue.empty());
}

TEST(CoalescingWatchQueue, AnEventTakenOffCanBeQueuedAgain) {
  CoalescingWatchQueue queue(16);
  queue.push(event("be/state", "a"));
  queue.pop();
  EXPECT_TRUE(queue.push(event("be/state", "a")));
  EXPECT_EQ(queue.size(), 1u);
}

TEST(CoalescingWatchQueue, StaysBoundedByDistinctPathsButKeepsEveryTokensFirstEvent) {
  CoalescingWatchQueue queue(4);
  for (int i = 0; i < 1000; ++i) queue.push(event("dir/" + std::to_string(i), "flooded"));
  EXPECT_EQ(queue.size(), 4u);
  EXPECT_TRUE(queue.push(event("elsewhere", "quiet")));  // a token with nothing queued is kept
  EXPECT_FALSE(queue.push(event("elsewhere/2", "quiet")));
  EXPECT_EQ(queue.size(), 5u);
  int flooded = 0, quiet = 0;
  while (auto e = queue.pop()) (e->token == "flooded" ? flooded : quiet)++;
  EXPECT_EQ(flooded, 4);
  EXPECT_EQ(quiet, 1);
}

}  // namespace
}  // namespace xenio
