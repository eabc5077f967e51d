// xl.cfg vsnd= parsing and the frontend entries libxl writes for it.
#include <gtest/gtest.h>

#include "sim/toolstack/vsnd_config.h"

namespace simxen::toolstack {
namespace {

using Entries = std::vector<std::pair<std::string, std::string>>;

const char* kXlConfig =
    "vsnd = [['CARD, backend=0, short-name=VCard, long-name=Virtual card, sample-rates=8000;44100, "
    "sample-formats=s16_le;S32_LE, channels-min=1, channels-max=2, buffer-size=65536', "
    "'PCM, name=Main, sample-rates=48000', "
    "'STREAM, unique-id=alsa<default>, type=P', 'STREAM, unique-id=pulse<mic>, type=c, channels-max=1']]";

TEST(VsndConfig, EntriesAreLibxlsInLibxlsOrder) {
  VsndCard card = parse_vsnd_config(kXlConfig);
  EXPECT_EQ(card.backend, "0");
  Entries expected{{"long-name", "Virtual card"},
                   {"short-name", "VCard"},
                   {"sample-rates", "8000,44100"},  // libxl joins lists with ','
                   {"sample-formats", "s16_le,s32_le"},
                   {"channels-min", "1"},
                   {"channels-max", "2"},
                   {"buffer-size", "65536"},
                   {"0/name", "Main"},
                   {"0/sample-rates", "48000"},
                   {"0/0/unique-id", "alsa<default>"},
                   {"0/0/type", "p"},
                   {"0/1/unique-id", "pulse<mic>"},
                   {"0/1/type", "c"},
                   {"0/1/channels-max", "1"}};
  EXPECT_EQ(vsnd_frontend_entries(card), expected);
}

TEST(VsndConfig, CompactSyntaxMeansTheSame) {
  VsndCard compact = parse_vsnd_config(
      "CARD, backend=0, short-name=VCard, long-name=Virtual card, sample-rates=8000;44100, "
      "sample-formats=s16_le;S32_LE, channels-min=1, channels-max=2, buffer-size=65536 | PCM, name=Main, "
      "sample-rates=48000 | STREAM, unique-id=alsa<default>, type=P | STREAM, unique-id=pulse<mic>, "
      "type=c, channels-max=1");
  EXPECT_EQ(vsnd_frontend_entries(compact), vsnd_frontend_entries(parse_vsnd_config(kXlConfig)));
}

TEST(VsndConfig, StreamWithoutPcmImpliesOne) {
  VsndCard card = parse_vsnd_config("[['CARD, short-name=x', 'STREAM, unique-id=a, type=P']]");
  ASSERT_EQ(card.pcms.size(), 1u);
  EXPECT_EQ(card.pcms[0].streams.size(), 1u);
}

TEST(VsndConfig, BadConfigsAreRefusedWithAReason) {
  struct Case {
    const char* config;
    const char* reason;
  } cases[] = {
      {"[['CARD, short-name=x', 'PCM, name=p', 'STREAM, unique-id=a, type=Q']]", "invalid stream type"},
      {"[['CARD, short-name=x', 'PCM, name=p', 'STREAM, unique-id=a']]", "no type"},
      {"[['CARD, short-name=x', 'PCM, name=p', 'STREAM, type=P']]", "no unique-id"},
      {"[['CARD, short-name=x', 'PCM, name=p']]", "has no STREAM"},
      {"[['CARD, short-name=x']]", "no PCM"},
      {"[['CARD, sample-rates=8000;fast', 'STREAM, unique-id=a, type=P']]", "invalid sample-rates"},
      {"[['CARD, sample-formats=s16_le;s17', 'STREAM, unique-id=a, type=P']]", "invalid pcm format"},
      {"[['CARD, channels-min=4, channels-max=2', 'STREAM, unique-id=a, type=P']]", "channels-min"},
      {"[['CARD, colour=blue', 'STREAM, unique-id=a, type=P']]", "invalid vsnd parameter"},
      {"[['PCM, unique-id=a', 'STREAM, unique-id=a, type=P']]", "invalid vsnd parameter"},
      {"[['SPEAKER, x=1']]", "CARD, PCM or STREAM"},
      {"[['CARD, short-name=x', 'STREAM, unique-id=a, type=P'", "expected"},
      {"[['CARD, short-name=x', 'STREAM, unique-id=a, type=P]]", "unterminated"},
      {"[['CARD', 'STREAM, unique-id=a, type=P'], ['CARD', 'STREAM, unique-id=b, type=P']]", "2 cards"},
      {"[]", "empty"},
      {"vsnd [['CARD']]", "vsnd="},
      {"CARD, short-name=x | STREAM, unique-id=a, type=P, novalue", "key=value"},
  };
  for (const auto& c : cases) {
    try {
      parse_vsnd_config(c.config);
      ADD_FAILURE() << "accepted: " << c.config;
    } catch (const ConfigError& error) {
      EXPECT_NE(std::string(error.what()).find(c.reason), std::string::npos)
          << c.config << " -> " << error.what();
    }
  }
}

}  // namespace
}  // namespace simxen::toolstack
