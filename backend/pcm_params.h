// The parameters a stream was opened with, in the units the device model works in.
#pragma once

#include <cstdint>

namespace xensnd::backend {

struct PcmParams {
  uint32_t rate = 0;          // frames per second
  uint8_t format = 0;         // XENSND_PCM_FORMAT_*
  uint32_t channels = 0;
  uint32_t sample_bytes = 0;  // bytes of one sample in the buffer
  uint32_t buffer_bytes = 0;  // the shared PCM buffer (OPEN's buffer_sz)
  uint32_t period_bytes = 0;  // OPEN's period_sz: one CUR_POS event per period

  uint32_t frame_bytes() const { return sample_bytes * channels; }
};

}  // namespace xensnd::backend
