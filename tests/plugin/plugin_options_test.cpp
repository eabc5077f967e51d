#include "plugin/plugin_options.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace xensnd::plugin {
namespace {

// Parses `text` as the body of a PCM definition and returns the options.
PluginOptions parse(const std::string& text) {
  snd_config_t* top = nullptr;
  snd_input_t* in = nullptr;
  const std::string conf = "pcm.test { " + text + " }";
  EXPECT_EQ(snd_config_top(&top), 0);
  EXPECT_EQ(snd_input_buffer_open(&in, conf.data(), static_cast<ssize_t>(conf.size())), 0);
  EXPECT_EQ(snd_config_load(top, in), 0);
  snd_input_close(in);
  snd_config_t* node = nullptr;
  EXPECT_EQ(snd_config_search(top, "pcm.test", &node), 0);
  std::unique_ptr<snd_config_t, int (*)(snd_config_t*)> guard(top, snd_config_delete);
  return parse_plugin_options(node);
}

std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const OptionError& error) {
    return error.what();
  }
  return "";
}

TEST(PluginOptions, DefaultsSelectFirstCardAndLeaveStreamOpen) {
  const PluginOptions o = parse("type xensnd");
  EXPECT_FALSE(o.device);  // the first card: the lowest id under device/vsnd, found at open
  EXPECT_FALSE(o.pcm);
  EXPECT_FALSE(o.stream);
  EXPECT_FALSE(o.unique_id);
  EXPECT_EQ(o.delay_frames, 0);
  EXPECT_EQ(o.response_timeout.count(), 3000);
}

TEST(PluginOptions, ReadsEveryOption) {
  const PluginOptions o = parse(
      "type xensnd comment \"x\" hint { show on } device 2 pcm 1 stream 3 delay 64 "
      "period_frames_min 64 handshake_timeout_ms 900 response_timeout_ms 800 position_timeout_ms 700");
  EXPECT_EQ(o.device, std::optional<unsigned>(2));
  EXPECT_EQ(o.pcm, 1u);
  EXPECT_EQ(o.stream, 3u);
  EXPECT_EQ(o.delay_frames, 64);
  EXPECT_EQ(o.period_frames_min, 64u);
  EXPECT_EQ(o.handshake_timeout.count(), 900);
  EXPECT_EQ(o.response_timeout.count(), 800);
  EXPECT_EQ(o.position_timeout.count(), 700);
}

TEST(PluginOptions, IntegersMayBeStrings) {
  EXPECT_EQ(parse("device \"4\"").device, std::optional<unsigned>(4));
}

TEST(PluginOptions, EmptyDeviceMeansNotGiven) {
  // What the @args definition passes when DEV is not given.
  EXPECT_FALSE(parse("device \"\"").device);
  EXPECT_EQ(parse("device 0").device, std::optional<unsigned>(0));
  EXPECT_FALSE(parse("pcm \"\"").pcm);
  // So `xensnd:UID=...` (DEV and PCM left empty) is not a unique_id combined with pcm.
  EXPECT_EQ(parse("device \"\" pcm \"\" unique_id \"speaker\"").unique_id, std::optional<std::string>("speaker"));
}

TEST(PluginOptions, EmptyUniqueIdMeansNotGiven) {
  EXPECT_FALSE(parse("unique_id \"\"").unique_id);
  EXPECT_EQ(parse("unique_id \"alsa<default>\"").unique_id, "alsa<default>");
}

TEST(PluginOptions, UnknownOptionIsNamed) {
  EXPECT_NE(error_of("volume 3").find("unknown option 'volume'"), std::string::npos);
}

TEST(PluginOptions, BadValuesAreNamedWithTheReason) {
  EXPECT_NE(error_of("device \"zero\"").find("option 'device'"), std::string::npos);
  EXPECT_NE(error_of("device -1").find("between 0 and"), std::string::npos);
  EXPECT_NE(error_of("pcm { a 1 }").find("option 'pcm' must be an integer"), std::string::npos);
  EXPECT_NE(error_of("unique_id 5").find("option 'unique_id' must be a string"), std::string::npos);
}

TEST(PluginOptions, StringIntegersAreStrictlyDecimal) {
  // Base-0 parsing read "010" as card 8 and "0x1" as card 1.
  for (const char* bad : {"010", "0x1", " 1", "1 ", "+1", "1e2", "-"}) {
    const std::string error = error_of(std::string("device \"") + bad + "\"");
    EXPECT_NE(error.find("option 'device' is \"" + std::string(bad) + "\"; it needs a decimal integer"),
              std::string::npos)
        << bad << ": " << error;
  }
  EXPECT_EQ(parse("device \"10\"").device, std::optional<unsigned>(10));
  EXPECT_EQ(parse("pcm \"0\"").pcm, std::optional<unsigned>(0));
}

TEST(PluginOptions, NegativeDelayIsRefusedByName) {
  // A negative offset made snd_pcm_delay() negative.
  const std::string error = error_of("delay -64");
  EXPECT_NE(error.find("option 'delay' is -64; it must be between 0 and"), std::string::npos) << error;
  EXPECT_NE(error_of("delay \"-1\"").find("option 'delay'"), std::string::npos);
  EXPECT_EQ(parse("delay 0").delay_frames, 0);
}

TEST(PluginOptions, UniqueIdExcludesPcmAndStream) {
  EXPECT_NE(error_of("unique_id \"x\" pcm 0").find("'unique_id'"), std::string::npos);
}

}  // namespace
}  // namespace xensnd::plugin
