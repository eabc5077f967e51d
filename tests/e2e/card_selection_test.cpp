// Which vsnd card an open without a `device` option gets: the lowest-numbered device under
// the guest's device/vsnd, which need not be device 0.
#include <gtest/gtest.h>

#include "tests/e2e/e2e_helpers.h"

namespace xensnd::e2e {
namespace {

using namespace std::chrono_literals;

// A guest whose only vsnd card is `devid` (the fixture's device 0 is not attached).
SoftwareXenOptions without_device_0() {
  SoftwareXenOptions options;
  options.attach = false;
  return options;
}

void attach(const SoftwareXen& xen, unsigned devid,
            const std::string& config = SoftwareXenOptions::default_vsnd_config()) {
  RunResult attached = xen.toolstack({"vsnd-attach", "--domid", std::to_string(SoftwareXen::kGuest), "--devid",
                                      std::to_string(devid), "--config", config},
                                     10s);
  ASSERT_TRUE(attached.status.success()) << failure_text(attached);
}

// The backend's WAV of playback stream 0/0 of card `devid`, first open.
std::filesystem::path card_sink_wav(const SoftwareXen& xen, unsigned devid) {
  return xen.sink_wav().parent_path() /
         ("vsnd-" + std::to_string(SoftwareXen::kGuest) + "-" + std::to_string(devid) + "-0-0-1.wav");
}

TEST(CardSelection, DefaultDeviceIsTheOnlyCardEvenWhenItIsNotDevice0) {
  SoftwareXen xen(without_device_0());
  attach(xen, 3);
  const PcmFormat f{"S16_LE", 2, 48000, 2};
  const auto clip = make_clip(f, 0.3, 31);
  write_file(xen.dir() / "clip.raw", clip);
  RunResult played = aplay_raw(xen, f, xen.dir() / "clip.raw", "xensnd");
  ASSERT_TRUE(played.status.success()) << failure_text(played);
  expect_wav_equals(card_sink_wav(xen, 3), clip);
}

TEST(CardSelection, DefaultDeviceIsTheLowestNumberedCard) {
  SoftwareXen xen(without_device_0());
  attach(xen, 7);
  attach(xen, 5);
  const PcmFormat f{"S16_LE", 2, 48000, 2};
  const auto clip = make_clip(f, 0.2, 32);
  write_file(xen.dir() / "clip.raw", clip);
  RunResult played = aplay_raw(xen, f, xen.dir() / "clip.raw", "xensnd");
  ASSERT_TRUE(played.status.success()) << failure_text(played);
  EXPECT_TRUE(read_wav(card_sink_wav(xen, 5)).has_value()) << "card 5 played nothing";
  EXPECT_FALSE(std::filesystem::exists(card_sink_wav(xen, 7))) << "card 7 was opened instead of card 5";
}

TEST(CardSelection, NoCardFailsTheOpenWithAMessage) {
  SoftwareXen xen(without_device_0());
  const PcmFormat f{"S16_LE", 2, 48000, 2};
  write_file(xen.dir() / "clip.raw", make_clip(f, 0.1, 33));
  RunResult played = aplay_raw(xen, f, xen.dir() / "clip.raw", "xensnd");
  EXPECT_FALSE(played.status.success());
  EXPECT_NE(played.err.find("no vsnd device under device/vsnd: is a vsnd= card configured for this guest?"),
            std::string::npos)
      << played.err;
}

TEST(CardSelection, UniqueIdFindsItsCardWithoutADevice) {
  SoftwareXen xen(without_device_0());
  attach(xen, 2);
  // Card 6's speaker has a unique-id of its own; card 2, the first card, does not have it.
  std::string config6 = SoftwareXenOptions::default_vsnd_config();
  const std::string speaker = "unique-id=speaker,";
  const size_t at = config6.find(speaker);
  ASSERT_NE(at, std::string::npos) << config6;
  config6.replace(at, speaker.size(), "unique-id=speaker6,");
  attach(xen, 6, config6);

  const PcmFormat f{"S16_LE", 2, 48000, 2};
  const auto clip = make_clip(f, 0.2, 34);
  write_file(xen.dir() / "clip.raw", clip);
  RunResult played = aplay_raw(xen, f, xen.dir() / "clip.raw", "xensnd:UID=speaker6");
  ASSERT_TRUE(played.status.success()) << failure_text(played);
  expect_wav_equals(card_sink_wav(xen, 6), clip);
  EXPECT_FALSE(std::filesystem::exists(card_sink_wav(xen, 2)));

  // A unique-id no card has fails the open naming it.
  RunResult missing = aplay_raw(xen, f, xen.dir() / "clip.raw", "xensnd:UID=no-such-stream");
  EXPECT_FALSE(missing.status.success());
  EXPECT_NE(missing.err.find("unique-id \"no-such-stream\""), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace xensnd::e2e
