// The sndif format table: one row per XENSND_PCM_FORMAT_* value.
#include "protocol/pcm_format.h"

#include <array>
#include <cctype>

#include "protocol/sndif_abi.h"

namespace xensnd {
namespace {

struct FormatRow {
  uint8_t value;
  std::string_view name;
  uint32_t bytes_per_sample;  // 0: no fixed frame size
};

// Indexed by value, so the table doubles as the value -> row lookup.
constexpr std::array<FormatRow, kSndifFormatCount> kFormats{{
    {XENSND_PCM_FORMAT_S8, XENSND_PCM_FORMAT_S8_STR, 1},
    {XENSND_PCM_FORMAT_U8, XENSND_PCM_FORMAT_U8_STR, 1},
    {XENSND_PCM_FORMAT_S16_LE, XENSND_PCM_FORMAT_S16_LE_STR, 2},
    {XENSND_PCM_FORMAT_S16_BE, XENSND_PCM_FORMAT_S16_BE_STR, 2},
    {XENSND_PCM_FORMAT_U16_LE, XENSND_PCM_FORMAT_U16_LE_STR, 2},
    {XENSND_PCM_FORMAT_U16_BE, XENSND_PCM_FORMAT_U16_BE_STR, 2},
    // 24-bit samples travel in 32-bit containers, as ALSA's S24_LE.
    {XENSND_PCM_FORMAT_S24_LE, XENSND_PCM_FORMAT_S24_LE_STR, 4},
    {XENSND_PCM_FORMAT_S24_BE, XENSND_PCM_FORMAT_S24_BE_STR, 4},
    {XENSND_PCM_FORMAT_U24_LE, XENSND_PCM_FORMAT_U24_LE_STR, 4},
    {XENSND_PCM_FORMAT_U24_BE, XENSND_PCM_FORMAT_U24_BE_STR, 4},
    {XENSND_PCM_FORMAT_S32_LE, XENSND_PCM_FORMAT_S32_LE_STR, 4},
    {XENSND_PCM_FORMAT_S32_BE, XENSND_PCM_FORMAT_S32_BE_STR, 4},
    {XENSND_PCM_FORMAT_U32_LE, XENSND_PCM_FORMAT_U32_LE_STR, 4},
    {XENSND_PCM_FORMAT_U32_BE, XENSND_PCM_FORMAT_U32_BE_STR, 4},
    {XENSND_PCM_FORMAT_F32_LE, XENSND_PCM_FORMAT_F32_LE_STR, 4},
    {XENSND_PCM_FORMAT_F32_BE, XENSND_PCM_FORMAT_F32_BE_STR, 4},
    {XENSND_PCM_FORMAT_F64_LE, XENSND_PCM_FORMAT_F64_LE_STR, 8},
    {XENSND_PCM_FORMAT_F64_BE, XENSND_PCM_FORMAT_F64_BE_STR, 8},
    {XENSND_PCM_FORMAT_IEC958_SUBFRAME_LE, XENSND_PCM_FORMAT_IEC958_SUBFRAME_LE_STR, 4},
    {XENSND_PCM_FORMAT_IEC958_SUBFRAME_BE, XENSND_PCM_FORMAT_IEC958_SUBFRAME_BE_STR, 4},
    {XENSND_PCM_FORMAT_MU_LAW, XENSND_PCM_FORMAT_MU_LAW_STR, 1},
    {XENSND_PCM_FORMAT_A_LAW, XENSND_PCM_FORMAT_A_LAW_STR, 1},
    {XENSND_PCM_FORMAT_IMA_ADPCM, XENSND_PCM_FORMAT_IMA_ADPCM_STR, 0},
    {XENSND_PCM_FORMAT_MPEG, XENSND_PCM_FORMAT_MPEG_STR, 0},
    {XENSND_PCM_FORMAT_GSM, XENSND_PCM_FORMAT_GSM_STR, 0},
}};

constexpr bool table_is_indexed_by_value() {
  for (size_t i = 0; i < kFormats.size(); ++i)
    if (kFormats[i].value != i) return false;
  return true;
}
static_assert(table_is_indexed_by_value());
static_assert(kSndifFormatCount == XENSND_PCM_FORMAT_GSM + 1);

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != static_cast<unsigned char>(b[i]))
      return false;
  return true;
}

// libxl (xl.cfg's vsnd=) writes the float formats by its own enum names, not by sndif.h's
// strings: accept both spellings, or a card configured by xl would lose its float formats.
struct FormatAlias {
  std::string_view name;
  uint8_t value;
};
constexpr std::array<FormatAlias, 4> kLibxlFloatNames{{
    {"f32_le", XENSND_PCM_FORMAT_F32_LE},
    {"f32_be", XENSND_PCM_FORMAT_F32_BE},
    {"f64_le", XENSND_PCM_FORMAT_F64_LE},
    {"f64_be", XENSND_PCM_FORMAT_F64_BE},
}};

}  // namespace

std::optional<uint8_t> sndif_format_from_string(std::string_view name) {
  for (const FormatRow& row : kFormats)
    if (equal_ignoring_case(name, row.name)) return row.value;
  for (const FormatAlias& alias : kLibxlFloatNames)
    if (equal_ignoring_case(name, alias.name)) return alias.value;
  return std::nullopt;
}

std::string_view sndif_format_name(uint8_t format) {
  return format < kFormats.size() ? kFormats[format].name : std::string_view{};
}

std::optional<uint32_t> sndif_format_bytes_per_sample(uint8_t format) {
  if (format >= kFormats.size() || kFormats[format].bytes_per_sample == 0) return std::nullopt;
  return kFormats[format].bytes_per_sample;
}

uint64_t sndif_fixed_size_formats_mask() {
  uint64_t mask = 0;
  for (const FormatRow& row : kFormats)
    if (row.bytes_per_sample != 0) mask |= uint64_t{1} << row.value;
  return mask;
}

std::string sndif_format_mask_names(uint64_t mask) {
  std::string names;
  for (const FormatRow& row : kFormats) {
    if (!(mask & (uint64_t{1} << row.value))) continue;
    if (!names.empty()) names += XENSND_LIST_SEPARATOR;
    names += row.name;
  }
  return names;
}

}  // namespace xensnd
