// Channel maps for the common layouts (mono, stereo, 2.1, quad, 5.0, 5.1, 7.1), the ones
// the Linux PV sound driver and snd_be assume for a given channel count.
#pragma once

#include <alsa/asoundlib.h>

namespace xensnd::plugin {

// malloc'ed, for the ioplug query_chmaps callback (freed by snd_pcm_free_chmaps); nullptr
// when no channel count in range has a standard layout.
snd_pcm_chmap_query_t** query_channel_maps(unsigned channels_min, unsigned channels_max);
// malloc'ed map for `channels`, nullptr when there is no standard one.
snd_pcm_chmap_t* channel_map_for(unsigned channels);
// True when `map` is the standard layout of its channel count.
bool is_standard_channel_map(const snd_pcm_chmap_t& map);

}  // namespace xensnd::plugin
