// The ALSA names of the vsnd PCM devices, read from XenStore when alsa-lib reads its
// configuration: snd_device_name_hint / `aplay -L` with two cards, without Xen, and the names
// snd_pcm_info and `aplay -v` report.
#include <gtest/gtest.h>

#include <sstream>

#include "tests/e2e/e2e_helpers.h"

namespace xensnd::e2e {
namespace {

using namespace std::chrono_literals;

const std::string kNamesTool = XENSND_ALSA_NAMES_TOOL;

// Card 3: a playback-only and a capture-only PCM device.
const std::string kCard3 =
    "CARD, short-name=second, long-name=Second test card, sample-rates=48000, sample-formats=s16_le, "
    "channels-min=2, channels-max=2, buffer-size=65536 | PCM, name=front | STREAM, unique-id=front-out, type=P | "
    "PCM, name=mic | STREAM, unique-id=mic-in, type=C";

void attach(const SoftwareXen& xen, unsigned devid, const std::string& config) {
  RunResult attached = xen.toolstack({"vsnd-attach", "--domid", std::to_string(SoftwareXen::kGuest), "--devid",
                                      std::to_string(devid), "--config", config},
                                     10s);
  ASSERT_TRUE(attached.status.success()) << failure_text(attached);
}

// The hint lines whose name starts with "xensnd", in alsa-lib's order.
std::vector<std::string> xensnd_hints(const RunResult& r) {
  std::vector<std::string> lines;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("xensnd", 0) == 0) lines.push_back(line);
  return lines;
}

TEST(NameHints, OneEntryPerPcmDeviceOfEveryCard) {
  SoftwareXen xen;
  attach(xen, 3, kCard3);
  RunResult r = xen.run_guest({kNamesTool, "hints"}, 20s, "hints");
  ASSERT_TRUE(r.status.success()) << failure_text(r);
  EXPECT_EQ(r.err, "") << "listing printed errors";
  const std::vector<std::string> want{
      "xensnd|xensnd end-to-end test card, main\\nXen para-virtual sound, the first card (vsnd card 0, PCM "
      "device 0)|-",
      "xensnd:DEV=0,PCM=0|xensnd end-to-end test card, main\\nXen para-virtual sound (vsnd card 0, PCM device 0)|-",
      "xensnd:DEV=3,PCM=0|Second test card, front\\nXen para-virtual sound (vsnd card 3, PCM device 0)|Output",
      "xensnd:DEV=3,PCM=1|Second test card, mic\\nXen para-virtual sound (vsnd card 3, PCM device 1)|Input",
  };
  EXPECT_EQ(xensnd_hints(r), want) << r.out;
}

TEST(NameHints, AplayListsTheCardAndPcmNames) {
  SoftwareXen xen;
  attach(xen, 3, kCard3);
  RunResult r = xen.run_guest({"aplay", "-L"}, 20s, "aplay-L");
  ASSERT_TRUE(r.status.success()) << failure_text(r);
  for (const std::string& entry :
       {std::string("xensnd:DEV=0,PCM=0\n    xensnd end-to-end test card, main\n    Xen para-virtual sound (vsnd "
                    "card 0, PCM device 0)\n"),
        std::string("xensnd:DEV=3,PCM=0\n    Second test card, front\n    Xen para-virtual sound (vsnd card 3, PCM "
                    "device 0)\n")})
    EXPECT_NE(r.out.find(entry), std::string::npos) << "missing:\n" << entry << "in:\n" << r.out;
  // `aplay -L` lists playback devices only: the capture-only PCM device is left out.
  EXPECT_EQ(r.out.find("xensnd:DEV=3,PCM=1"), std::string::npos) << r.out;
}

TEST(NameHints, WithoutXenNothingIsListedAndNothingIsPrinted) {
  SoftwareXen xen;
  Environment env = xen.guest_env();
  env["XENSTORED_PATH"] = (xen.dir() / "no-such-socket").string();
  RunResult r = run({kNamesTool, "hints"}, env, xen.logs(), "hints-no-xen", 20s);
  ASSERT_TRUE(r.status.success()) << failure_text(r);
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(xensnd_hints(r).empty()) << r.out;
  EXPECT_NE(r.out.find("null|Discard all samples"), std::string::npos) << "the other devices must still be listed:\n" << r.out;
  RunResult aplay = run({"aplay", "-L"}, env, xen.logs(), "aplay-L-no-xen", 20s);
  EXPECT_TRUE(aplay.status.success()) << failure_text(aplay);
  EXPECT_EQ(aplay.err, "");
}

TEST(NameHints, PcmInfoAndAplayVerboseNameTheCardAndPcmDevice) {
  SoftwareXen xen;
  attach(xen, 3, kCard3);
  RunResult info = xen.run_guest({kNamesTool, "info", "xensnd:DEV=3,PCM=0"}, 20s, "pcm-info");
  ASSERT_TRUE(info.status.success()) << failure_text(info);
  EXPECT_NE(info.out.find("name=Second test card, front\n"), std::string::npos) << info.out;

  const PcmFormat f{"S16_LE", 2, 48000, 2};
  write_file(xen.dir() / "clip.raw", make_clip(f, 0.1, 51));
  RunResult verbose = aplay_raw(xen, f, xen.dir() / "clip.raw", "xensnd", {"-v"});
  ASSERT_TRUE(verbose.status.success()) << failure_text(verbose);
  const std::string dump = verbose.out + verbose.err;
  EXPECT_NE(dump.find("xensnd: xensnd end-to-end test card, main: vsnd card 0, device/vsnd/0/0/0"), std::string::npos)
      << dump;
}

}  // namespace
}  // namespace xensnd::e2e
