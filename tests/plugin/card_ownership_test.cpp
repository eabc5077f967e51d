#include "plugin/card_ownership.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "protocol/errors.h"

namespace xensnd::plugin {
namespace {

// Each test uses its own XenStore "instance" so parallel runs never share a name.
class CardOwnershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string instance = "/nonexistent/ownership-test-" + std::to_string(::getpid()) + "-" +
                                 ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ::setenv("XENSTORED_PATH", instance.c_str(), 1);
  }
  void TearDown() override { ::unsetenv("XENSTORED_PATH"); }
};

TEST_F(CardOwnershipTest, SecondClaimIsEbusyNamingTheHolder) {
  CardOwnership first = CardOwnership::claim(0);
  try {
    CardOwnership::claim(0);
    FAIL() << "a second claim succeeded";
  } catch (const FrontendError& error) {
    EXPECT_EQ(error.errno_value(), EBUSY);
    EXPECT_NE(std::string(error.what()).find("process " + std::to_string(::getpid())), std::string::npos)
        << error.what();
  }
}

TEST_F(CardOwnershipTest, OtherDevicesAndInstancesAreIndependent) {
  CardOwnership zero = CardOwnership::claim(0);
  CardOwnership one = CardOwnership::claim(1);
  EXPECT_TRUE(one.held());
  const std::string name = ownership_socket_name(0);
  ::setenv("XENSTORED_PATH", "/elsewhere", 1);
  EXPECT_NE(ownership_socket_name(0), name);
  CardOwnership other_instance = CardOwnership::claim(0);
  EXPECT_TRUE(other_instance.held());
}

TEST_F(CardOwnershipTest, ReleaseLetsTheNextOwnerIn) {
  CardOwnership first = CardOwnership::claim(0);
  first.release();
  CardOwnership second = CardOwnership::claim(0);
  EXPECT_TRUE(second.held());
}

TEST_F(CardOwnershipTest, TheKernelReleasesTheClaimOfAProcessThatDied) {
  const pid_t child = ::fork();
  if (child == 0) {
    CardOwnership claim = CardOwnership::claim(0);
    std::_Exit(0);  // no destructor: the claim dies with the process
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  CardOwnership mine = CardOwnership::claim(0);
  EXPECT_TRUE(mine.held());
}

}  // namespace
}  // namespace xensnd::plugin
