#include "plugin/ctl_volume_scale.h"

#include <alsa/asoundlib.h>

#include <algorithm>
#include <cmath>

namespace xensnd::plugin {

int32_t VolumeScale::to_millidb(long value) const {
  const long v = std::clamp(value, 0L, steps);
  return static_cast<int32_t>((min_centidb + v * step_centidb) * 10);
}

long VolumeScale::from_millidb(int32_t millidb) const {
  const double steps_up = (static_cast<double>(millidb) / 10.0 - min_centidb) / step_centidb;
  return std::clamp(std::lround(steps_up), 0L, steps);
}

std::array<unsigned, 4> VolumeScale::db_scale_tlv() const {
  return {SND_CTL_TLVT_DB_SCALE, 2 * sizeof(unsigned), static_cast<unsigned>(min_centidb),
          static_cast<unsigned>(step_centidb)};
}

}  // namespace xensnd::plugin
