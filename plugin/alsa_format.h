// sndif PCM formats <-> ALSA's snd_pcm_format_t. Lives in plugin/ because protocol/ may not
// include ALSA.
#pragma once

#include <alsa/asoundlib.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace xensnd::plugin {

// The ALSA format of a XENSND_PCM_FORMAT_* value; nullopt for formats ALSA's PCM cannot carry
// frame by frame (IMA ADPCM, MPEG, GSM).
std::optional<snd_pcm_format_t> alsa_format_from_sndif(uint8_t sndif_format);
// The XENSND_PCM_FORMAT_* value of an ALSA format; nullopt when sndif has none.
std::optional<uint8_t> sndif_format_from_alsa(snd_pcm_format_t format);
// Every ALSA format whose sndif bit is set in `mask` (bit n = XENSND_PCM_FORMAT n).
std::vector<unsigned> alsa_formats_in_mask(uint64_t mask);

}  // namespace xensnd::plugin
