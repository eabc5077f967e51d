// The C callback table ioplug calls. Each entry forwards to XensndPcm and is the boundary no
// exception crosses: FrontendError becomes its -errno plus an SNDERR message.
#pragma once

#include <alsa/asoundlib.h>
#include <alsa/pcm_external.h>

namespace xensnd::plugin {

const snd_pcm_ioplug_callback_t& ioplug_callback_table();

}  // namespace xensnd::plugin
