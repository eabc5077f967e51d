// Several cards in one process: a card whose backend never answers must not hold up the
// audio of another card while its handshake waits.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/e2e/e2e_helpers.h"

namespace xensnd::e2e {
namespace {

using namespace std::chrono_literals;

std::string fact(const std::vector<std::string>& lines, const std::string& name) {
  for (const std::string& line : lines)
    if (line.rfind("fact " + name + "=", 0) == 0) return line.substr(6 + name.size());
  return "";
}

// The old registry held one process-wide lock across a card's whole handshake; the playing
// card's callbacks took the same lock whenever its XenStore watch fired, and waited out the
// other card's handshake (an underrun, seconds long).
TEST(MultiCard, AHandshakeOnOneCardDoesNotHoldUpAnothersAudio) {
  SoftwareXen xen;  // card 0, served by the reference backend in dom0
  // Card 1's backend domain runs no backend: its handshake waits for InitWait until timeout.
  RunResult driver = xen.toolstack({"create-domain", "--domid", "2", "--name", "silent-driver"}, 10s);
  ASSERT_TRUE(driver.status.success()) << failure_text(driver);
  RunResult attached = xen.toolstack({"vsnd-attach", "--domid", std::to_string(SoftwareXen::kGuest),
                                      "--backend-domid", "2", "--devid", "1", "--config",
                                      SoftwareXenOptions::default_vsnd_config()},
                                     10s);
  ASSERT_TRUE(attached.status.success()) << failure_text(attached);

  const auto conf = xen.dir() / "two-cards.conf";
  {
    std::ofstream out(conf);
    out << "<" << build_alsa_config().string() << ">\n"
        << "pcm.silent { type xensnd device 1 handshake_timeout_ms 2000 }\n";
  }
  Environment env = xen.guest_env();
  env["ALSA_CONFIG_PATH"] = conf.string();
  constexpr unsigned kPeriodFrames = 4800;  // 100 ms
  auto client = std::make_unique<ChildProcess>(
      std::vector<std::string>{XENSND_E2E_TWO_CARD_CLIENT, "xensnd:DEV=0", "silent", std::to_string(kPeriodFrames)},
      env, xen.logs(), "two-card-client", true);
  auto lines = client->read_lines_until("fact slow_open_error", 30s);
  ASSERT_TRUE(lines.has_value()) << client->stderr_text();
  EXPECT_TRUE(client->wait(10s).success()) << client->stderr_text();

  std::string facts;
  for (const std::string& line : *lines) facts += line + "\n";
  ASSERT_EQ(fact(*lines, "period"), std::to_string(kPeriodFrames)) << facts;
  // The slow card really was in its handshake while the fast one played, and failed.
  EXPECT_NE(fact(*lines, "slow_open_error"), "0");
  EXPECT_GE(std::stol(fact(*lines, "slow_open_ms")), 1900);
  EXPECT_GE(std::stol(fact(*lines, "writes_during")), 10);
  // A blocking write of one period waits about one period for room; the handshake may add at
  // most one more.
  // (The old lock held the playing card for the whole 2 s handshake.)
  EXPECT_LT(std::stol(fact(*lines, "max_write_ms")), 2 * 100) << facts;
  EXPECT_EQ(fact(*lines, "xruns"), "0") << facts;
}

}  // namespace
}  // namespace xensnd::e2e
