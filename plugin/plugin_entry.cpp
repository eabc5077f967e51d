// The entry point alsa-lib looks up for `type xensnd`: parses the options, connects the card
// and hands the PCM to ioplug. Nothing thrown here reaches alsa-lib.
#include <alsa/asoundlib.h>
#include <alsa/pcm_external.h>

#include <exception>
#include <memory>

#include "plugin/open_error.h"
#include "plugin/plugin_options.h"
#include "plugin/xensnd_pcm.h"

using xensnd::plugin::XensndPcm;

extern "C" {

SND_PCM_PLUGIN_DEFINE_FUNC(xensnd) {
  (void)root;
  try {
    const xensnd::plugin::PluginOptions options = xensnd::plugin::parse_plugin_options(conf);
    auto owned = std::make_unique<XensndPcm>(options, stream);
    const int created = owned->create_ioplug(name, mode);
    if (created < 0) return created;
    // From here ioplug owns the object: snd_pcm_ioplug_delete() runs the close callback.
    XensndPcm* pcm = owned.release();
    const int constrained = pcm->install_constraints();
    if (constrained < 0) {
      snd_pcm_t* handle = pcm->pcm();
      snd_pcm_close(handle);
      return constrained;
    }
    *pcmp = pcm->pcm();
    return 0;
  } catch (...) {
    return xensnd::plugin::open_error_result(std::current_exception());
  }
}

SND_PCM_PLUGIN_SYMBOL(xensnd)

}  // extern "C"
