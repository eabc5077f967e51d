// Opening, owning, losing and recovering a card: leaks, crashes on either side, hot-unplug,
// a second process, fork, permissions and bad options.
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>

#include <fstream>

#include "tests/e2e/e2e_helpers.h"

namespace xensnd::e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
const PcmFormat kFormat{"S16_LE", 2, 48000, 2};

std::unique_ptr<ChildProcess> start_long_aplay(const SoftwareXen& xen, const std::string& name, double seconds = 20) {
  write_file(xen.dir() / (name + ".raw"), make_clip(kFormat, seconds, 60));
  return xen.start_guest({"aplay", "-q", "-D", "xensnd", "-t", "raw", "-f", "S16_LE", "-r", "48000", "-c", "2",
                          (xen.dir() / (name + ".raw")).string()},
                         name);
}

TEST(Lifecycle, OpenClose200TimesLeaksNothing) {
  SoftwareXen xen;
  const DomainCounts before = xen.counts(SoftwareXen::kGuest);
  auto tool = xen.start_guest({scenario_tool().string(), "open-close", "count=200"}, "open-close", true);
  auto lines = tool->read_lines_until("closed", 120s);
  ASSERT_TRUE(lines.has_value()) << tool->stderr_text();
  // Every PCM is closed but the process lives on: the last close released everything.
  const DomainCounts during = xen.counts(SoftwareXen::kGuest);
  EXPECT_EQ(during.grants, 0u) << during.text;
  EXPECT_EQ(during.ports, 0u) << during.text;
  EXPECT_EQ(during.xs_watches, before.xs_watches) << during.text;
  EXPECT_EQ(during.xs_connections, before.xs_connections) << during.text;
  const DomainCounts backend = xen.counts(0);
  EXPECT_EQ(backend.mappings, 0u) << backend.text;
  tool->signal(SIGTERM);
  EXPECT_TRUE(tool->wait(10s).success());
  const DomainCounts after = xen.counts(SoftwareXen::kGuest);
  EXPECT_EQ(after.grants, 0u);
  EXPECT_EQ(after.ports, 0u);
  EXPECT_EQ(after.hypervisor_clients, 0u) << after.text;
}

