// The fake must behave like xenstored where protocol/ relies on it, or the protocol tests
// prove nothing.
#include "tests/unit/fakes/fake_xenstore.h"

#include <gtest/gtest.h>
#include <poll.h>

namespace xensnd::testing {
namespace {

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

TEST(FakeXenStore, RelativePathsAndParents) {
  FakeXenStore store(3);
  store.write("device/vsnd/0/state", "1");
  EXPECT_EQ(store.read("/local/domain/3/device/vsnd/0/state"), "1");
  EXPECT_EQ(store.directory("device/vsnd"), (std::vector<std::string>{"0"}));
  store.remove("device/vsnd/0");
  EXPECT_FALSE(store.read("device/vsnd/0/state"));
  EXPECT_FALSE(store.directory("device/vsnd/0"));
}

TEST(FakeXenStore, TransactionConflictsWhenTouchedNodeChanged) {
  FakeXenStore store;
  store.write("a", "1");
  auto t = store.begin_transaction();
  EXPECT_EQ(store.read("a", t), "1");
  store.write("b", "x", t);
  store.write("a", "2");  // outside
  EXPECT_FALSE(store.commit_transaction(t));
  EXPECT_FALSE(store.exists("b"));
  auto t2 = store.begin_transaction();
  store.write("b", "y", t2);
  EXPECT_FALSE(store.exists("b"));  // invisible until commit
  EXPECT_TRUE(store.commit_transaction(t2));
  EXPECT_EQ(store.value("b"), "y");
}

TEST(FakeXenStore, WatchesFireOnRegistrationAndChange) {
  FakeXenStore store;
  EXPECT_FALSE(readable(store.watch_fd()));
  store.watch("device/vsnd/0", "tok");
  EXPECT_TRUE(readable(store.watch_fd()));
  ASSERT_TRUE(store.next_watch_event());
  EXPECT_FALSE(store.next_watch_event());
  EXPECT_FALSE(readable(store.watch_fd()));
  store.write("device/vsnd/0/x/y", "1");
  auto e = store.next_watch_event();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->token, "tok");
  store.write("device/other", "1");
  EXPECT_FALSE(store.next_watch_event());
}

}  // namespace
}  // namespace xensnd::testing
