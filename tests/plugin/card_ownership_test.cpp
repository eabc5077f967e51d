#include "plugin/card_ownership.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "protocol/errors.h"

namespace xensnd::plugin {
namespace {

using Clock = std::chrono::steady_clock;

// Each test locks its own file, as every process of one domain locks the platform's node.
class CardOwnershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ownership-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    lock_ = (dir_ / "device-lock").string();
    int fd = ::open(lock_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ::close(fd);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs `body` in a forked child and returns its exit status (0..255).
  template <typename Body>
  static int in_child(Body body) {
    const pid_t child = ::fork();
    if (child == 0) std::_Exit(body());
    int status = 0;
    if (::waitpid(child, &status, 0) != child || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
  }

  // 0 claimed, 16 EBUSY, 13 EACCES, 1 other.
  static int claim_status(unsigned device, const std::string& lock) {
    try {
      CardOwnership claim = CardOwnership::claim(device, lock);
      return claim.held() ? 0 : 1;
    } catch (const FrontendError& error) {
      return error.errno_value() == EBUSY ? 16 : error.errno_value() == EACCES ? 13 : 1;
    }
  }

  std::filesystem::path dir_;
  std::string lock_;
};

TEST_F(CardOwnershipTest, SecondClaimIsEbusyNamingTheHolder) {
  CardOwnership first = CardOwnership::claim(0, lock_);
  try {
    CardOwnership::claim(0, lock_);
    FAIL() << "a second claim succeeded";
  } catch (const FrontendError& error) {
    EXPECT_EQ(error.errno_value(), EBUSY);
    EXPECT_NE(std::string(error.what()).find("in use by process " + std::to_string(::getpid())), std::string::npos)
        << error.what();
  }
}

TEST_F(CardOwnershipTest, OtherDevicesAndLockNodesAreIndependent) {
  CardOwnership zero = CardOwnership::claim(0, lock_);
  CardOwnership one = CardOwnership::claim(1, lock_);
  EXPECT_TRUE(one.held());
  const std::string other = (dir_ / "other-lock").string();
  ::close(::open(other.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  CardOwnership other_domain = CardOwnership::claim(0, other);
  EXPECT_TRUE(other_domain.held());
}

TEST_F(CardOwnershipTest, ReleaseLetsTheNextOwnerIn) {
  CardOwnership first = CardOwnership::claim(0, lock_);
  first.release();
  CardOwnership second = CardOwnership::claim(0, lock_);
  EXPECT_TRUE(second.held());
}

TEST_F(CardOwnershipTest, TheKernelReleasesTheClaimOfAProcessThatDied) {
  EXPECT_EQ(in_child([&] {
              CardOwnership claim = CardOwnership::claim(0, lock_);
              std::_Exit(0);  // no destructor: the claim dies with the process
              return 1;
            }),
            0);
  CardOwnership mine = CardOwnership::claim(0, lock_);
  EXPECT_TRUE(mine.held());
}

// The old claim's refused claimants queued on a listener that never accepted (backlog 1), so
// the third refused open blocked in connect() until the owner exited.
TEST_F(CardOwnershipTest, TenRefusedClaimsAtOnceAreEachAnsweredWithin100ms) {
  CardOwnership owner = CardOwnership::claim(0, lock_);
  constexpr int kClaimants = 10;
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  std::vector<pid_t> children;
  for (int i = 0; i < kClaimants; ++i) {
    const pid_t child = ::fork();
    if (child == 0) {
      ::close(go[1]);
      char byte;
      if (::read(go[0], &byte, 1) != 0) std::_Exit(2);  // all start together when the pipe closes
      const auto start = Clock::now();
      const int status = claim_status(0, lock_);
      const auto took = Clock::now() - start;
      if (status != 16) std::_Exit(3);
      std::_Exit(took < std::chrono::milliseconds(100) ? 0 : 4);
    }
    children.push_back(child);
  }
  ::close(go[0]);
  ::close(go[1]);
  for (pid_t child : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "3: not EBUSY, 4: took 100 ms or more";
  }
  // And a later claimant is still told who holds the card once the owner answered the queue.
  owner.answer_holder_queries();
  try {
    CardOwnership::claim(0, lock_);
    FAIL();
  } catch (const FrontendError& error) {
    EXPECT_NE(std::string(error.what()).find("process " + std::to_string(::getpid())), std::string::npos)
        << error.what();
  }
}

TEST_F(CardOwnershipTest, ManyRefusalsNeverBlockEvenWhenNobodyAnswers) {
  CardOwnership owner = CardOwnership::claim(0, lock_);
  const auto start = Clock::now();
  for (int i = 0; i < 100; ++i) EXPECT_EQ(claim_status(0, lock_), 16);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(1));
}

// The old claim was an abstract socket: another network namespace has its own abstract
// namespace, so a second owner appeared there.
TEST_F(CardOwnershipTest, AnotherNetworkNamespaceCannotClaimTheCardToo) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for unshare(CLONE_NEWNET)";
  CardOwnership owner = CardOwnership::claim(0, lock_);
  const int status = in_child([&] {
    if (::unshare(CLONE_NEWNET) != 0) return 99;
    return claim_status(0, lock_);
  });
  ASSERT_NE(status, 99) << "unshare(CLONE_NEWNET) failed";
  EXPECT_EQ(status, 16) << "a process in another network namespace claimed a held card";
  // And the other way round: held from another namespace, refused here.
  owner.release();
  int ready[2], done[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(done), 0);
  const pid_t holder = ::fork();
  if (holder == 0) {
    ::close(done[1]);  // so the parent's close is our end-of-file
    if (::unshare(CLONE_NEWNET) != 0) std::_Exit(99);
    CardOwnership claim = CardOwnership::claim(0, lock_);
    char byte = 1;
    if (::write(ready[1], &byte, 1) != 1) std::_Exit(2);
    if (::read(done[0], &byte, 1) < 0) std::_Exit(3);
    std::_Exit(0);
  }
  ::close(done[0]);
  ::close(ready[1]);
  char byte;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  EXPECT_EQ(claim_status(0, lock_), 16);
  ::close(done[1]);
  ::close(ready[0]);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(holder, &wstatus, 0), holder);
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << "the holder in the other namespace failed";
}

// The old claim was an abstract socket anyone could bind, even without access to Xen.
TEST_F(CardOwnershipTest, AProcessThatCannotOpenTheXenNodeCannotHoldTheCard) {
  const passwd* nobody = ::getpwnam("nobody");
  if (nobody == nullptr || ::geteuid() != 0) GTEST_SKIP() << "needs root and a 'nobody' user";
  std::filesystem::permissions(dir_, std::filesystem::perms::owner_all | std::filesystem::perms::others_exec);
  ASSERT_EQ(::chmod(lock_.c_str(), 0644), 0);  // readable by all, writable by root only
  const uid_t uid = nobody->pw_uid;
  const gid_t gid = nobody->pw_gid;
  const int status = in_child([&] {
    if (::setgid(gid) != 0 || ::setuid(uid) != 0) return 99;
    return claim_status(0, lock_);
  });
  ASSERT_NE(status, 99);
  EXPECT_EQ(status, 13) << "a process without write access to the Xen node claimed the card";
  // Nor can it hold it against root: root's claim still works.
  CardOwnership root = CardOwnership::claim(0, lock_);
  EXPECT_TRUE(root.held());
}

TEST_F(CardOwnershipTest, NoAccessIsReportedNamingTheNode) {
  try {
    CardOwnership::claim(0, (dir_ / "missing").string());
    FAIL();
  } catch (const FrontendError& error) {
    EXPECT_EQ(error.errno_value(), ENOENT);
    EXPECT_NE(std::string(error.what()).find((dir_ / "missing").string()), std::string::npos) << error.what();
  }
}

// Locks on a device node: the real platform's node is /dev/xen/gntalloc, a character device.
TEST_F(CardOwnershipTest, LocksWorkOnACharacterDevice) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for mknod";
  const std::string node = (dir_ / "chardev").string();
  ASSERT_EQ(::mknod(node.c_str(), S_IFCHR | 0600, makedev(1, 3)), 0);  // /dev/null's numbers
  CardOwnership owner = CardOwnership::claim(2, node);
  EXPECT_EQ(in_child([&] { return claim_status(2, node); }), 16);
  EXPECT_EQ(in_child([&] { return claim_status(3, node); }), 0);
}

}  // namespace
}  // namespace xensnd::plugin
