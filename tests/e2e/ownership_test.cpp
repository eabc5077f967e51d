// Who may own a card: one process at a time, whatever network namespace it is in, and a
// crowd of refused opens is answered at once rather than queued behind the owner.
#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/e2e/e2e_helpers.h"

namespace xensnd::e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
const PcmFormat kFormat{"S16_LE", 2, 48000, 2};

std::unique_ptr<ChildProcess> start_holder(const SoftwareXen& xen) {
  write_file(xen.dir() / "long.raw", make_clip(kFormat, 20, 70));
  auto holder = xen.start_guest({"aplay", "-q", "-D", "xensnd", "-t", "raw", "-f", "S16_LE", "-r", "48000", "-c",
                                 "2", (xen.dir() / "long.raw").string()},
                                "aplay-holder");
  return holder;
}

std::vector<std::string> short_aplay(const SoftwareXen& xen) {
  return {"aplay", "-q", "-D", "xensnd", "-t", "raw", "-f", "S16_LE", "-r", "48000", "-c", "2",
          (xen.dir() / "short.raw").string()};
}

// The claim used to be an abstract socket name, which each network namespace has its own of:
// a second process there owned the card too, and its stale-card reset tore down the first.
TEST(Ownership, AnotherNetworkNamespaceIsRefusedWhileTheCardIsHeld) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for unshare -n";
  SoftwareXen xen;
  auto holder = start_holder(xen);
  ASSERT_TRUE(wait_for_file_size(xen.sink_wav(), 48000, 10s)) << "the holder never played";
  write_file(xen.dir() / "short.raw", make_clip(kFormat, 0.2, 71));
  std::vector<std::string> argv{"unshare", "-n"};
  for (const std::string& a : short_aplay(xen)) argv.push_back(a);
  RunResult second = xen.run_guest(argv, 20s, "aplay-netns");
  EXPECT_FALSE(second.status.success()) << "a process in another network namespace opened a held card";
  EXPECT_NE(second.err.find("is in use by"), std::string::npos) << second.err;
  // The holder was not disturbed: it is still playing.
  EXPECT_TRUE(holder->running()) << holder->stderr_text();
  EXPECT_FALSE(std::filesystem::exists(xen.sink_wav(0, 0, 2))) << "the card was opened a second time";
}

// The old refusal connected (blocking) to a listener with a backlog of 1 that never accepted:
// the third refused open hung until the owner exited.
TEST(Ownership, TenRefusedOpensAtOnceAllFailAtOnce) {
  SoftwareXen xen;
  auto holder = start_holder(xen);
  ASSERT_TRUE(wait_for_file_size(xen.sink_wav(), 48000, 10s)) << "the holder never played";
  write_file(xen.dir() / "short.raw", make_clip(kFormat, 0.2, 72));
  std::vector<std::unique_ptr<ChildProcess>> crowd;
  const auto start = Clock::now();
  for (int i = 0; i < 10; ++i) crowd.push_back(xen.start_guest(short_aplay(xen), "aplay-refused-" + std::to_string(i)));
  for (auto& refused : crowd) {
    const ExitStatus status = refused->wait(10s);
    EXPECT_FALSE(status.timed_out) << "a refused open hung";
    EXPECT_FALSE(status.success());
    EXPECT_NE(refused->stderr_text().find("is in use by"), std::string::npos) << refused->stderr_text();
  }
  // Ten aplay start-ups on a loaded machine; the 20 s clip the holder plays is the bound
  // the old code hit.
  EXPECT_LT(Clock::now() - start, 8s);
  EXPECT_TRUE(holder->running());
}

}  // namespace
}  // namespace xensnd::e2e
