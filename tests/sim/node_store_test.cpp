// The XenStore tree's transactions: an open transaction holds only what it touched (an
// overlay of the main store, not a copy of it), with xenstored's semantics kept: fresh reads
// at first touch, EAGAIN on conflict, quotas counted across the overlay.
#include "sim/xenstored/node_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

namespace simxen::xs {
namespace {

const Caller kDom0{0, true};
const Caller kGuest{5, false};

class NodeStoreTransactions : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 2000; ++i) ASSERT_EQ(store.write("/big/n" + std::to_string(i), "v", kDom0, &events), 0);
    ASSERT_EQ(store.write("/local/domain/5/data", "", kDom0, &events), 0);
    ASSERT_EQ(store.set_perms("/local/domain/5/data", {{5, kNone}}, kDom0, &events), 0);
  }
  NodeStore store;
  std::vector<ChangeEvent> events;
};

TEST_F(NodeStoreTransactions, AnOpenTransactionHoldsOnlyWhatItTouched) {
  const size_t whole = store.node_count();
  ASSERT_GT(whole, 2000u);
  AccessLog log;
  NodeStore txn(store, &log);
  EXPECT_EQ(txn.node_count(), 0u);  // a copy of the store held all of it
  std::string value;
  ASSERT_EQ(txn.read("/big/n7", kDom0, &value), 0);
  EXPECT_EQ(value, "v");
  ASSERT_EQ(txn.write("/big/n8", "w", kDom0, &events), 0);
  EXPECT_LE(txn.node_count(), 3u);
  // Nothing is visible outside before the commit; all of it after.
  ASSERT_EQ(store.read("/big/n8", kDom0, &value), 0);
  EXPECT_EQ(value, "v");
  ASSERT_EQ(store.commit(txn, log), 0);
  ASSERT_EQ(store.read("/big/n8", kDom0, &value), 0);
  EXPECT_EQ(value, "w");
  EXPECT_EQ(store.node_count(), whole);
}

TEST_F(NodeStoreTransactions, AConflictOnATouchedNodeIsEagainAndUntouchedNodesAreReadFresh) {
  AccessLog log;
  NodeStore txn(store, &log);
  std::string value;
  ASSERT_EQ(txn.read("/big/n1", kDom0, &value), 0);
  // Changed outside after the transaction started but before it looked: read fresh.
  ASSERT_EQ(store.write("/big/n2", "fresh", kDom0, &events), 0);
  ASSERT_EQ(txn.read("/big/n2", kDom0, &value), 0);
  EXPECT_EQ(value, "fresh");
  // Changed outside after the transaction read it: the commit fails, nothing applied.
  ASSERT_EQ(txn.write("/big/n3", "mine", kDom0, &events), 0);
  ASSERT_EQ(store.write("/big/n1", "theirs", kDom0, &events), 0);
  EXPECT_EQ(store.commit(txn, log), EAGAIN);
  ASSERT_EQ(store.read("/big/n3", kDom0, &value), 0);
  EXPECT_EQ(value, "v");
}

TEST_F(NodeStoreTransactions, RemovalInsideATransactionRemovesTheSubtreeAtCommit) {
  ASSERT_EQ(store.write("/tree/a/b", "1", kDom0, &events), 0);
  AccessLog log;
  NodeStore txn(store, &log);
  ASSERT_EQ(txn.remove("/tree", kDom0, &events), 0);
  std::string value;
  EXPECT_EQ(txn.read("/tree/a/b", kDom0, &value), ENOENT);
  ASSERT_EQ(store.commit(txn, log), 0);
  EXPECT_EQ(store.read("/tree/a/b", kDom0, &value), ENOENT);
  EXPECT_EQ(store.read("/tree", kDom0, &value), ENOENT);
  std::vector<std::string> children;
  ASSERT_EQ(store.directory("/", kDom0, &children, nullptr), 0);
  EXPECT_EQ(std::count(children.begin(), children.end(), "tree"), 0);
}

TEST_F(NodeStoreTransactions, AGuestsNodeQuotaCountsTheMainStoreAndTheOverlay) {
  // The guest owns 999 nodes (its quota is 1000) outside the transaction: data/ itself,
  // 9 directories and 989 leaves (spread out: a node's entry is limited to 2048 bytes).
  for (int i = 0; i < 989; ++i) {
    const std::string path = "/local/domain/5/data/d" + std::to_string(i / 110) + "/n" + std::to_string(i);
    ASSERT_EQ(store.write(path, "x", kGuest, &events), 0) << path;
  }
  AccessLog log;
  NodeStore txn(store, &log);
  // ...so one more fits inside it, and the next does not.
  EXPECT_EQ(txn.write("/local/domain/5/data/extra1", "x", kGuest, &events), 0);
  EXPECT_EQ(txn.write("/local/domain/5/data/extra2", "x", kGuest, &events), ENOSPC);
  // Removing one inside the transaction makes room again.
  EXPECT_EQ(txn.remove("/local/domain/5/data/d0/n0", kGuest, &events), 0);
  EXPECT_EQ(txn.write("/local/domain/5/data/extra2", "x", kGuest, &events), 0);
}

}  // namespace
}  // namespace simxen::xs
