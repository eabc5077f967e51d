#include "backend/wav_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <vector>

#include "protocol/sndif_abi.h"

namespace xensnd::backend {
namespace {

class WavFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/xensnd-wav-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::vector<uint8_t> bytes_of(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  std::string dir_;
};

PcmParams s16_stereo() {
  PcmParams p;
  p.rate = 44100;
  p.format = XENSND_PCM_FORMAT_S16_LE;
  p.channels = 2;
  p.sample_bytes = 2;
  p.buffer_bytes = 4096;
  p.period_bytes = 1024;
  return p;
}

TEST_F(WavFileTest, HeaderSizesAreCurrentAfterEveryAppend) {
  std::string path = dir_ + "/a.wav";
  WavWriter writer(path, s16_stereo());
  std::vector<std::byte> frames(400);
  for (size_t i = 0; i < frames.size(); ++i) frames[i] = std::byte(i & 0xff);
  writer.append(frames);
  // Read while the writer is still open: a killed backend leaves this file.
  auto file = bytes_of(path);
  ASSERT_EQ(file.size(), 44u + 400);
  EXPECT_EQ(std::string(file.begin(), file.begin() + 4), "RIFF");
  uint32_t riff = file[4] | file[5] << 8 | file[6] << 16 | file[7] << 24;
  uint32_t data = file[40] | file[41] << 8 | file[42] << 16 | file[43] << 24;
  EXPECT_EQ(riff, 36u + 400);
  EXPECT_EQ(data, 400u);
  EXPECT_EQ(file[22], 2);          // channels
  EXPECT_EQ(file[24] | file[25] << 8 | file[26] << 16, 44100);
  EXPECT_EQ(file[34], 16);         // bits
  for (size_t i = 0; i < 400; ++i) ASSERT_EQ(file[44 + i], i & 0xff);
}

TEST_F(WavFileTest, ReaderReturnsExactlyTheWrittenFrames) {
  std::string path = dir_ + "/b.wav";
  std::vector<std::byte> frames(1000);
  for (size_t i = 0; i < frames.size(); ++i) frames[i] = std::byte((i * 7) & 0xff);
  {
    WavWriter writer(path, s16_stereo());
    writer.append(std::span(frames).first(600));
    writer.append(std::span(frames).subspan(600));
  }
  WavReader reader(path);
  EXPECT_EQ(reader.channels(), 2);
  EXPECT_EQ(reader.rate(), 44100u);
  EXPECT_EQ(reader.container_bits(), 16);
  EXPECT_EQ(reader.format_tag(), 1);
  ASSERT_EQ(reader.data_bytes(), 1000u);
  std::vector<std::byte> back(1200);
  EXPECT_EQ(reader.read(back), 1000u);
  EXPECT_TRUE(std::equal(frames.begin(), frames.end(), back.begin()));
  EXPECT_EQ(reader.read(back), 0u);
}

TEST_F(WavFileTest, S24InA32BitContainerIsExtensible) {
  PcmParams p = s16_stereo();
  p.format = XENSND_PCM_FORMAT_S24_LE;
  p.sample_bytes = 4;
  std::string path = dir_ + "/c.wav";
  { WavWriter writer(path, p); }
  WavReader reader(path);
  EXPECT_EQ(reader.format_tag(), 1);  // the extensible sub-format: PCM
  EXPECT_EQ(reader.container_bits(), 32);
  EXPECT_EQ(wav_encoding_for(XENSND_PCM_FORMAT_S24_LE, 4).valid_bits, 24);
}

TEST_F(WavFileTest, BadFilesAreRefusedWithTheirName) {
  std::string path = dir_ + "/bad.wav";
  std::ofstream(path) << "not a wave file at all";
  try {
    WavReader reader(path);
    FAIL() << "accepted a non-WAVE file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
  }
  EXPECT_THROW(WavReader(dir_ + "/missing.wav"), std::runtime_error);
  EXPECT_THROW(WavWriter(dir_ + "/no/such/dir.wav", s16_stereo()), std::runtime_error);
}

}  // namespace
}  // namespace xensnd::backend
