// The sndif PCM formats: XenStore strings <-> XENSND_PCM_FORMAT_* values, and their sizes.
// (The mapping to ALSA's snd_pcm_format_t lives in plugin/, which may include ALSA.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xensnd {

// XENSND_PCM_FORMAT_* for a sample-formats string such as "s16_le"; nullopt if unknown.
std::optional<uint8_t> sndif_format_from_string(std::string_view name);
// The sample-formats string of a XENSND_PCM_FORMAT_* value; empty if unknown.
std::string_view sndif_format_name(uint8_t format);
// Bytes one sample occupies in the buffer (s24_le: 4, as ALSA's S24_LE). nullopt for the
// formats without a fixed frame size (IMA ADPCM, MPEG, GSM), which are never offered.
std::optional<uint32_t> sndif_format_bytes_per_sample(uint8_t format);

// XENSND_PCM_FORMAT_S8 .. XENSND_PCM_FORMAT_GSM.
inline constexpr size_t kSndifFormatCount = 25;
// Mask of (1 << XENSND_PCM_FORMAT_*) of every format with a fixed frame size.
uint64_t sndif_fixed_size_formats_mask();
// "s16_le,s32_le" for a format mask (for messages and for writing XenStore nodes).
std::string sndif_format_mask_names(uint64_t mask);

}  // namespace xensnd
