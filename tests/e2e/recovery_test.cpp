// Recovery without restarting the application: the same process opens its card again after
// the backend restarted or the device was unplugged and plugged back, and a guest
// save/restore while playing ends in an error or a resumed stream, never a hang. Also what an
// open that names no existing card or unique-id says.
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/e2e/e2e_helpers.h"

namespace xensnd::e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::unique_ptr<ChildProcess> start_client(const SoftwareXen& xen, const std::string& seconds, const std::string& name) {
  return std::make_unique<ChildProcess>(std::vector<std::string>{XENSND_E2E_RECOVERY_CLIENT, "xensnd", seconds},
                                        xen.guest_env(), xen.logs(), name, true);
}

void expect_reopens(ChildProcess& client) {
  client.signal(SIGUSR1);
  auto reopened = client.read_lines_until("reopened", 30s);
  EXPECT_TRUE(reopened.has_value()) << client.stderr_text();
  EXPECT_TRUE(client.wait(10s).success()) << client.stderr_text();
}

TEST(Recovery, SameProcessReopensAfterTheBackendRestarted) {
  SoftwareXen xen;
  auto client = start_client(xen, "60", "recovery-backend");
  ASSERT_TRUE(client->read_lines_until("playing", 20s).has_value()) << client->stderr_text();
  xen.kill_backend();
  ASSERT_TRUE(client->read_lines_until("lost", 10s).has_value()) << client->stderr_text();
  xen.restart_backend();
  expect_reopens(*client);
  EXPECT_TRUE(wait_for_file_size(xen.sink_wav(0, 0, 1), 48000, 5s)) << "the restarted backend got no audio";
}

TEST(Recovery, SameProcessReopensAfterUnplugAndReplug) {
  SoftwareXen xen;
  auto client = start_client(xen, "60", "recovery-unplug");
  ASSERT_TRUE(client->read_lines_until("playing", 20s).has_value()) << client->stderr_text();
  RunResult detach = xen.toolstack({"vsnd-detach", "--domid", "1", "--devid", "0"}, 20s);
  ASSERT_TRUE(detach.status.success()) << failure_text(detach);
  ASSERT_TRUE(client->read_lines_until("lost", 10s).has_value()) << client->stderr_text();
  // The backend numbers opens per device: the replugged card's first open writes open 1 again.
  std::filesystem::remove(xen.sink_wav(0, 0, 1));
  RunResult attach = xen.toolstack({"vsnd-attach", "--domid", "1", "--devid", "0", "--config",
                                    SoftwareXenOptions::default_vsnd_config()},
                                   10s);
  ASSERT_TRUE(attach.status.success()) << failure_text(attach);
  expect_reopens(*client);
  EXPECT_TRUE(wait_for_file_size(xen.sink_wav(0, 0, 1), 48000, 5s)) << "the replugged card got no audio";
}

// A restored guest finds its grants and event channels gone and the device reset to
// Initialising on both ends.
TEST(Recovery, SaveRestoreWhilePlayingEndsInAnErrorOrPlaysOnNeverAHang) {
  SoftwareXen xen;
  auto client = start_client(xen, "3", "recovery-save-restore");
  ASSERT_TRUE(client->read_lines_until("playing", 20s).has_value()) << client->stderr_text();
  RunResult restored = xen.toolstack({"save-restore", "--domid", "1"}, 20s);
  ASSERT_TRUE(restored.status.success()) << failure_text(restored);
  const auto after = Clock::now();
  // response_timeout (3 s) + position_timeout (2 s) + 1 s, plus what is left of the 3 s clip.
  auto outcome = client->read_lines_until("", 9s);
  ASSERT_TRUE(outcome.has_value()) << "no outcome within 9 s of the restore: " << client->stderr_text();
  EXPECT_LT(Clock::now() - after, 9s);
  const std::string& line = outcome->back();
  if (line.rfind("lost", 0) == 0) {
    // An error: the application can open again (the card was reset by the restore).
    expect_reopens(*client);
  } else {
    EXPECT_EQ(line, "completed");
    EXPECT_TRUE(client->wait(5s).success()) << client->stderr_text();
  }
}

TEST(Recovery, AMissingCardIsRefusedListingTheCardsThatExist) {
  SoftwareXen xen;
  RunResult r = xen.run_guest({"aplay", "-q", "-D", "xensnd:DEV=7", "/dev/null"}, 20s, "aplay-dev7");
  EXPECT_FALSE(r.status.success());
  EXPECT_NE(r.err.find("there is no vsnd card 7 under device/vsnd; the only vsnd card is 0"), std::string::npos)
      << r.err;
}

TEST(Recovery, AMissingUniqueIdIsRefusedListingTheUniqueIdsThatExist) {
  SoftwareXen xen;
  RunResult r = xen.run_guest({"aplay", "-q", "-D", "xensnd:UID=nonexistent", "/dev/null"}, 20s, "aplay-uid");
  EXPECT_FALSE(r.status.success());
  EXPECT_NE(r.err.find("with unique-id \"nonexistent\"; the unique-ids are \""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(card 0)"), std::string::npos) << r.err;
}

TEST(Recovery, TheMissingVersionsNodeIsNotWarnedAboutAtEveryOpen) {
  SoftwareXen xen;  // the reference backend, like snd_be, publishes no `versions`
  write_file(xen.dir() / "clip.raw", make_clip(PcmFormat{"S16_LE", 2, 48000, 2}, 0.1, 73));
  RunResult r = aplay_raw(xen, PcmFormat{"S16_LE", 2, 48000, 2}, xen.dir() / "clip.raw");
  ASSERT_TRUE(r.status.success()) << failure_text(r);
  EXPECT_EQ(r.err.find("versions"), std::string::npos) << r.err;
}

TEST(Recovery, WithDebuggingTheMissingVersionsNodeIsNotedOncePerProcess) {
  SoftwareXen xen;
  Environment env = xen.guest_env();
  env["XENSND_DEBUG"] = "1";
  ChildProcess tool({scenario_tool().string(), "open-close", "count=3"}, env, xen.logs(), "open-close-debug", true);
  ASSERT_TRUE(tool.read_lines_until("closed", 60s).has_value()) << tool.stderr_text();
  tool.signal(SIGTERM);
  EXPECT_TRUE(tool.wait(10s).success());
  const std::string err = tool.stderr_text();
  const size_t first = err.find("versions is missing");
  ASSERT_NE(first, std::string::npos) << err;
  EXPECT_EQ(err.find("versions is missing", first + 1), std::string::npos) << "noted more than once:\n" << err;
  EXPECT_NE(err.find("xensnd: debug:"), std::string::npos) << err;
}

}  // namespace
}  // namespace xensnd::e2e
