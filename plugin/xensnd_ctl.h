// One open xensnd CTL (mixer): the snd_ctl_ext object over this process's connection to the
// card, which it shares with the process's PCMs through the card registry. Values live in
// each stream's StreamMixer; reads never touch the backend, writes reach it at once when the
// stream is open and after its next OPEN otherwise.
//
// Threading: alsa-lib serialises the calls on one CTL handle; every stream access goes through
// SharedStream's lock, so PCMs on other threads are safe.
#pragma once

#include <alsa/asoundlib.h>
#include <alsa/control_external.h>

#include <memory>
#include <string>
#include <vector>

#include "plugin/card_registry.h"
#include "plugin/ctl_callbacks.h"
#include "plugin/ctl_elements.h"
#include "plugin/ctl_volume_scale.h"
#include "plugin/plugin_options.h"
#include "xenio/unique_fd.h"

namespace xensnd::plugin {

class XensndCtl {
 public:
  // Connects (or reuses this process's connection to) the card and asks each stream's backend
  // whether it takes volume requests. Throws FrontendError (EBUSY naming the holder when
  // another process owns the card).
  explicit XensndCtl(const PluginOptions& options);
  XensndCtl(const XensndCtl&) = delete;
  XensndCtl& operator=(const XensndCtl&) = delete;

  // Registers with snd_ctl_ext.
  int create_ext(const char* name, int mode);
  snd_ctl_t* handle() const { return ext_.handle; }

  // --- snd_ctl_ext callbacks (see ctl_callbacks.cpp for the C entry points) ---
  int elem_count() const { return static_cast<int>(elements_.size()); }
  int elem_list(unsigned offset, snd_ctl_elem_id_t* id) const;
  snd_ctl_ext_key_t find_elem(const snd_ctl_elem_id_t* id) const;
  int get_attribute(snd_ctl_ext_key_t key, int* type, unsigned* access, unsigned* count);
  int get_integer_info(snd_ctl_ext_key_t key, long* min, long* max, long* step) const;
  int read_integer(snd_ctl_ext_key_t key, long* values);
  int write_integer(snd_ctl_ext_key_t key, const long* values);
  int read_tlv(snd_ctl_ext_key_t key, unsigned* tlv, unsigned tlv_size) const;

  // Maps an exception escaping a callback to its negative errno (and a message).
  static int error_result(const std::exception& error);

 private:
  const CtlElement* element(snd_ctl_ext_key_t key) const;
  SharedStream& stream_of(const CtlElement& element) const;

  snd_ctl_ext_t ext_{};
  std::shared_ptr<SharedCard> card_;
  std::vector<CtlElement> elements_;
  VolumeScale scale_;
  // snd_ctl_ext wants a descriptor to poll; no event is ever reported on it (values change
  // only through this process's CTLs).
  xenio::UniqueFd event_fd_;
};

}  // namespace xensnd::plugin
