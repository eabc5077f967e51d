// The C callback table snd_ctl_ext calls. Each entry forwards to XensndCtl and is the
// boundary no exception crosses: FrontendError becomes its -errno plus an SNDERR message.
#pragma once

#include <alsa/asoundlib.h>
#include <alsa/control_external.h>

namespace xensnd::plugin {

const snd_ctl_ext_callback_t& ctl_callback_table();
int ctl_tlv_callback(snd_ctl_ext_t* ext, snd_ctl_ext_key_t key, int op_flag, unsigned numid, unsigned* tlv,
                     unsigned tlv_size);

}  // namespace xensnd::plugin
