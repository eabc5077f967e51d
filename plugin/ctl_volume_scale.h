// The volume control's integer scale: value v means min + v * step dB, like a hardware
// mixer's DB_SCALE TLV. sndif carries no range (a backend takes any value in 0.001 dB steps,
// 0 = 0 dB, and snd_be takes none), so the range is the plugin's choice: -64 dB to 0 dB in
// 0.5 dB steps, 0 dB at the top like a hardware mixer's master.
#pragma once

#include <array>
#include <cstdint>

namespace xensnd::plugin {

struct VolumeScale {
  int32_t min_centidb = -6400;  // value 0
  int32_t step_centidb = 50;
  long steps = 128;  // value `steps` = min + steps * step = 0 dB

  // Backend value (0.001 dB) of control value `value` (clamped to 0..steps).
  int32_t to_millidb(long value) const;
  // The nearest control value of a backend value, clamped to the range.
  long from_millidb(int32_t millidb) const;
  // SND_CTL_TLVT_DB_SCALE: type, length, min (0.01 dB), step (0.01 dB; no mute flag, the
  // switch mutes).
  std::array<unsigned, 4> db_scale_tlv() const;
};

}  // namespace xensnd::plugin
