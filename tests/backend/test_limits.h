// A stream configuration shared by the backend's unit tests.
#pragma once

#include "protocol/card_config.h"
#include "protocol/sndif_abi.h"

namespace xensnd::backend::testing {

inline StreamLimits stereo_limits() {
  StreamLimits limits;
  limits.channels_min = 1;
  limits.channels_max = 2;
  limits.rates = {8000, 44100, 48000};
  limits.formats = (uint64_t{1} << XENSND_PCM_FORMAT_S16_LE) | (uint64_t{1} << XENSND_PCM_FORMAT_S32_LE);
  limits.buffer_bytes = 65536;
  return limits;
}

inline xensnd_open_req good_open() {
  xensnd_open_req open{};
  open.pcm_rate = 48000;
  open.pcm_format = XENSND_PCM_FORMAT_S16_LE;
  open.pcm_channels = 2;
  open.buffer_sz = 16384;
  open.period_sz = 4096;
  open.gref_directory = 8;
  return open;
}

}  // namespace xensnd::backend::testing
