// The CTL's pure pieces (volume scale, element list) and the mixer state over a stream of a
// card connected to the in-process fake backend: probing, values kept while closed and sent
// after OPEN, write results, and the control area SharedStream reserves.
#include <gtest/gtest.h>

#include <alsa/asoundlib.h>

#include "plugin/ctl_elements.h"
#include "plugin/ctl_stream_mixer.h"
#include "plugin/ctl_volume_scale.h"
#include "plugin/shared_stream.h"
#include "protocol/errors.h"
#include "tests/unit/connected_card_fixture.h"

namespace xensnd::plugin {
namespace {

using xensnd::testing::ConnectedCardTest;

TEST(VolumeScale, MapsSteppedValuesOntoMillidecibels) {
  VolumeScale scale;
  EXPECT_EQ(scale.to_millidb(128), 0);
  EXPECT_EQ(scale.to_millidb(0), -64000);
  EXPECT_EQ(scale.to_millidb(116), -6000);
  EXPECT_EQ(scale.to_millidb(500), 0);  // clamped
  EXPECT_EQ(scale.from_millidb(-6000), 116);
  EXPECT_EQ(scale.from_millidb(-6200), 116);  // nearest step
  EXPECT_EQ(scale.from_millidb(-6300), 115);
  EXPECT_EQ(scale.from_millidb(-100000), 0);
  EXPECT_EQ(scale.from_millidb(3000), 128);
  const auto tlv = scale.db_scale_tlv();
  EXPECT_EQ(tlv[0], unsigned{SND_CTL_TLVT_DB_SCALE});
  EXPECT_EQ(tlv[1], 8u);
  EXPECT_EQ(static_cast<int>(tlv[2]), -6400);
  EXPECT_EQ(tlv[3], 50u);  // no mute bit: the switch mutes
}

CardConfig card_with(std::vector<PcmDeviceConfig> pcms) {
  CardConfig card;
  card.pcm_devices = std::move(pcms);
  return card;
}

StreamConfig stream(size_t pcm, size_t index, StreamType type) {
  StreamConfig s;
  s.pcm_index = pcm;
  s.stream_index = index;
  s.type = type;
  return s;
}

TEST(CtlElements, VolumeAndSwitchPerStreamNamedAfterThePcmDevice) {
  const CardConfig card = card_with({PcmDeviceConfig{0, "Speaker", {stream(0, 0, StreamType::kPlayback),
                                                                      stream(0, 1, StreamType::kCapture)}}});
  const auto elements = build_ctl_elements(card, [](size_t, size_t) { return true; });
  ASSERT_EQ(elements.size(), 4u);
  EXPECT_EQ(elements[0].name, "Speaker Playback Volume");
  EXPECT_EQ(elements[0].kind, CtlElement::Kind::kVolume);
  EXPECT_EQ(elements[1].name, "Speaker Playback Switch");
  EXPECT_EQ(elements[1].kind, CtlElement::Kind::kSwitch);
  EXPECT_EQ(elements[2].name, "Speaker Capture Volume");
  EXPECT_EQ(elements[2].stream_index, 1u);
  EXPECT_EQ(elements[3].name, "Speaker Capture Switch");
}

TEST(CtlElements, EqualNamesAreToldApartByIndexAndLongNamesFitAlsa) {
  const std::string long_name(60, 'x');
  const CardConfig card = card_with({
      PcmDeviceConfig{0, "", {stream(0, 0, StreamType::kPlayback), stream(0, 1, StreamType::kPlayback)}},
      PcmDeviceConfig{1, long_name, {stream(1, 0, StreamType::kPlayback)}},
      PcmDeviceConfig{2, "Refused", {stream(2, 0, StreamType::kPlayback)}},
  });
  const auto elements = build_ctl_elements(card, [](size_t pcm, size_t) { return pcm != 2; });
  ASSERT_EQ(elements.size(), 6u);  // PCM 2's backend takes no volume
  EXPECT_EQ(elements[0].name, "PCM 0 Playback Volume");
  EXPECT_EQ(elements[0].index, 0u);
  EXPECT_EQ(elements[2].name, "PCM 0 Playback Volume");
  EXPECT_EQ(elements[2].index, 1u);
  EXPECT_EQ(elements[2].stream_index, 1u);
  EXPECT_EQ(elements[4].name.size(), kCtlNameMax);
  EXPECT_TRUE(elements[4].name.ends_with(" Playback Volume"));
}

class StreamMixerTest : public ConnectedCardTest {
 protected:
  void SetUp() override {
    ConnectedCardTest::SetUp();
    connect();
    shared = std::make_unique<SharedStream>(stream0(), [this](const std::string& w) { mixer_warnings.push_back(w); });
  }
  static StreamParams stereo() { return default_params(); }
  std::vector<uint8_t> operations() {
    std::vector<uint8_t> ops;
    for (const auto& r : backend.requests[0]) ops.push_back(r.operation);
    return ops;
  }
  std::vector<std::string> mixer_warnings;
  std::unique_ptr<SharedStream> shared;
};

TEST_F(StreamMixerTest, TheBufferLimitLeavesRoomForTheControlArea) {
  // s16_le and s32_le, 2 channels: the widest control area is 8 bytes.
  EXPECT_EQ(shared->config().limits.buffer_bytes, 65536u - 8u);
  shared->open(stereo());
  EXPECT_EQ(backend.requests[0].back().op.open.buffer_sz, 16384u + 8u);
  EXPECT_EQ(shared->buffer().size(), 16384u);
}

TEST_F(StreamMixerTest, ProbingAClosedStreamOpensAsksAndCloses) {
  shared->with_mixer([](StreamMixer& m, Stream& s, uint32_t) { m.probe(s, volume_probe_params(s.config())); });
  EXPECT_EQ(operations(), (std::vector<uint8_t>{XENSND_OP_OPEN, XENSND_OP_GET_VOLUME, XENSND_OP_CLOSE}));
  EXPECT_FALSE(backend.stream(0).open);
  shared->with_mixer([](StreamMixer& m, Stream&, uint32_t) {
    EXPECT_EQ(m.support(), StreamMixer::Support::kYes);
    EXPECT_EQ(m.channels(), 2u);  // channels-max
  });
}

TEST_F(StreamMixerTest, ABackendRefusingVolumeIsRememberedAndTheStreamClosed) {
  backend.refuse_volume = true;
  shared->with_mixer([](StreamMixer& m, Stream& s, uint32_t) { m.probe(s, volume_probe_params(s.config())); });
  EXPECT_FALSE(backend.stream(0).open);
  shared->with_mixer([](StreamMixer& m, Stream&, uint32_t) {
    EXPECT_EQ(m.support(), StreamMixer::Support::kNo);
    EXPECT_NE(m.refusal().find("GET_VOLUME"), std::string::npos) << m.refusal();
  });
}

TEST_F(StreamMixerTest, ValuesWrittenWhileClosedAreSentAfterTheNextOpen) {
  const bool changed = shared->with_mixer([](StreamMixer& m, Stream& s, uint32_t open_channels) {
    EXPECT_EQ(open_channels, 0u);
    return m.write_volume(s, open_channels, {-6000, -12000}) && m.write_muted(s, open_channels, {false, true});
  });
  EXPECT_TRUE(changed);
  EXPECT_TRUE(backend.requests[0].empty());  // nothing to tell a closed stream
  shared->open(stereo());
  EXPECT_EQ(backend.stream(0).volume, (std::vector<int32_t>{-6000, -12000}));
  EXPECT_EQ(backend.stream(0).muted, (std::vector<bool>{false, true}));
  EXPECT_TRUE(mixer_warnings.empty());
}

TEST_F(StreamMixerTest, WritesReachAnOpenStreamAtOnceAndReportChange) {
  shared->open(stereo());
  EXPECT_EQ(operations(), (std::vector<uint8_t>{XENSND_OP_OPEN}));  // never written: nothing re-sent
  shared->with_mixer([](StreamMixer& m, Stream& s, uint32_t open_channels) {
    EXPECT_EQ(open_channels, 2u);
    EXPECT_TRUE(m.write_volume(s, open_channels, {-3000, -3000}));
    EXPECT_FALSE(m.write_volume(s, open_channels, {-3000, -3000}));  // unchanged: nothing sent
  });
  EXPECT_EQ(backend.stream(0).volume, (std::vector<int32_t>{-3000, -3000}));
  EXPECT_EQ(operations(), (std::vector<uint8_t>{XENSND_OP_OPEN, XENSND_OP_SET_VOLUME}));
}

TEST_F(StreamMixerTest, AMonoOpenGetsTheFirstChannel) {
  shared->with_mixer([](StreamMixer& m, Stream& s, uint32_t oc) { m.write_volume(s, oc, {-1000, -2000}); });
  StreamParams mono = stereo();
  mono.channels = 1;
  mono.buffer_bytes = 8192;
  mono.period_bytes = 2048;
  shared->open(mono);
  EXPECT_EQ(backend.stream(0).volume, (std::vector<int32_t>{-1000}));
}

TEST_F(StreamMixerTest, ARefusalWhileWritingAnOpenStreamChangesNothing) {
  backend.refuse_volume = true;
  shared->open(stereo());
  shared->with_mixer([](StreamMixer& m, Stream& s, uint32_t oc) {
    EXPECT_THROW(m.write_volume(s, oc, {-3000, -3000}), xensnd::RequestFailedError);
    EXPECT_EQ(m.millidb(), (std::vector<int32_t>{0, 0}));
  });
}

TEST_F(StreamMixerTest, ARefusalAfterOpenIsOneWarningAndTheOpenStands) {
  backend.refuse_volume = true;
  shared->with_mixer([](StreamMixer& m, Stream& s, uint32_t oc) { m.write_muted(s, oc, {true, true}); });
  shared->open(stereo());
  EXPECT_TRUE(shared->is_open());
  ASSERT_EQ(mixer_warnings.size(), 1u);
  EXPECT_NE(mixer_warnings[0].find("could not be restored"), std::string::npos) << mixer_warnings[0];
  shared->close();
  shared->open(stereo());  // known refusal: not asked again
  EXPECT_EQ(mixer_warnings.size(), 1u);
}

}  // namespace
}  // namespace xensnd::plugin
