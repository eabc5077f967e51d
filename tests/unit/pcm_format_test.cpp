#include "protocol/pcm_format.h"

#include <gtest/gtest.h>

#include "protocol/sndif_abi.h"

namespace xensnd {
namespace {

TEST(PcmFormat, EveryFormatMapsBothWays) {
  for (uint8_t f = 0; f < kSndifFormatCount; ++f) {
    std::string_view name = sndif_format_name(f);
    ASSERT_FALSE(name.empty()) << int(f);
    EXPECT_EQ(sndif_format_from_string(name), f) << name;
  }
}

TEST(PcmFormat, NamesFollowSndifH) {
  EXPECT_EQ(sndif_format_from_string("s16_le"), XENSND_PCM_FORMAT_S16_LE);
  EXPECT_EQ(sndif_format_from_string("float_le"), XENSND_PCM_FORMAT_F32_LE);
  EXPECT_EQ(sndif_format_from_string("float64_be"), XENSND_PCM_FORMAT_F64_BE);
  // libxl's spelling of the same formats (what xl writes for vsnd=).
  EXPECT_EQ(sndif_format_from_string("f32_le"), XENSND_PCM_FORMAT_F32_LE);
  EXPECT_EQ(sndif_format_from_string("F32_BE"), XENSND_PCM_FORMAT_F32_BE);
  EXPECT_EQ(sndif_format_from_string("f64_le"), XENSND_PCM_FORMAT_F64_LE);
  EXPECT_EQ(sndif_format_from_string("f64_be"), XENSND_PCM_FORMAT_F64_BE);
  EXPECT_EQ(sndif_format_from_string("f16_le"), std::nullopt);
  EXPECT_EQ(sndif_format_from_string("iec958_subframe_le"), XENSND_PCM_FORMAT_IEC958_SUBFRAME_LE);
  EXPECT_EQ(sndif_format_from_string("S16_LE"), XENSND_PCM_FORMAT_S16_LE);  // toolstacks vary in case
  EXPECT_EQ(sndif_format_name(XENSND_PCM_FORMAT_MU_LAW), "mu_law");
}

TEST(PcmFormat, UnknownStringsAndValues) {
  EXPECT_FALSE(sndif_format_from_string(""));
  EXPECT_FALSE(sndif_format_from_string("s16"));
  EXPECT_FALSE(sndif_format_from_string("s16_le "));
  EXPECT_FALSE(sndif_format_from_string(std::string(4096, 'x')));
  EXPECT_TRUE(sndif_format_name(25).empty());
  EXPECT_TRUE(sndif_format_name(255).empty());
  EXPECT_FALSE(sndif_format_bytes_per_sample(25));
}

TEST(PcmFormat, SampleSizes) {
  EXPECT_EQ(sndif_format_bytes_per_sample(XENSND_PCM_FORMAT_U8), 1u);
  EXPECT_EQ(sndif_format_bytes_per_sample(XENSND_PCM_FORMAT_S16_BE), 2u);
  EXPECT_EQ(sndif_format_bytes_per_sample(XENSND_PCM_FORMAT_S24_LE), 4u);
  EXPECT_EQ(sndif_format_bytes_per_sample(XENSND_PCM_FORMAT_F64_LE), 8u);
  EXPECT_EQ(sndif_format_bytes_per_sample(XENSND_PCM_FORMAT_A_LAW), 1u);
}

TEST(PcmFormat, VariableSizeFormatsAreNeverOffered) {
  for (uint8_t f : {XENSND_PCM_FORMAT_IMA_ADPCM, XENSND_PCM_FORMAT_MPEG, XENSND_PCM_FORMAT_GSM}) {
    EXPECT_FALSE(sndif_format_bytes_per_sample(f)) << int(f);
    EXPECT_FALSE(sndif_fixed_size_formats_mask() & (uint64_t{1} << f)) << int(f);
  }
  EXPECT_TRUE(sndif_fixed_size_formats_mask() & (uint64_t{1} << XENSND_PCM_FORMAT_S16_LE));
  EXPECT_EQ(__builtin_popcountll(sndif_fixed_size_formats_mask()), 22);
}

TEST(PcmFormat, MaskNames) {
  uint64_t mask = (uint64_t{1} << XENSND_PCM_FORMAT_S16_LE) | (uint64_t{1} << XENSND_PCM_FORMAT_U8);
  EXPECT_EQ(sndif_format_mask_names(mask), "u8,s16_le");
  EXPECT_EQ(sndif_format_mask_names(0), "");
}

}  // namespace
}  // namespace xensnd
