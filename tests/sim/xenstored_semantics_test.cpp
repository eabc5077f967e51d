// XenStore semantics through the real libxenstore, as Xen's C xenstored behaves: guests
// refused what Xen refuses, permission inheritance, transaction conflicts, watches, special
// watches, and nothing left registered once clients go.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "xenstore_handle.h"

namespace simtest {
namespace {

using Event = std::pair<std::string, std::string>;

class XenstoredSemantics : public ::testing::Test {
 protected:
  // dom0 introduces guest 5 and writes its home as xl does: read-only to the guest, with a
  // guest-writable data/ directory.
  void SetUp() override {
    ASSERT_TRUE(xs_introduce_domain(dom0.get(), 5, 0, 0));
    ASSERT_TRUE(xs_mkdir(dom0.get(), XBT_NULL, "/local/domain/5"));
    ASSERT_TRUE(dom0.set_perms("/local/domain/5", {"n0", "r5"}));
    ASSERT_TRUE(dom0.write("/local/domain/5/domid", "5"));
    ASSERT_TRUE(xs_mkdir(dom0.get(), XBT_NULL, "/local/domain/5/data"));
    ASSERT_TRUE(dom0.set_perms("/local/domain/5/data", {"n5"}));
    ASSERT_TRUE(dom0.write("/local/domain/0/private", "secret"));
    guest = std::make_unique<XenstoreHandle>(daemon, 5);
  }

  // Waits (by round trips, not time) until the daemon noticed departed clients.
  uint64_t settled_count(unsigned domid, const std::string& key) {
    uint64_t value = 0;
    for (int i = 0; i < 100; ++i)
      if ((value = daemon.counts(domid).at(key)) == 0) break;
    return value;
  }

