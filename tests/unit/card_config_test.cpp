#include "protocol/card_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "protocol/errors.h"
#include "protocol/pcm_format.h"
#include "protocol/sndif_abi.h"
#include "tests/unit/fakes/fake_xenstore.h"

namespace xensnd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::FakeXenStore;

constexpr uint64_t bit(unsigned f) { return uint64_t{1} << f; }

class CardConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The layout xl writes for vsnd=[['CARD, ...', 'PCM, name=Main', 'STREAM, ...']].
    set("short-name", "VCard");
    set("long-name", "Virtual sound card");
    set("0/name", "Main");
    set("0/0/type", "p");
    set("0/0/unique-id", "alsa<default>");
  }
  void set(const std::string& rel, const std::string& value) { store.write(kDev + "/" + rel, value); }
  CardConfig read() { return read_card_config(store, kDev); }
  // Expects a ConfigError whose message contains every fragment.
  void expect_error(std::initializer_list<std::string> fragments) {
    try {
      read();
      FAIL() << "no error";
    } catch (const ConfigError& e) {
      for (const std::string& f : fragments) EXPECT_THAT(e.what(), HasSubstr(f));
      EXPECT_EQ(e.errno_value(), EINVAL);
    }
  }

  const std::string kDev = "device/vsnd/0";
  FakeXenStore store{1};
};

TEST_F(CardConfigTest, MinimalCardGetsDefaults) {
  CardConfig card = read();
  EXPECT_EQ(card.xenstore_path, kDev);
  EXPECT_EQ(card.short_name, "VCard");
  EXPECT_EQ(card.long_name, "Virtual sound card");
  ASSERT_EQ(card.pcm_devices.size(), 1u);
  EXPECT_EQ(card.pcm_devices[0].name, "Main");
  ASSERT_EQ(card.pcm_devices[0].streams.size(), 1u);
  const StreamConfig& s = card.pcm_devices[0].streams[0];
  EXPECT_EQ(s.type, StreamType::kPlayback);
  EXPECT_EQ(s.unique_id, "alsa<default>");
  EXPECT_EQ(s.xenstore_path, kDev + "/0/0");
  EXPECT_EQ(s.limits.channels_min, 1u);
  EXPECT_EQ(s.limits.channels_max, 2u);
  EXPECT_EQ(s.limits.formats, sndif_fixed_size_formats_mask());
  EXPECT_EQ(s.limits.buffer_bytes, 65536u);
  EXPECT_THAT(s.limits.rates, ::testing::Contains(48000u));
}

// What the listings show of a frontend's nodes, for XenbusFrontend::prepare (which skips
// clearing them when there are none).
TEST_F(CardConfigTest, NotesAFrontendsLeftoverNodes) {
  EXPECT_FALSE(read().frontend_nodes_present);
  set("0/0/evt-event-channel", "7");
  EXPECT_TRUE(read().frontend_nodes_present);
  store.remove(kDev + "/0/0/evt-event-channel");
  set("version", "2");
  EXPECT_TRUE(read().frontend_nodes_present);
  store.remove(kDev + "/version");
  set("0/0/ring-ref", "8");
  EXPECT_TRUE(read().frontend_nodes_present);
}

TEST_F(CardConfigTest, ReadsOnlyTheSettingsEachLevelHas) {
  // Each level is listed once; reading a node it does not have would be a round trip to
  // xenstored for nothing, at every open (five limits a level, most levels define none).
  set("sample-rates", "48000");
  set("0/0/channels-max", "2");
  set("0/1/type", "c");
  set("0/1/unique-id", "mic");
  store.record_reads();
  const CardConfig card = read();
  ASSERT_EQ(card.pcm_devices.at(0).streams.size(), 2u);
  EXPECT_EQ(card.pcm_devices[0].streams[0].limits.channels_max, 2u);
  for (const std::string& path : store.reads()) EXPECT_TRUE(store.exists(path)) << "read the absent " << path;
  // The card's two names and its rates, the PCM device's name, each stream's type and
  // unique-id, and the first stream's channels-max.
  EXPECT_EQ(store.reads().size(), 9u);
}