TEST(Lifecycle, BackendKilledMidStreamEndsAplayWithAnErrorWithinThePositionTimeout) {
  SoftwareXen xen;
  auto aplay = start_long_aplay(xen, "aplay-long");
  ASSERT_TRUE(wait_for_file_size(xen.sink_wav(), 48000, 10s)) << "playback never started";
  xen.kill_backend();
  const auto killed = Clock::now();
  const ExitStatus status = aplay->wait(10s);
  const auto took = Clock::now() - killed;
  EXPECT_FALSE(status.timed_out) << "aplay hung after the backend died";
  EXPECT_FALSE(status.success()) << "aplay did not report the lost backend";
  // The positions stop: the position timeout (2 s) plus a second for the wake-up and exit.
  EXPECT_LT(took, 3s);
  // The plugin says what happened and to which card, not just aplay's "write error".
  const std::string err = aplay->stderr_text();
  EXPECT_NE(err.find("xensnd: vsnd card 0, device/vsnd/0/0/0: the backend made no progress for"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("No such device"), std::string::npos) << "aplay did not get -ENODEV:\n" << err;
}

TEST(Lifecycle, AfterTheBackendDiedTheNextOpenReconnects) {
  SoftwareXen xen;
  auto aplay = start_long_aplay(xen, "aplay-orphaned");
  ASSERT_TRUE(wait_for_file_size(xen.sink_wav(), 48000, 10s)) << "playback never started";
  xen.kill_backend();
  EXPECT_FALSE(aplay->wait(10s).success());
  // A new backend finds the dead connection's nodes; the next open resets the card.
  xen.restart_backend();
  const auto clip = make_clip(kFormat, 0.3, 65);
  write_file(xen.dir() / "clip.raw", clip);
  RunResult next = aplay_raw(xen, kFormat, xen.dir() / "clip.raw");
  ASSERT_TRUE(next.status.success()) << failure_text(next);
  expect_sink_equals(xen, clip, 1);
  const DomainCounts counts = xen.counts(SoftwareXen::kGuest);
  EXPECT_EQ(counts.grants, 0u) << counts.text;
}

TEST(Lifecycle, BufferBeyondTheGuestsGrantsIsRefusedAtHwParams) {
  SoftwareXenOptions options;
  options.vsnd_config = "CARD, short-name=big, sample-rates=48000, sample-formats=s16_le, buffer-size=16777216 | "
                        "PCM, name=main | STREAM, unique-id=speaker, type=P";
  SoftwareXen xen(options);
  write_file(xen.dir() / "clip.raw", make_clip(kFormat, 0.1, 66));
  // 2^20 frames of 4 bytes: 1024 pages and a directory, more than gntalloc's 1024 grants.
  RunResult r = aplay_raw(xen, kFormat, xen.dir() / "clip.raw", "xensnd", {"--buffer-size=1048576"});
  EXPECT_FALSE(r.status.success());
  EXPECT_FALSE(r.status.timed_out);
  EXPECT_NE(r.err.find("grant"), std::string::npos) << r.err;
  const DomainCounts counts = xen.counts(SoftwareXen::kGuest);
  EXPECT_EQ(counts.grants, 0u) << counts.text;
}

TEST(Lifecycle, AplayKilledThenTheNextAplayWorks) {
  SoftwareXen xen;
  auto aplay = start_long_aplay(xen, "aplay-killed");
  ASSERT_TRUE(wait_for_file_size(xen.sink_wav(), 48000, 10s)) << "playback never started";
  aplay->signal(SIGKILL);
  aplay->wait(5s);
  const auto clip = make_clip(kFormat, 0.3, 61);
  write_file(xen.dir() / "clip.raw", clip);
  RunResult next = aplay_raw(xen, kFormat, xen.dir() / "clip.raw");
  ASSERT_TRUE(next.status.success()) << failure_text(next);
  expect_sink_equals(xen, clip, 2);
}

TEST(Lifecycle, HotUnplugMidStreamEndsAplayWithAnError) {
  SoftwareXen xen;
  auto aplay = start_long_aplay(xen, "aplay-unplug");
  ASSERT_TRUE(wait_for_file_size(xen.sink_wav(), 48000, 10s)) << "playback never started";
  const auto unplugged = Clock::now();
  RunResult detach = xen.toolstack({"vsnd-detach", "--domid", "1", "--devid", "0"}, 20s);
  const ExitStatus status = aplay->wait(10s);
  EXPECT_FALSE(status.timed_out) << "aplay hung after the device was unplugged";
  EXPECT_FALSE(status.success());
  EXPECT_LT(Clock::now() - unplugged, 6s);
  EXPECT_NE(aplay->stderr_text().find("xensnd"), std::string::npos) << aplay->stderr_text();
  EXPECT_TRUE(detach.status.success()) << failure_text(detach);
}

TEST(Lifecycle, SecondProcessGetsEbusyNamingTheHolder) {
  SoftwareXen xen;
  auto holder = start_long_aplay(xen, "aplay-holder");
  ASSERT_TRUE(wait_for_file_size(xen.sink_wav(), 4800, 10s));
  const auto clip = make_clip(kFormat, 0.1, 62);
  write_file(xen.dir() / "clip.raw", clip);
  RunResult second = aplay_raw(xen, kFormat, xen.dir() / "clip.raw");
  EXPECT_FALSE(second.status.success());
  EXPECT_NE(second.err.find("in use by process " + std::to_string(holder->pid())), std::string::npos)
      << second.err;
}

TEST(Lifecycle, ForkedChildLeavesTheParentsCardAlone) {
  SoftwareXen xen;
  const auto clip = make_clip(kFormat, 0.5, 63);
  write_file(xen.dir() / "clip.raw", clip);
  RunResult r = xen.run_guest({scenario_tool().string(), "fork", "input=" + (xen.dir() / "clip.raw").string()},
                              40s, "fork");
  ASSERT_TRUE(r.status.success()) << failure_text(r);
  expect_sink_equals(xen, clip);
}

TEST(Lifecycle, UserWithoutAccessIsToldWhichNode) {
  SoftwareXen xen;
  const passwd* nobody = getpwnam("nobody");
  if (nobody == nullptr || geteuid() != 0) GTEST_SKIP() << "needs root and a 'nobody' user";
  write_file(xen.dir() / "clip.raw", make_clip(kFormat, 0.1, 64));
  std::filesystem::permissions(xen.dir(), std::filesystem::perms::owner_all |
                                              std::filesystem::perms::others_exec |
                                              std::filesystem::perms::others_read);
  // The software Xen's sockets play /dev/xen/*: only root may reach them.
  std::filesystem::permissions(xen.dir() / "xen", std::filesystem::perms::owner_all);
  std::filesystem::permissions(xen.dir() / "clip.raw", std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  RunResult r = xen.run_guest({"aplay", "-q", "-D", "xensnd", "-t", "raw", "-f", "S16_LE", "-r", "48000", "-c",
                               "2", (xen.dir() / "clip.raw").string()},
                              20s, "aplay-nobody", nobody->pw_uid);
  EXPECT_FALSE(r.status.success());
  const std::string xenstored = xen.guest_env().at("XENSTORED_PATH");
  EXPECT_NE(r.err.find(xenstored), std::string::npos) << "the message does not name " << xenstored << ":\n"
                                                       << r.err;
}

TEST(Lifecycle, UnknownOptionIsRejectedByName) {
  SoftwareXen xen;
  const auto conf = xen.dir() / "bad.conf";
  {
    std::ofstream out(conf);
    out << "<" << build_alsa_config().string() << ">\npcm.bad { type xensnd device 0 volume 3 }\n";
  }
  Environment env = xen.guest_env();
  env["ALSA_CONFIG_PATH"] = conf.string();
  RunResult r = run({"aplay", "-q", "-D", "bad", "/dev/null"}, env, xen.logs(), "aplay-bad", 20s);
  EXPECT_FALSE(r.status.success());
  EXPECT_NE(r.err.find("unknown option 'volume'"), std::string::npos) << r.err;
}

TEST(Lifecycle, MissingStreamIsRejectedNamingTheOption) {
  SoftwareXen xen;
  RunResult r = xen.run_guest({"aplay", "-q", "-D", "xensnd:PCM=3", "/dev/null"}, 20s, "aplay-pcm3");
  EXPECT_FALSE(r.status.success());
  EXPECT_NE(r.err.find("option 'pcm'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace xensnd::e2e
