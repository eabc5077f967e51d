#include "plugin/stream_selection.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace xensnd::plugin {
namespace {

StreamConfig stream(size_t pcm, size_t index, StreamType type, const std::string& id) {
  StreamConfig s;
  s.pcm_index = pcm;
  s.stream_index = index;
  s.type = type;
  s.unique_id = id;
  s.xenstore_path = "device/vsnd/0/" + std::to_string(pcm) + "/" + std::to_string(index);
  return s;
}

// PCM 0: capture "mic", playback "spk"; PCM 1: playback "hdmi".
CardConfig card() {
  CardConfig c;
  c.xenstore_path = "device/vsnd/0";
  PcmDeviceConfig p0;
  p0.index = 0;
  p0.streams = {stream(0, 0, StreamType::kCapture, "mic"), stream(0, 1, StreamType::kPlayback, "spk")};
  PcmDeviceConfig p1;
  p1.index = 1;
  p1.streams = {stream(1, 0, StreamType::kPlayback, "hdmi")};
  c.pcm_devices = {p0, p1};
  return c;
}

std::string error_of(const StreamSelector& selector, StreamType type) {
  try {
    select_stream(card(), selector, type);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "";
}

TEST(StreamSelection, DefaultIsTheFirstStreamOfTheDirectionOnPcm0) {
  const CardConfig c = card();
  EXPECT_EQ(select_stream(c, {}, StreamType::kPlayback).unique_id, "spk");
  EXPECT_EQ(select_stream(c, {}, StreamType::kCapture).unique_id, "mic");
}

TEST(StreamSelection, ByPcmAndStreamIndex) {
  const CardConfig c = card();
  EXPECT_EQ(select_stream(c, {1, std::nullopt, std::nullopt}, StreamType::kPlayback).unique_id, "hdmi");
  EXPECT_EQ(select_stream(c, {0, 1, std::nullopt}, StreamType::kPlayback).unique_id, "spk");
}

TEST(StreamSelection, ByUniqueId) {
  const CardConfig c = card();
  EXPECT_EQ(select_stream(c, {std::nullopt, std::nullopt, "hdmi"}, StreamType::kPlayback).pcm_index, 1u);
}

TEST(StreamSelection, ErrorsNameTheOptionAndListTheCard) {
  std::string e = error_of({5, std::nullopt, std::nullopt}, StreamType::kPlayback);
  EXPECT_NE(e.find("option 'pcm'"), std::string::npos) << e;
  EXPECT_NE(e.find("unique-id \"hdmi\""), std::string::npos) << e;
  e = error_of({0, 0, std::nullopt}, StreamType::kPlayback);
  EXPECT_NE(e.find("option 'stream'"), std::string::npos) << e;
  EXPECT_NE(e.find("capture stream"), std::string::npos) << e;
  e = error_of({std::nullopt, std::nullopt, "nope"}, StreamType::kPlayback);
  EXPECT_NE(e.find("option 'unique_id'"), std::string::npos) << e;
  e = error_of({std::nullopt, std::nullopt, "mic"}, StreamType::kPlayback);
  EXPECT_NE(e.find("opened for playback"), std::string::npos) << e;
  e = error_of({1, std::nullopt, std::nullopt}, StreamType::kCapture);
  EXPECT_NE(e.find("has no capture stream"), std::string::npos) << e;
}

}  // namespace
}  // namespace xensnd::plugin