TEST_F(CardConfigTest, InheritanceCardToPcmToStream) {
  set("channels-min", "1");
  set("channels-max", "8");
  set("sample-rates", "8000,44100,48000,96000");
  set("sample-formats", "s16_le,s32_le,u8");
  set("buffer-size", "262144");
  set("0/channels-max", "6");
  set("0/sample-rates", "48000,44100,96000");
  set("0/0/channels-min", "2");
  set("0/0/sample-formats", "s16_le,u8");
  set("0/0/buffer-size", "65536");
  set("0/1/type", "c");
  set("0/1/unique-id", "alsa<mic>");
  set("0/1/channels-max", "1");
  set("0/1/sample-rates", "44100");

  CardConfig card = read();
  ASSERT_EQ(card.pcm_devices[0].streams.size(), 2u);
  const StreamLimits& play = card.pcm_devices[0].streams[0].limits;
  EXPECT_EQ(play.channels_min, 2u);
  EXPECT_EQ(play.channels_max, 6u);
  EXPECT_THAT(play.rates, ElementsAre(44100u, 48000u, 96000u));
  EXPECT_EQ(play.formats, bit(XENSND_PCM_FORMAT_S16_LE) | bit(XENSND_PCM_FORMAT_U8));
  EXPECT_EQ(play.buffer_bytes, 65536u);

  const StreamConfig& cap = card.pcm_devices[0].streams[1];
  EXPECT_EQ(cap.type, StreamType::kCapture);
  EXPECT_EQ(cap.limits.channels_min, 1u);
  EXPECT_EQ(cap.limits.channels_max, 1u);
  EXPECT_THAT(cap.limits.rates, ElementsAre(44100u));
  EXPECT_EQ(cap.limits.formats,
            bit(XENSND_PCM_FORMAT_S16_LE) | bit(XENSND_PCM_FORMAT_S32_LE) | bit(XENSND_PCM_FORMAT_U8));
  EXPECT_EQ(cap.limits.buffer_bytes, 262144u);
}

TEST_F(CardConfigTest, LowerLevelOnlyNarrows) {
  set("channels-max", "2");
  set("buffer-size", "4096");
  set("0/0/channels-max", "8");     // wider than the card: stays 2
  set("0/0/buffer-size", "999999");  // larger than the card: stays 4096
  CardConfig card = read();
  const StreamLimits& l = card.pcm_devices[0].streams[0].limits;
  EXPECT_EQ(l.channels_max, 2u);
  EXPECT_EQ(l.buffer_bytes, 4096u);
}

TEST_F(CardConfigTest, DefaultChannelsMaxFollowsAHigherMin) {
  set("0/0/channels-min", "4");
  CardConfig card = read();
  const StreamLimits& l = card.pcm_devices[0].streams[0].limits;
  EXPECT_EQ(l.channels_min, 4u);
  EXPECT_EQ(l.channels_max, 4u);
}

TEST_F(CardConfigTest, AnyPositiveSampleRate) {
  set("sample-rates", "7350, 12345 ,4294967295,48000,48000");
  EXPECT_THAT(read().pcm_devices[0].streams[0].limits.rates,
              ElementsAre(7350u, 12345u, 48000u, 4294967295u));
}

TEST_F(CardConfigTest, EmptyIntersectionNamesTheLowerNode) {
  set("sample-rates", "44100");
  set("0/0/sample-rates", "48000");
  expect_error({kDev + "/0/0/sample-rates", "no rate in common"});
}

TEST_F(CardConfigTest, ChannelRangesThatDoNotOverlap) {
  set("channels-max", "2");
  set("0/channels-min", "4");
  expect_error({kDev + "/0", "channels"});
}

TEST_F(CardConfigTest, FormatsWithNothingInCommon) {
  set("sample-formats", "s16_le");
  set("0/0/sample-formats", "u8");
  expect_error({kDev + "/0/0/sample-formats", "no format in common"});
}

TEST_F(CardConfigTest, VariableSizeFormatsAreDropped) {
  set("sample-formats", "mpeg,s16_le,gsm,ima_adpcm");
  EXPECT_EQ(read().pcm_devices[0].streams[0].limits.formats, bit(XENSND_PCM_FORMAT_S16_LE));
}

TEST_F(CardConfigTest, OnlyVariableSizeFormatsIsAnError) {
  set("0/sample-formats", "mpeg,gsm");
  expect_error({kDev + "/0/sample-formats", "fixed frame size"});
}

struct BadValue {
  const char* node;
  const char* value;
  const char* says;
};
void PrintTo(const BadValue& v, std::ostream* os) { *os << v.node << "=" << v.value; }
class CardConfigBadValue : public CardConfigTest, public ::testing::WithParamInterface<BadValue> {};

