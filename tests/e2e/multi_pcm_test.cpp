// Several PCMs on two cards in one process, one thread each (xensnd-multi-pcm): playback and
// capture of one card at once, a second PCM device of that card, and a second card, opened,
// played and closed together for several rounds. Every round's playback reaches its stream
// bit for bit. In build-tsan (label concurrency) the client is built with ThreadSanitizer:
// a data race in the plugin makes the run fail.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "tests/e2e/e2e_helpers.h"

namespace xensnd::e2e {
namespace {

using namespace std::chrono_literals;

TEST(MultiPcm, SeveralPcmsAndCardsInOneProcess) {
  const std::string card0 =
      "CARD, short-name=first, sample-rates=48000, sample-formats=s16_le, buffer-size=65536 | PCM, name=main | "
      "STREAM, unique-id=spk0, type=P | STREAM, unique-id=mic0, type=C | PCM, name=second | "
      "STREAM, unique-id=spk0b, type=P";
  const std::string card1 =
      "CARD, short-name=other, sample-rates=48000, sample-formats=s16_le, buffer-size=65536 | PCM, name=main | "
      "STREAM, unique-id=spk1, type=P | STREAM, unique-id=mic1, type=C";
  SoftwareXenOptions options;
  options.vsnd_config = card0;
  options.backend_args = {"--source", "sine:440"};
  SoftwareXen xen(options);
  RunResult attached = xen.toolstack(
      {"vsnd-attach", "--domid", std::to_string(SoftwareXen::kGuest), "--devid", "1", "--config", card1}, 10s);
  ASSERT_TRUE(attached.status.success()) << failure_text(attached);

  constexpr int kRounds = 3;
  // Playback streams: device, pcm -> pattern seed.
  const std::map<std::pair<int, int>, uint32_t> playback = {{{0, 0}, 101}, {{0, 1}, 102}, {{1, 0}, 103}};
  std::vector<std::string> argv{multi_pcm_client().string(), std::to_string(kRounds)};
  for (const auto& [where, seed] : playback)
    argv.push_back("xensnd:DEV=" + std::to_string(where.first) + ",PCM=" + std::to_string(where.second) +
                   ":playback:" + std::to_string(seed));
  argv.push_back("xensnd:DEV=0,PCM=0:capture");
  argv.push_back("xensnd:DEV=1,PCM=0:capture");
  Environment env = xen.guest_env();
  env["TSAN_OPTIONS"] = "halt_on_error=0 exitcode=66 second_deadlock_stack=1";
  RunResult r = run(argv, env, xen.logs(), "multi-pcm", 120s);
  ASSERT_TRUE(r.status.success()) << failure_text(r);
  EXPECT_EQ(r.err.find("ThreadSanitizer"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 5 * kRounds) << r.out;

  // Each playback stream: one WAV per round, each holding exactly that stream's pattern.
  const auto sink_dir = xen.sink_wav().parent_path();
  for (const auto& [where, seed] : playback) {
    const std::string prefix = "vsnd-1-" + std::to_string(where.first) + "-" + std::to_string(where.second) + "-0-";
    const std::vector<uint8_t> want = pattern_bytes(48000 / 2 * 4, seed);
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(sink_dir)) {
      if (entry.path().filename().string().rfind(prefix, 0) != 0) continue;
      ++files;
      SCOPED_TRACE(entry.path().string());
      expect_wav_equals(entry.path(), want);
    }
    EXPECT_EQ(files, kRounds) << "WAVs of " << prefix << "*";
  }
}

}  // namespace
}  // namespace xensnd::e2e
