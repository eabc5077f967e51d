// Stream's volume requests against the in-process backend: the control area after the audio,
// the wire layout of SET_VOLUME/GET_VOLUME/MUTE/UNMUTE, and refusals.
#include <gtest/gtest.h>

#include <cerrno>
#include <vector>

#include "protocol/errors.h"
#include "tests/unit/connected_card_fixture.h"

namespace xensnd::testing {
namespace {

class StreamVolumeTest : public ConnectedCardTest {
 protected:
  void SetUp() override {
    ConnectedCardTest::SetUp();
    connect();
  }
  // S16_LE stereo, 16384 audio bytes, and the control area volume requests need.
  void open_with_control(uint32_t control = volume_control_bytes(XENSND_PCM_FORMAT_S16_LE, 2)) {
    StreamParams p = default_params();
    p.control_bytes = control;
    stream0().open(p);
  }
  static int error_of(const std::function<void()>& f) { return request_error_of(f); }
};

TEST(VolumeControlBytes, WholeFramesHoldingAnInt32PerChannel) {
  EXPECT_EQ(volume_control_bytes(XENSND_PCM_FORMAT_S16_LE, 2), 8u);   // 2 frames of 4
  EXPECT_EQ(volume_control_bytes(XENSND_PCM_FORMAT_S16_LE, 1), 4u);   // 2 frames of 2
  EXPECT_EQ(volume_control_bytes(XENSND_PCM_FORMAT_U8, 1), 4u);       // 4 frames of 1
  EXPECT_EQ(volume_control_bytes(XENSND_PCM_FORMAT_F64_LE, 2), 16u);  // 1 frame of 16 (8 needed)
  EXPECT_EQ(volume_control_bytes(XENSND_PCM_FORMAT_S32_LE, 3), 12u);
  EXPECT_EQ(volume_control_bytes(XENSND_PCM_FORMAT_MPEG, 2), 0u);     // no fixed frame size
}

TEST_F(StreamVolumeTest, TheControlAreaFollowsTheAudioInsideBufferSz) {
  open_with_control();
  EXPECT_EQ(backend.requests[0][0].op.open.buffer_sz, 16384u + 8u);
  // The application's ring is the audio part only, and data requests stay inside it.
  EXPECT_EQ(stream0().buffer().size(), 16384u);
  EXPECT_EQ(error_of([&] { stream0().send_write(16384, 4); }), EINVAL);
}

TEST_F(StreamVolumeTest, SetAndGetVolumePerChannel) {
  open_with_control();
  const std::vector<int32_t> wanted{-6000, -12500};
  stream0().set_volume(wanted);
  EXPECT_EQ(backend.stream(0).volume, wanted);
  const xensnd_req& set = backend.requests[0].back();
  EXPECT_EQ(set.operation, XENSND_OP_SET_VOLUME);
  EXPECT_EQ(set.op.rw.offset, 16384u);
  EXPECT_EQ(set.op.rw.length, 8u);

  backend.stream(0).volume = {-1000, 2000};
  EXPECT_EQ(stream0().get_volume(), (std::vector<int32_t>{-1000, 2000}));
  EXPECT_EQ(backend.requests[0].back().operation, XENSND_OP_GET_VOLUME);
}

TEST_F(StreamVolumeTest, MuteSelectsChannelsWithOneRequestPerDirection) {
  open_with_control();
  stream0().set_mute({true, false});
  EXPECT_EQ(backend.stream(0).muted, (std::vector<bool>{true, false}));
  // MUTE {1,0}, then UNMUTE {0,1}: one byte per channel.
  const auto& reqs = backend.requests[0];
  ASSERT_GE(reqs.size(), 3u);
  EXPECT_EQ(reqs[reqs.size() - 2].operation, XENSND_OP_MUTE);
  EXPECT_EQ(reqs[reqs.size() - 2].op.rw.length, 2u);
  EXPECT_EQ(reqs.back().operation, XENSND_OP_UNMUTE);

  const size_t before = reqs.size();
  stream0().set_mute({false, false});  // nothing to mute: UNMUTE only
  EXPECT_EQ(backend.requests[0].size(), before + 1);
  EXPECT_EQ(backend.stream(0).muted, (std::vector<bool>{false, false}));
}

TEST_F(StreamVolumeTest, WithoutAControlAreaVolumeIsRefusedLocally) {
  open_with_control(0);
  const size_t before = backend.requests[0].size();
  EXPECT_EQ(error_of([&] { stream0().get_volume(); }), EBADFD);
  EXPECT_EQ(backend.requests[0].size(), before);  // nothing was sent
}

TEST_F(StreamVolumeTest, BeforeOpenVolumeIsRefused) {
  EXPECT_NE(error_of([&] { stream0().get_volume(); }), 0);
  EXPECT_NE(error_of([&] { stream0().set_volume(std::vector<int32_t>{0, 0}); }), 0);
}

TEST_F(StreamVolumeTest, WrongChannelCountIsEinval) {
  open_with_control();
  EXPECT_EQ(error_of([&] { stream0().set_volume(std::vector<int32_t>{0}); }), EINVAL);
  EXPECT_EQ(error_of([&] { stream0().set_mute({true, true, true}); }), EINVAL);
}

TEST_F(StreamVolumeTest, ABackendWithoutVolumeAnswersEinvalAndTheStreamLivesOn) {
  backend.refuse_volume = true;
  open_with_control();
  EXPECT_EQ(error_of([&] { stream0().get_volume(); }), EINVAL);
  EXPECT_EQ(error_of([&] { stream0().set_mute({true, true}); }), EINVAL);
  EXPECT_FALSE(stream0().disconnected());
  stream0().send_write(0, 4096);  // still streams
  stream0().wait(std::chrono::milliseconds(100));
  EXPECT_EQ(stream0().completed_write_bytes(), 4096u);
}

TEST_F(StreamVolumeTest, AControlAreaPastTheBufferLimitIsRefused) {
  StreamParams p;
  p.format = XENSND_PCM_FORMAT_S16_LE;
  p.channels = 2;
  p.rate = 48000;
  p.period_bytes = 4096;
  p.buffer_bytes = 65536;  // the card's buffer-size
  p.control_bytes = 8;
  EXPECT_EQ(error_of([&] { stream0().open(p); }), EINVAL);
  p.control_bytes = 6;  // not whole frames
  p.buffer_bytes = 16384;
  EXPECT_EQ(error_of([&] { stream0().open(p); }), EINVAL);
}

}  // namespace
}  // namespace xensnd::testing
