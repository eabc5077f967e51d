#include "plugin/alsa_format.h"

#include <array>
#include <utility>

#include "protocol/sndif_abi.h"

namespace xensnd::plugin {
namespace {

// Both directions from one table so they can never disagree.
constexpr std::array<std::pair<uint8_t, snd_pcm_format_t>, 22> kFormats{{
    {XENSND_PCM_FORMAT_S8, SND_PCM_FORMAT_S8},
    {XENSND_PCM_FORMAT_U8, SND_PCM_FORMAT_U8},
    {XENSND_PCM_FORMAT_S16_LE, SND_PCM_FORMAT_S16_LE},
    {XENSND_PCM_FORMAT_S16_BE, SND_PCM_FORMAT_S16_BE},
    {XENSND_PCM_FORMAT_U16_LE, SND_PCM_FORMAT_U16_LE},
    {XENSND_PCM_FORMAT_U16_BE, SND_PCM_FORMAT_U16_BE},
    // sndif's s24_le is ALSA's S24_LE: 24 bits in the low three bytes of four.
    {XENSND_PCM_FORMAT_S24_LE, SND_PCM_FORMAT_S24_LE},
    {XENSND_PCM_FORMAT_S24_BE, SND_PCM_FORMAT_S24_BE},
    {XENSND_PCM_FORMAT_U24_LE, SND_PCM_FORMAT_U24_LE},
    {XENSND_PCM_FORMAT_U24_BE, SND_PCM_FORMAT_U24_BE},
    {XENSND_PCM_FORMAT_S32_LE, SND_PCM_FORMAT_S32_LE},
    {XENSND_PCM_FORMAT_S32_BE, SND_PCM_FORMAT_S32_BE},
    {XENSND_PCM_FORMAT_U32_LE, SND_PCM_FORMAT_U32_LE},
    {XENSND_PCM_FORMAT_U32_BE, SND_PCM_FORMAT_U32_BE},
    {XENSND_PCM_FORMAT_F32_LE, SND_PCM_FORMAT_FLOAT_LE},
    {XENSND_PCM_FORMAT_F32_BE, SND_PCM_FORMAT_FLOAT_BE},
    {XENSND_PCM_FORMAT_F64_LE, SND_PCM_FORMAT_FLOAT64_LE},
    {XENSND_PCM_FORMAT_F64_BE, SND_PCM_FORMAT_FLOAT64_BE},
    {XENSND_PCM_FORMAT_IEC958_SUBFRAME_LE, SND_PCM_FORMAT_IEC958_SUBFRAME_LE},
    {XENSND_PCM_FORMAT_IEC958_SUBFRAME_BE, SND_PCM_FORMAT_IEC958_SUBFRAME_BE},
    {XENSND_PCM_FORMAT_MU_LAW, SND_PCM_FORMAT_MU_LAW},
    {XENSND_PCM_FORMAT_A_LAW, SND_PCM_FORMAT_A_LAW},
}};

}  // namespace

std::optional<snd_pcm_format_t> alsa_format_from_sndif(uint8_t sndif_format) {
  for (const auto& [sndif, alsa] : kFormats)
    if (sndif == sndif_format) return alsa;
  return std::nullopt;
}

std::optional<uint8_t> sndif_format_from_alsa(snd_pcm_format_t format) {
  for (const auto& [sndif, alsa] : kFormats)
    if (alsa == format) return sndif;
  return std::nullopt;
}

std::vector<unsigned> alsa_formats_in_mask(uint64_t mask) {
  std::vector<unsigned> formats;
  for (const auto& [sndif, alsa] : kFormats)
    if (sndif < 64 && (mask & (uint64_t{1} << sndif))) formats.push_back(static_cast<unsigned>(alsa));
  return formats;
}

}  // namespace xensnd::plugin
