// The sndif PCM formats: XenStore strings <-> XENSND_PCM_FORMAT_* values, and their sizes.
// (The mapping to ALSA's snd_pcm_format_t lives in plugin/, which may include ALSA.)
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace xensnd {

// XENSND_PCM_FORMAT_* for a sample-formats string such as "s16_le"; nullopt if unknown.
std::optional<uint8_t> sndif_format_from_string(std::string_view name);
// The sample-formats string of a XENSND_PCM_FORMAT_* value; empty if unknown.
std::string_view sndif_format_name(uint8_t format);
// Bytes one sample occupies in the buffer (s24_le: 4, as ALSA's S24_LE). nullopt for the
// formats without a fixed frame size (IMA ADPCM, MPEG, GSM), which are never offered.
std::optional<uint32_t> sndif_format_bytes_per_sample(uint8_t format);

}  // namespace xensnd
