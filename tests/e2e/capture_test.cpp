// Capture through the plugin: arecord gets exactly the backend's source, and one process
// plays and records on one card at the same time.
#include <gtest/gtest.h>

#include "tests/e2e/e2e_helpers.h"

namespace xensnd::e2e {
namespace {

TEST(Capture, ArecordGetsTheBackendsSource) {
  const PcmFormat f{"S16_LE", 2, 48000, 2};
  const auto source = make_clip(f, 2.0, 21);
  // The source file must exist before the backend starts.
  std::string tmpl = (std::filesystem::temp_directory_path() / "xensnd-src-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const std::filesystem::path source_wav = std::filesystem::path(tmpl) / "source.wav";
  write_wav(source_wav, 1, 2, 48000, 16, source);
  SoftwareXenOptions options;
  options.backend_args = {"--source", "wav:" + source_wav.string()};
  {
    SoftwareXen xen(options);
    const auto out = xen.dir() / "captured.raw";
    RunResult r = xen.run_guest({"arecord", "-q", "-D", "xensnd", "-t", "raw", "-f", "S16_LE", "-r", "48000",
                                 "-c", "2", "-s", "48000", out.string()},
                                std::chrono::seconds(30), "arecord");
    ASSERT_TRUE(r.status.success()) << failure_text(r);
    const auto captured = read_file(out);
    ASSERT_EQ(captured.size(), 48000u * 4);
    const std::vector<uint8_t> want = slice(source, 0, captured.size());
    EXPECT_TRUE(captured == want) << describe_difference(captured, want);
  }
  std::filesystem::remove_all(tmpl);
}

// PipeWire's mmap capture reads every available frame from the ring, wrapping past the end
// of what snd_pcm_mmap_begin returned: those frames must be current, never stale.
TEST(Capture, MmapCaptureReadingPastTheRegionGetsCurrentFrames) {
  const PcmFormat f{"S16_LE", 2, 48000, 2};
  const auto source = make_clip(f, 2.0, 22);
  std::string tmpl = (std::filesystem::temp_directory_path() / "xensnd-src-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const std::filesystem::path source_wav = std::filesystem::path(tmpl) / "source.wav";
  write_wav(source_wav, 1, 2, 48000, 16, source);
  SoftwareXenOptions options;
  options.backend_args = {"--source", "wav:" + source_wav.string()};
  {
    SoftwareXen xen(options);
    const auto out = xen.dir() / "captured.raw";
    // 5 periods of 1000 frames read 700 at a time: reads wrap around the ring's end often.
    RunResult r = xen.run_guest({scenario_tool().string(), "mmap-capture-wrap", "frames=48000", "period=1000",
                                 "periods=5", "output=" + out.string()},
                                std::chrono::seconds(30), "mmap-capture");
    ASSERT_TRUE(r.status.success()) << failure_text(r);
    EXPECT_EQ(r.out.find("fact wrapped_reads=0"), std::string::npos) << "no read wrapped: the test proves nothing\n" << r.out;
    const auto captured = read_file(out);
    ASSERT_EQ(captured.size(), 48000u * 4);
    const std::vector<uint8_t> want = slice(source, 0, captured.size());
    EXPECT_TRUE(captured == want) << describe_difference(captured, want);
  }
  std::filesystem::remove_all(tmpl);
}

TEST(Capture, FullDuplexLoopbackInOneProcess) {
  SoftwareXenOptions options;
  options.backend_args = {"--source", "0/1=loopback:0/0"};
  SoftwareXen xen(options);
  const PcmFormat f{"S16_LE", 2, 48000, 2};
  const auto clip = make_clip(f, 1.0, 33);
  write_file(xen.dir() / "clip.raw", clip);
  const auto out = xen.dir() / "captured.raw";
  RunResult r = xen.run_guest({scenario_tool().string(), "duplex", "input=" + (xen.dir() / "clip.raw").string(),
                               "output=" + out.string(), "period=2048", "periods=8"},
                              std::chrono::seconds(40), "duplex");
  ASSERT_TRUE(r.status.success()) << failure_text(r);
  expect_sink_equals(xen, clip);
  const auto captured = read_file(out);
  // What the capture stream heard is what the playback stream played, after some silence.
  const std::vector<uint8_t> middle = slice(clip, 4800 * 4, clip.size() - 4800 * 4);
  EXPECT_TRUE(find_bytes(captured, middle).has_value())
      << "the played clip does not appear in the " << captured.size() << " captured bytes";
}

TEST(Capture, OverrunIsEpipeAndPrepareRecovers) {
  SoftwareXenOptions options;
  options.backend_args = {"--source", "sine:440"};
  SoftwareXen xen(options);
  RunResult r = xen.run_guest({scenario_tool().string(), "overrun"}, std::chrono::seconds(30), "overrun");
  ASSERT_TRUE(r.status.success()) << failure_text(r);
  EXPECT_NE(r.out.find("fact read_after_starving=-32"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace xensnd::e2e
