#include "plugin/kernel_driver_check.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "protocol/errors.h"

namespace xensnd::plugin {
namespace {

namespace fs = std::filesystem;

class KernelDriverCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("xensnd-sysfs-" + std::to_string(::getpid()));
    fs::create_directories(root_ / "bus/xen/devices/vsnd-0");
    fs::create_directories(root_ / "bus/xen/devices/vsnd-1");
    fs::create_directories(root_ / "bus/xen/drivers/vsnd");
    fs::create_directory_symlink("../../../../bus/xen/drivers/vsnd", root_ / "bus/xen/devices/vsnd-1/driver");
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(KernelDriverCheck, UnboundDeviceHasNoDriver) {
  EXPECT_FALSE(kernel_driver_of(0, root_.string()));
  EXPECT_FALSE(kernel_driver_of(7, root_.string()));
  EXPECT_NO_THROW(refuse_if_kernel_driver_bound(0, root_.string()));
}

TEST_F(KernelDriverCheck, BoundDeviceIsRefusedWithBlacklistAdvice) {
  EXPECT_EQ(kernel_driver_of(1, root_.string()), "vsnd");
  try {
    refuse_if_kernel_driver_bound(1, root_.string());
    FAIL() << "a card bound to the kernel driver was accepted";
  } catch (const FrontendError& error) {
    EXPECT_EQ(error.errno_value(), EBUSY);
    const std::string text = error.what();
    EXPECT_NE(text.find("snd-xen-front"), std::string::npos) << text;
    EXPECT_NE(text.find("blacklist"), std::string::npos) << text;
    EXPECT_NE(text.find("/sys/bus/xen/drivers/vsnd/unbind"), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace xensnd::plugin
