// libasound_module_conf_xensnd.so: the alsa-lib configuration function behind the hints of
// conf/50-xensnd.conf. alsa-lib evaluates `hint { @func xensnd_hint DEV $DEV PCM $PCM }` when
// it expands a `pcm.xensnd` definition (for snd_device_name_hint, i.e. `aplay -L`, and at
// every open) and replaces the node with what this returns: a `hint` compound with `show`
// and `description` read from XenStore at that moment.
//
// It runs in every process that lists or opens PCMs, on machines with and without Xen: it
// never fails and never prints. No XenStore, no card, no permission: `show off`.
#include <alsa/asoundlib.h>

#include <exception>
#include <string>

#include "namehints/pcm_hint.h"
#include "xenio/xenstore.h"

namespace {

// A string field of the @func node ("" when absent or not a string).
std::string field(snd_config_t* src, const char* id) {
  snd_config_t* node = nullptr;
  const char* value = nullptr;
  if (snd_config_search(src, id, &node) < 0 || snd_config_get_string(node, &value) < 0 || value == nullptr) return "";
  return value;
}

xensnd::hints::PcmHint hint_for(snd_config_t* src) noexcept {
  try {
    auto store = xenio::open_xenstore();
    return xensnd::hints::describe_pcm(*store, field(src, "DEV"), field(src, "PCM"));
  } catch (...) {
    return {};  // not a Xen guest, or no access to XenStore: nothing to offer, quietly
  }
}

}  // namespace

extern "C" __attribute__((visibility("default"))) int xensnd_hint(snd_config_t** dst, snd_config_t* /*root*/,
                                                                  snd_config_t* src, snd_config_t* /*private*/) {
  const char* id = nullptr;
  snd_config_get_id(src, &id);
  const xensnd::hints::PcmHint hint = hint_for(src);
  snd_config_t* compound = nullptr;
  int err = snd_config_make_compound(&compound, id, 0);
  if (err < 0) return err;
  snd_config_t* show = nullptr;
  err = snd_config_imake_integer(&show, "show", hint.show ? 1 : 0);
  if (err >= 0) err = snd_config_add(compound, show);
  if (err >= 0 && hint.show) {
    snd_config_t* description = nullptr;
    err = snd_config_imake_string(&description, "description", hint.description.c_str());
    if (err >= 0) err = snd_config_add(compound, description);
  }
  if (err < 0) {
    snd_config_delete(compound);
    return err;
  }
  *dst = compound;
  return 0;
}
// alsa-lib checks this tag before calling the function. (Braces: `extern "C" char x;` alone
// would only declare it.)
extern "C" {
__attribute__((visibility("default"))) SND_DLSYM_BUILD_VERSION(xensnd_hint, SND_CONFIG_DLSYM_VERSION_EVALUATE)
}
