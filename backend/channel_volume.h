// Per-channel volume and mute of one stream (SET_VOLUME/GET_VOLUME/MUTE/UNMUTE), applied to
// the samples the device plays or records. At 0 dB and unmuted the samples pass bit-exact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "backend/pcm_params.h"

namespace xensnd::backend {

class ChannelVolume {
 public:
  ChannelVolume() = default;
  explicit ChannelVolume(uint32_t channels) : millidb_(channels, 0), muted_(channels, false) {}

  uint32_t channels() const { return static_cast<uint32_t>(millidb_.size()); }
  // sndif units: steps of 0.001 dB, 0 = 0 dB.
  void set_millidb(uint32_t channel, int32_t value) { millidb_.at(channel) = value; }
  int32_t millidb(uint32_t channel) const { return millidb_.at(channel); }
  void set_muted(uint32_t channel, bool muted) { muted_.at(channel) = muted; }
  bool muted(uint32_t channel) const { return muted_.at(channel); }
  bool unity() const;

  // Whether apply() can scale this format (signed/unsigned integer LE, float LE).
  static bool supports(uint8_t sndif_format);
  // Scales whole frames in place; a trailing partial frame is left alone.
  void apply(const PcmParams& params, std::span<std::byte> frames) const;

 private:
  std::vector<int32_t> millidb_;
  std::vector<bool> muted_;
};

}  // namespace xensnd::backend