  SimDaemon daemon;
  XenstoreHandle dom0{daemon, 0};
  std::unique_ptr<XenstoreHandle> guest;
};

TEST_F(XenstoredSemantics, GuestIsRefusedWhatXenRefuses) {
  EXPECT_FALSE(guest->write("/local/domain/0/x", "1"));
  EXPECT_EQ(guest->last_errno(), EACCES);
  EXPECT_FALSE(guest->write("/elsewhere", "1"));
  EXPECT_EQ(guest->last_errno(), EACCES);
  EXPECT_FALSE(guest->read("/local/domain/0/private"));
  EXPECT_EQ(guest->last_errno(), EACCES);
  EXPECT_FALSE(guest->read("/local/domain/0/absent"));  // must not reveal what exists there
  EXPECT_EQ(guest->last_errno(), EACCES);
  EXPECT_FALSE(guest->write("/local/domain/5/y", "1"));  // its home is read-only to it
  EXPECT_EQ(guest->last_errno(), EACCES);
  EXPECT_FALSE(xs_rm(guest->get(), XBT_NULL, "/local/domain/5/domid"));
  EXPECT_EQ(errno, EACCES);
  unsigned count = 0;
  EXPECT_EQ(xs_directory(guest->get(), XBT_NULL, "/local/domain", &count), nullptr);
  EXPECT_EQ(errno, EACCES);
  EXPECT_FALSE(xs_introduce_domain(guest->get(), 9, 0, 0));
  EXPECT_EQ(errno, EACCES);
  EXPECT_EQ(dom0.read("/local/domain/0/private"), "secret");  // nothing was changed
  EXPECT_FALSE(dom0.read("/local/domain/0/x"));
}

TEST_F(XenstoredSemantics, GuestWorksInWhatItWasGranted) {
  EXPECT_EQ(guest->read("domid"), "5");  // relative to /local/domain/5
  char* home = xs_get_domain_path(guest->get(), 5);
  ASSERT_NE(home, nullptr);
  EXPECT_STREQ(home, "/local/domain/5");
  std::free(home);
  EXPECT_FALSE(guest->read("/local/domain/5/absent"));
  EXPECT_EQ(guest->last_errno(), ENOENT);  // its own tree is readable: the truth is allowed
  EXPECT_TRUE(guest->write("data/x", "hello"));
  EXPECT_EQ(dom0.read("/local/domain/5/data/x"), "hello");
  EXPECT_TRUE(xs_mkdir(guest->get(), XBT_NULL, "data/dir"));
  EXPECT_TRUE(xs_rm(guest->get(), XBT_NULL, "data/x"));
  EXPECT_FALSE(dom0.read("/local/domain/5/data/x"));
}

TEST_F(XenstoredSemantics, GuestQuotasAreXenstoredsDefaults) {
  EXPECT_TRUE(guest->write("data/small", std::string(1900, 'x')));
  EXPECT_FALSE(guest->write("data/big", std::string(2100, 'x')));  // quota-max-entry-size
  EXPECT_EQ(guest->last_errno(), ENOSPC);
  EXPECT_FALSE(guest->read("data/big")) << "a refused write leaves nothing behind";
  EXPECT_FALSE(guest->write("data/small", std::string(2100, 'x')));
  EXPECT_EQ(guest->last_errno(), ENOSPC);
  EXPECT_TRUE(dom0.write("/local/domain/5/data/big", std::string(4000, 'x')));  // dom0 has no quota
  int written = 0;
  for (int dir = 0; dir < 20 && written < 1100; ++dir)
    for (int i = 0; i < 60; ++i, ++written)
      if (!guest->write("data/d" + std::to_string(dir) + "/n" + std::to_string(i), "")) goto refused;
refused:
  EXPECT_EQ(guest->last_errno(), ENOSPC);
  EXPECT_GT(written, 900);  // quota-nb-entry-per-domain: 1000 nodes owned by the guest
  EXPECT_LT(written, 1000);
}

TEST_F(XenstoredSemantics, PermissionsAreInheritedAndGuestsOwnWhatTheyCreate) {
  ASSERT_TRUE(dom0.write("/shared", ""));
  ASSERT_TRUE(dom0.set_perms("/shared", {"n0", "b5"}));
  ASSERT_TRUE(guest->write("/shared/a/b", "v"));
  EXPECT_EQ(dom0.perms("/shared/a"), (std::vector<std::string>{"n5", "b5"}));
  EXPECT_EQ(dom0.perms("/shared/a/b"), (std::vector<std::string>{"n5", "b5"}));
  ASSERT_TRUE(dom0.write("/shared/c", "v"));  // dom0 keeps the parent's owner
  EXPECT_EQ(dom0.perms("/shared/c"), (std::vector<std::string>{"n0", "b5"}));
  ASSERT_TRUE(dom0.set_perms("/local/domain/5/data", {"n5", "r7"}));
  ASSERT_TRUE(guest->write("data/k", "v"));
  EXPECT_EQ(dom0.perms("/local/domain/5/data/k"), (std::vector<std::string>{"n5", "r7"}));

  EXPECT_TRUE(guest->set_perms("/shared/a/b", {"n5", "r0"}));  // its own node
  EXPECT_EQ(guest->perms("/shared/a/b"), (std::vector<std::string>{"n5", "r0"}));
  EXPECT_FALSE(guest->set_perms("/shared/a/b", {"n0"}));  // may not give it away
  EXPECT_EQ(guest->last_errno(), EPERM);
  EXPECT_FALSE(guest->set_perms("/shared/c", {"n5"}));  // writable, but not its own
  EXPECT_EQ(guest->last_errno(), EACCES);
}

TEST_F(XenstoredSemantics, TransactionThatReadAChangedNodeFailsWithEagain) {
  XenstoreHandle other(daemon, 0);
  ASSERT_TRUE(dom0.write("/t/x", "1"));
  xs_transaction_t t = xs_transaction_start(dom0.get());
  ASSERT_NE(t, XBT_NULL);
  EXPECT_EQ(dom0.read("/t/x", t), "1");
  ASSERT_TRUE(other.write("/t/x", "2"));
  ASSERT_TRUE(dom0.write("/t/y", "3", t));
  EXPECT_FALSE(xs_transaction_end(dom0.get(), t, false));
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_FALSE(dom0.read("/t/y")) << "a failed transaction must leave no trace";

  t = xs_transaction_start(dom0.get());  // written only, changed outside: conflict too
  ASSERT_TRUE(dom0.write("/t/x", "mine", t));
  ASSERT_TRUE(other.write("/t/x", "theirs"));
  EXPECT_FALSE(xs_transaction_end(dom0.get(), t, false));
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(dom0.read("/t/x"), "theirs");
}

TEST_F(XenstoredSemantics, TransactionsIsolateCommitAndAbort) {
  XenstoreHandle other(daemon, 0);
  ASSERT_TRUE(dom0.write("/t/x", "1"));
  xs_transaction_t t = xs_transaction_start(dom0.get());
  ASSERT_TRUE(dom0.write("/t/z", "new", t));
  EXPECT_EQ(dom0.read("/t/z", t), "new");
  EXPECT_FALSE(other.read("/t/z")) << "uncommitted writes are invisible outside";
  EXPECT_EQ(dom0.read("/t/x", t), "1");
  ASSERT_TRUE(other.write("/u/unrelated", "v"));  // untouched by the transaction
  EXPECT_TRUE(xs_transaction_end(dom0.get(), t, false));
  EXPECT_EQ(other.read("/t/z"), "new");

  t = xs_transaction_start(dom0.get());
  ASSERT_TRUE(dom0.write("/t/w", "gone", t));
  EXPECT_TRUE(xs_transaction_end(dom0.get(), t, true));  // abort
  EXPECT_FALSE(other.read("/t/w"));
}

TEST_F(XenstoredSemantics, TransactionReadsWhatIsThereAtFirstTouchLikeXenstored) {
  XenstoreHandle other(daemon, 0);
  ASSERT_TRUE(dom0.write("/t/x", "1"));
  xs_transaction_t t = xs_transaction_start(dom0.get());
  ASSERT_TRUE(other.write("/t/x", "2"));  // before the transaction looked at it
  EXPECT_EQ(dom0.read("/t/x", t), "2");
  EXPECT_TRUE(xs_transaction_end(dom0.get(), t, false));
}

TEST_F(XenstoredSemantics, LongListingsComeInPartsThroughLibxenstore) {
  // Too many children for one XS_DIRECTORY reply: libxenstore falls back to DIRECTORY_PART.
  for (int i = 0; i < 300; ++i)
    ASSERT_TRUE(dom0.write("/many/a-rather-long-child-name-number-" + std::to_string(i), ""));
  unsigned count = 0;
  char** names = xs_directory(dom0.get(), XBT_NULL, "/many", &count);
  ASSERT_NE(names, nullptr) << errno;
  EXPECT_EQ(count, 300u);
  EXPECT_STREQ(names[0], "a-rather-long-child-name-number-0");
  EXPECT_STREQ(names[299], "a-rather-long-child-name-number-299");
  std::free(names);
}

TEST_F(XenstoredSemantics, WatchFiresOnceAtRegistrationThenOnTheSubtree) {
  XenstoreHandle watcher(daemon, 0);
  ASSERT_TRUE(watcher.watch("/w", "tok"));
  EXPECT_EQ(watcher.next_event(), Event("/w", "tok"));  // even though /w does not exist
  ASSERT_TRUE(dom0.write("/w/a/b", "1"));
  EXPECT_EQ(watcher.next_event(), Event("/w/a/b", "tok"));
  ASSERT_TRUE(dom0.write("/other", "1"));  // not below /w: no event...
  ASSERT_TRUE(dom0.write("/w/sentinel", "1"));
  EXPECT_EQ(watcher.next_event(), Event("/w/sentinel", "tok"));  // ...so this comes next

  ASSERT_TRUE(watcher.watch("/w/a/b", "deep"));
  EXPECT_EQ(watcher.next_event(), Event("/w/a/b", "deep"));
  ASSERT_TRUE(xs_rm(dom0.get(), XBT_NULL, "/w"));
  // Removing /w fires the watch on /w itself and, as xenstored does, the one on a removed child.
  std::vector<Event> events{watcher.next_event(), watcher.next_event()};
  std::sort(events.begin(), events.end());
  EXPECT_EQ(events, (std::vector<Event>{{"/w", "tok"}, {"/w/a/b", "deep"}}));
}

TEST_F(XenstoredSemantics, RelativeWatchReportsRelativePaths) {
  ASSERT_TRUE(guest->watch("data", "rel"));
  EXPECT_EQ(guest->next_event(), Event("data", "rel"));
  ASSERT_TRUE(dom0.write("/local/domain/5/data/q", "1"));
  EXPECT_EQ(guest->next_event(), Event("data/q", "rel"));
}

TEST_F(XenstoredSemantics, TransactionWritesFireWatchesAtCommit) {
  XenstoreHandle watcher(daemon, 0);
  ASSERT_TRUE(dom0.write("/tw/x", "0"));
  ASSERT_TRUE(dom0.write("/tw/sentinel", "0"));  // both exist: the transaction does not conflict
  ASSERT_TRUE(watcher.watch("/tw", "t"));
  EXPECT_EQ(watcher.next_event(), Event("/tw", "t"));
  xs_transaction_t t = xs_transaction_start(dom0.get());
  ASSERT_TRUE(dom0.write("/tw/x", "1", t));
  ASSERT_TRUE(dom0.write("/tw/sentinel", "1"));
  ASSERT_TRUE(xs_transaction_end(dom0.get(), t, false));
  EXPECT_EQ(watcher.next_event(), Event("/tw/sentinel", "t"));
  EXPECT_EQ(watcher.next_event(), Event("/tw/x", "t"));
}

TEST_F(XenstoredSemantics, GuestSeesNoEventsOfNodesItCannotRead) {
  ASSERT_TRUE(guest->watch("/local/domain/0", "spy"));
  EXPECT_EQ(guest->next_event(), Event("/local/domain/0", "spy"));
  ASSERT_TRUE(guest->watch("@introduceDomain", "intro"));
  EXPECT_EQ(guest->next_event(), Event("@introduceDomain", "intro"));
  ASSERT_TRUE(guest->watch("data", "mine"));
  EXPECT_EQ(guest->next_event(), Event("data", "mine"));
  ASSERT_TRUE(dom0.write("/local/domain/0/secret", "1"));
  ASSERT_TRUE(xs_introduce_domain(dom0.get(), 6, 0, 0));
  ASSERT_TRUE(dom0.write("/local/domain/5/data/s", "1"));
  EXPECT_EQ(guest->next_event(), Event("data/s", "mine"));
}

TEST_F(XenstoredSemantics, SpecialWatchesFollowIntroduceAndRelease) {
  XenstoreHandle watcher(daemon, 0);
  ASSERT_TRUE(watcher.watch("@introduceDomain", "in"));
  EXPECT_EQ(watcher.next_event(), Event("@introduceDomain", "in"));
  ASSERT_TRUE(watcher.watch("@releaseDomain", "out"));
  EXPECT_EQ(watcher.next_event(), Event("@releaseDomain", "out"));
  ASSERT_TRUE(xs_introduce_domain(dom0.get(), 6, 0, 0));
  EXPECT_EQ(watcher.next_event(), Event("@introduceDomain", "in"));
  EXPECT_TRUE(std::filesystem::exists(daemon.xenstored_path(6)));
  EXPECT_TRUE(xs_is_domain_introduced(dom0.get(), 6));
  ASSERT_TRUE(xs_release_domain(dom0.get(), 6));
  EXPECT_EQ(watcher.next_event(), Event("@releaseDomain", "out"));
  EXPECT_FALSE(std::filesystem::exists(daemon.xenstored_path(6)));
  EXPECT_FALSE(xs_is_domain_introduced(dom0.get(), 6));
}

// The benchmark counts the XenStore round trips of an open from this: every request a
// domain sends counts once, refused ones too, and other domains' do not.
TEST_F(XenstoredSemantics, RequestsAreCountedPerDomain) {
  const uint64_t before = daemon.counts(5).at("xs_requests");
  const uint64_t dom0_before = daemon.counts(0).at("xs_requests");
  ASSERT_TRUE(guest->write("data/a", "1"));
  ASSERT_TRUE(guest->read("data/a"));
  EXPECT_FALSE(guest->read("/local/domain/0/private"));
  EXPECT_EQ(daemon.counts(5).at("xs_requests"), before + 3);
  EXPECT_EQ(daemon.counts(0).at("xs_requests"), dom0_before);
}

TEST_F(XenstoredSemantics, CountsDropToZeroWhenClientsGo) {
  ASSERT_TRUE(guest->watch("data", "w"));
  xs_transaction_t t = xs_transaction_start(guest->get());
  ASSERT_NE(t, XBT_NULL);
  auto counts = daemon.counts(5);
  EXPECT_EQ(counts.at("xs_connections"), 1u);
  EXPECT_EQ(counts.at("xs_watches"), 1u);
  EXPECT_EQ(counts.at("xs_transactions"), 1u);
  guest.reset();
  EXPECT_EQ(settled_count(5, "xs_connections"), 0u);
  EXPECT_EQ(daemon.counts(5).at("xs_watches"), 0u);
  EXPECT_EQ(daemon.counts(5).at("xs_transactions"), 0u);

  // A process that dies without closing anything leaves nothing either.
  pid_t child = fork();
  if (child == 0) {
    use_domain(daemon, 5);
    xs_handle* h = xs_open(0);
    if (!h || !xs_watch(h, "data", "c")) _exit(1);
    unsigned len;
    free(xs_read(h, XBT_NULL, "domid", &len));  // round trip: the watch is registered
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(settled_count(5, "xs_connections"), 0u);
  EXPECT_EQ(daemon.counts(5).at("xs_watches"), 0u);
}

}  // namespace
}  // namespace simtest
