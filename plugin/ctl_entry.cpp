// The entry point alsa-lib looks up for `ctl.NAME { type xensnd }`: the same options as the
// PCM (`device`, `unique_id`, timeouts), the card connection shared with this process's PCMs.
// Nothing thrown here reaches alsa-lib.
#include <alsa/asoundlib.h>
#include <alsa/control_external.h>

#include <exception>
#include <memory>

#include "plugin/open_error.h"
#include "plugin/plugin_options.h"
#include "plugin/xensnd_ctl.h"

using xensnd::plugin::XensndCtl;

extern "C" {

SND_CTL_PLUGIN_DEFINE_FUNC(xensnd) {
  (void)root;
  try {
    const xensnd::plugin::PluginOptions options = xensnd::plugin::parse_plugin_options(conf);
    auto owned = std::make_unique<XensndCtl>(options);
    const int created = owned->create_ext(name, mode);
    if (created < 0) return created;
    // From here snd_ctl_ext owns the object: snd_ctl_close() runs the close callback.
    *handlep = owned.release()->handle();
    return 0;
  } catch (...) {
    return xensnd::plugin::open_error_result(std::current_exception());
  }
}

SND_CTL_PLUGIN_SYMBOL(xensnd)

}  // extern "C"
