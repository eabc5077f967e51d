#include "backend/channel_volume.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "protocol/sndif_abi.h"

namespace xensnd::backend {
namespace {

template <typename T>
T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <typename T>
void store(std::byte* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

// Scales an integer sample held in `bits` signed bits, saturating.
int64_t scale_int(int64_t sample, double gain, int bits) {
  const int64_t max = (int64_t{1} << (bits - 1)) - 1;
  const int64_t min = -max - 1;
  double scaled = std::nearbyint(static_cast<double>(sample) * gain);
  if (scaled > static_cast<double>(max)) return max;
  if (scaled < static_cast<double>(min)) return min;
  return static_cast<int64_t>(scaled);
}

void scale_sample(uint8_t format, std::byte* p, double gain) {
  switch (format) {
    case XENSND_PCM_FORMAT_S8:
      store(p, static_cast<int8_t>(scale_int(load<int8_t>(p), gain, 8)));
      break;
    case XENSND_PCM_FORMAT_U8:
      store(p, static_cast<uint8_t>(scale_int(int64_t{load<uint8_t>(p)} - 128, gain, 8) + 128));
      break;
    case XENSND_PCM_FORMAT_S16_LE:
      store(p, static_cast<int16_t>(scale_int(load<int16_t>(p), gain, 16)));
      break;
    case XENSND_PCM_FORMAT_U16_LE:
      store(p, static_cast<uint16_t>(scale_int(int64_t{load<uint16_t>(p)} - 32768, gain, 16) + 32768));
      break;
    case XENSND_PCM_FORMAT_S24_LE: {
      // 24 significant bits in the low three bytes of a 32-bit container.
      int32_t raw = load<int32_t>(p);
      int32_t sample = static_cast<int32_t>(static_cast<uint32_t>(raw) << 8) >> 8;
      store(p, static_cast<int32_t>(scale_int(sample, gain, 24)));
      break;
    }
    case XENSND_PCM_FORMAT_S32_LE:
      store(p, static_cast<int32_t>(scale_int(load<int32_t>(p), gain, 32)));
      break;
    case XENSND_PCM_FORMAT_F32_LE:
      store(p, static_cast<float>(load<float>(p) * gain));
      break;
    case XENSND_PCM_FORMAT_F64_LE:
      store(p, load<double>(p) * gain);
      break;
    default:
      break;
  }
}

}  // namespace

bool ChannelVolume::unity() const {
  return std::all_of(millidb_.begin(), millidb_.end(), [](int32_t v) { return v == 0; }) &&
         std::none_of(muted_.begin(), muted_.end(), [](bool m) { return m; });
}

bool ChannelVolume::supports(uint8_t format) {
  switch (format) {
    case XENSND_PCM_FORMAT_S8:
    case XENSND_PCM_FORMAT_U8:
    case XENSND_PCM_FORMAT_S16_LE:
    case XENSND_PCM_FORMAT_U16_LE:
    case XENSND_PCM_FORMAT_S24_LE:
    case XENSND_PCM_FORMAT_S32_LE:
    case XENSND_PCM_FORMAT_F32_LE:
    case XENSND_PCM_FORMAT_F64_LE:
      return true;
    default:
      return false;
  }
}

void ChannelVolume::apply(const PcmParams& params, std::span<std::byte> frames) const {
  if (unity() || !supports(params.format) || params.channels != channels() || params.frame_bytes() == 0)
    return;
  std::vector<double> gains(channels());
  for (uint32_t c = 0; c < channels(); ++c)
    gains[c] = muted_[c] ? 0.0 : std::pow(10.0, millidb_[c] / 20000.0);
  const size_t frame = params.frame_bytes();
  for (size_t offset = 0; offset + frame <= frames.size(); offset += frame)
    for (uint32_t c = 0; c < channels(); ++c)
      if (gains[c] != 1.0) scale_sample(params.format, frames.data() + offset + c * params.sample_bytes, gains[c]);
}

}  // namespace xensnd::backend
