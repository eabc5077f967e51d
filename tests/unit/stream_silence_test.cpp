// The silence area after the control area: where OPEN puts it, what send_silence() sends and
// what it refuses (the plugin starts each playback run with it, plugin/README.md).
#include <gtest/gtest.h>

#include <cerrno>
#include <functional>

#include "protocol/errors.h"
#include "tests/unit/connected_card_fixture.h"

namespace xensnd::testing {
namespace {

class StreamSilenceTest : public ConnectedCardTest {
 protected:
  void SetUp() override {
    ConnectedCardTest::SetUp();
    connect();
  }
  // S16_LE stereo, 16384 audio bytes, 8 bytes of control area, `silence` bytes of silence.
  void open_with_silence(uint32_t silence) {
    StreamParams p = default_params();
    p.control_bytes = 8;
    p.silence_bytes = silence;
    stream0().open(p);
  }
  static int error_of(const std::function<void()>& f) { return request_error_of(f); }
};

TEST_F(StreamSilenceTest, TheSilenceAreaFollowsTheControlAreaInsideBufferSz) {
  open_with_silence(1920);
  EXPECT_EQ(backend.requests[0][0].op.open.buffer_sz, 16384u + 8u + 1920u);
  EXPECT_EQ(stream0().buffer().size(), 16384u);
  const std::span<std::byte> silence = stream0().silence_area();
  ASSERT_EQ(silence.size(), 1920u);
  EXPECT_EQ(silence.data(), stream0().buffer().data() + 16384 + 8);
}

TEST_F(StreamSilenceTest, SendSilenceWritesFromTheAreaAndCountsLikeAnyWrite) {
  open_with_silence(1920);
  const std::span<std::byte> silence = stream0().silence_area();
  std::fill(silence.begin(), silence.end(), std::byte{0x5a});  // what the caller put there
  stream0().send_silence(1920);
  stream0().send_silence(960);
  const xensnd_req& write = backend.requests[0][1];
  EXPECT_EQ(write.operation, XENSND_OP_WRITE);
  EXPECT_EQ(write.op.rw.offset, 16384u + 8u);
  EXPECT_EQ(write.op.rw.length, 1920u);
  stream0().process();
  EXPECT_EQ(stream0().completed_write_bytes(), 2880u);
  ASSERT_EQ(backend.stream(0).played.size(), 2880u);
  EXPECT_EQ(backend.stream(0).played[0], 0x5a);
}

TEST_F(StreamSilenceTest, SilenceBeyondTheAreaOrNotWholeFramesIsRefusedLocally) {
  open_with_silence(1920);
  EXPECT_EQ(error_of([&] { stream0().send_silence(1924); }), EINVAL);
  EXPECT_EQ(error_of([&] { stream0().send_silence(6); }), EINVAL);  // a frame and a half
  EXPECT_EQ(error_of([&] { stream0().send_silence(0); }), EINVAL);
  EXPECT_EQ(backend.requests[0].size(), 1u);  // only OPEN went out
}

TEST_F(StreamSilenceTest, WithoutAnAreaThereIsNoSilenceToSend) {
  open_with_silence(0);
  EXPECT_TRUE(stream0().silence_area().empty());
  EXPECT_EQ(error_of([&] { stream0().send_silence(4); }), EINVAL);
}

TEST_F(StreamSilenceTest, AnAreaPastTheCardsBufferLimitOrNotWholeFramesFailsTheOpen) {
  EXPECT_EQ(error_of([&] { open_with_silence(65536); }), EINVAL);  // past buffer-size with the rest
  EXPECT_EQ(error_of([&] { open_with_silence(6); }), EINVAL);
}

}  // namespace
}  // namespace xensnd::testing
