#include "backend/channel_volume.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "protocol/sndif_abi.h"

namespace xensnd::backend {
namespace {

PcmParams s16(uint32_t channels) {
  PcmParams p;
  p.rate = 48000;
  p.format = XENSND_PCM_FORMAT_S16_LE;
  p.channels = channels;
  p.sample_bytes = 2;
  return p;
}

std::vector<std::byte> samples16(std::initializer_list<int16_t> values) {
  std::vector<std::byte> out(values.size() * 2);
  std::memcpy(out.data(), std::data(values), out.size());
  return out;
}

int16_t sample_at(const std::vector<std::byte>& data, size_t i) {
  int16_t v;
  std::memcpy(&v, data.data() + 2 * i, 2);
  return v;
}

TEST(ChannelVolume, UnityLeavesSamplesBitExact) {
  ChannelVolume volume(2);
  auto data = samples16({1, -2, 32767, -32768});
  auto before = data;
  volume.apply(s16(2), data);
  EXPECT_EQ(data, before);
  EXPECT_TRUE(volume.unity());
}

TEST(ChannelVolume, AttenuatesEachChannelByItsOwnGain) {
  ChannelVolume volume(2);
  volume.set_millidb(1, -6021);  // -6.02 dB: half
  auto data = samples16({10000, 10000, -20000, -20000});
  volume.apply(s16(2), data);
  EXPECT_EQ(sample_at(data, 0), 10000);
  EXPECT_NEAR(sample_at(data, 1), 5000, 2);
  EXPECT_EQ(sample_at(data, 2), -20000);
  EXPECT_NEAR(sample_at(data, 3), -10000, 2);
}

TEST(ChannelVolume, MuteSilencesAndGainSaturates) {
  ChannelVolume volume(2);
  volume.set_muted(0, true);
  volume.set_millidb(1, 20000);  // +20 dB
  auto data = samples16({12345, 10000});
  volume.apply(s16(2), data);
  EXPECT_EQ(sample_at(data, 0), 0);
  EXPECT_EQ(sample_at(data, 1), 32767);
}

TEST(ChannelVolume, S24KeepsItsSignInTheContainer) {
  PcmParams p = s16(1);
  p.format = XENSND_PCM_FORMAT_S24_LE;
  p.sample_bytes = 4;
  ChannelVolume volume(1);
  volume.set_millidb(0, -6021);
  int32_t v = -4000000;
  std::vector<std::byte> data(4);
  std::memcpy(data.data(), &v, 4);
  volume.apply(p, data);
  std::memcpy(&v, data.data(), 4);
  EXPECT_NEAR(v, -4000000 * std::pow(10.0, -6.021 / 20), 1);
}

}  // namespace
}  // namespace xensnd::backend
