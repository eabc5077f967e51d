#include "plugin/alsa_format.h"

#include <gtest/gtest.h>

#include "protocol/pcm_format.h"
#include "protocol/sndif_abi.h"

namespace xensnd::plugin {
namespace {

TEST(AlsaFormat, EveryFixedSizeSndifFormatRoundTripsWithMatchingWidth) {
  for (uint8_t f = 0; f <= XENSND_PCM_FORMAT_GSM; ++f) {
    const auto alsa = alsa_format_from_sndif(f);
    const auto bytes = sndif_format_bytes_per_sample(f);
    ASSERT_EQ(alsa.has_value(), bytes.has_value()) << "sndif format " << int(f);
    if (!alsa) continue;
    EXPECT_EQ(sndif_format_from_alsa(*alsa), f);
    EXPECT_EQ(static_cast<uint32_t>(snd_pcm_format_physical_width(*alsa) / 8), *bytes)
        << snd_pcm_format_name(*alsa);
  }
}

TEST(AlsaFormat, FormatsWithoutSndifEquivalentAreRefused) {
  EXPECT_FALSE(sndif_format_from_alsa(SND_PCM_FORMAT_S24_3LE));
  EXPECT_FALSE(alsa_format_from_sndif(XENSND_PCM_FORMAT_MPEG));
}

TEST(AlsaFormat, MaskBecomesAlsaList) {
  const uint64_t mask = (1u << XENSND_PCM_FORMAT_S16_LE) | (1u << XENSND_PCM_FORMAT_U8) |
                        (1u << XENSND_PCM_FORMAT_GSM);
  const auto list = alsa_formats_in_mask(mask);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0], static_cast<unsigned>(SND_PCM_FORMAT_U8));
  EXPECT_EQ(list[1], static_cast<unsigned>(SND_PCM_FORMAT_S16_LE));
}

}  // namespace
}  // namespace xensnd::plugin
