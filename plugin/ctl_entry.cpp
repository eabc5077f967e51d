// The entry point alsa-lib looks up for `ctl.NAME { type xensnd }`: the same options as the
// PCM (`device`, `unique_id`, timeouts), the card connection shared with this process's PCMs.
// Nothing thrown here reaches alsa-lib.
#include <alsa/asoundlib.h>
#include <alsa/control_external.h>

#include <cerrno>
#include <memory>
#include <new>
#include <stdexcept>

#include "plugin/plugin_options.h"
#include "plugin/xensnd_ctl.h"
#include "protocol/errors.h"

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
  } catch (const xensnd::plugin::OptionError& error) {
    SNDERR("xensnd: %s", error.what());
    return -EINVAL;
  } catch (const xensnd::FrontendError& error) {
    SNDERR("xensnd: %s", error.what());
    return -std::max(error.errno_value(), 1);
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  } catch (const std::exception& error) {
    SNDERR("xensnd: %s", error.what());
    return -EIO;
  } catch (...) {
    return -EIO;
  }
}

SND_CTL_PLUGIN_SYMBOL(xensnd)

}  // extern "C"