TEST_P(CardConfigBadValue, ErrorNamesPathAndProblem) {
  set(GetParam().node, GetParam().value);
  expect_error({kDev + "/" + GetParam().node, GetParam().says});
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, CardConfigBadValue,
    ::testing::Values(BadValue{"channels-max", "two", "not a decimal number"},
                      BadValue{"channels-max", "-2", "not a decimal number"},
                      BadValue{"channels-max", "256", "larger than 255"},
                      BadValue{"channels-min", "0", "less than 1"},
                      BadValue{"channels-max", "99999999999999999999999", "larger than"},
                      BadValue{"0/channels-min", "", "empty value"},
                      BadValue{"sample-rates", "44100,,48000", "empty value"},
                      BadValue{"sample-rates", "44100;48000", "not a decimal number"},
                      BadValue{"sample-rates", "0", "sample rate of 0"},
                      BadValue{"sample-rates", "4294967296", "larger than 4294967295"},
                      BadValue{"0/0/sample-formats", "s16_le,s17_le", "unknown sample format 's17_le'"},
                      BadValue{"sample-formats", "s16_le,", "empty item"},
                      BadValue{"buffer-size", "0", "less than 1"},
                      BadValue{"buffer-size", "8589934592", "larger than"},
                      BadValue{"0/0/type", "playback", "neither"},
                      BadValue{"0/0/unique-id", "", "missing"}));

TEST_F(CardConfigTest, MinAboveMaxOnOneLevel) {
  set("0/0/channels-min", "3");
  set("0/0/channels-max", "2");
  expect_error({kDev + "/0/0/channels-min", "more than channels-max"});
}

TEST_F(CardConfigTest, MissingTypeAndUniqueId) {
  store.remove(kDev + "/0/0/type");
  expect_error({kDev + "/0/0/type", "missing"});
  set("0/0/type", "c");
  store.remove(kDev + "/0/0/unique-id");
  expect_error({kDev + "/0/0/unique-id", "missing"});
}

TEST_F(CardConfigTest, MissingDevice) {
  EXPECT_THROW(read_card_config(store, "device/vsnd/7"), ConfigError);
  try {
    read_card_config(store, "device/vsnd/7");
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("device/vsnd/7"));
    EXPECT_THAT(e.what(), HasSubstr("does not exist"));
  }
}

TEST_F(CardConfigTest, NoPcmDevicesOrNoStreams) {
  store.remove(kDev + "/0");
  expect_error({kDev, "has no PCM device"});
  set("0/name", "x");
  expect_error({kDev + "/0", "has no stream"});
}

TEST_F(CardConfigTest, NonContiguousPcmIndices) {
  set("2/0/type", "p");
  set("2/0/unique-id", "x");
  expect_error({kDev, "contiguous", "1 is missing"});
}

TEST_F(CardConfigTest, NonContiguousStreamIndices) {
  set("0/3/type", "p");
  set("0/3/unique-id", "x");
  expect_error({kDev + "/0", "contiguous", "1 is missing"});
}

TEST_F(CardConfigTest, LeadingZeroOrHugeIndex) {
  set("00/0/type", "p");
  expect_error({kDev + "/00", "not a valid PCM device index"});
  store.remove(kDev + "/00");
  set("0/99999999999999999999/type", "p");
  expect_error({kDev + "/0/99999999999999999999", "not a valid stream index"});
}

TEST_F(CardConfigTest, SeveralPcmsStreamsInOrder) {
  set("1/name", "Second");
  set("1/0/type", "c");
  set("1/0/unique-id", "pulse<mic>");
  set("1/1/type", "p");
  set("1/1/unique-id", "17");  // opaque, even when it looks like a number
  CardConfig card = read();
  std::vector<const StreamConfig*> all = card.streams();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1]->pcm_index, 1u);
  EXPECT_EQ(all[1]->stream_index, 0u);
  EXPECT_EQ(all[2]->unique_id, "17");
  EXPECT_EQ(all[2]->xenstore_path, kDev + "/1/1");
}

TEST_F(CardConfigTest, AbsolutePathWorksToo) {
  CardConfig card = read_card_config(store, "/local/domain/1/device/vsnd/0");
  EXPECT_EQ(card.pcm_devices[0].streams[0].xenstore_path, "/local/domain/1/device/vsnd/0/0/0");
}

}  // namespace
}  // namespace xensnd
