#include "plugin/xensnd_ctl.h"

#include <sys/eventfd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

#include "protocol/errors.h"

namespace xensnd::plugin {
namespace {

void copy_text(char* to, size_t size, const std::string& text) {
  std::snprintf(to, size, "%s", text.c_str());
}

}  // namespace

XensndCtl::XensndCtl(const PluginOptions& options) {
  CardRequest request;
  request.device_id = options.device;
  request.unique_id = options.unique_id;
  request.handshake_timeout = options.handshake_timeout;
  request.response_timeout = options.response_timeout;
  card_ = acquire_card(request);

  std::string refused;
  for (const StreamConfig* config : card_->config().streams()) {
    SharedStream* stream = card_->stream(config->pcm_index, config->stream_index);
    if (stream == nullptr) continue;
    stream->with_mixer([&](StreamMixer& mixer, Stream& inner, uint32_t) {
      mixer.probe(inner, volume_probe_params(inner.config()));
      if (mixer.support() == StreamMixer::Support::kNo && refused.empty()) refused = mixer.refusal();
    });
  }
  elements_ = build_ctl_elements(card_->config(), [&](size_t pcm, size_t index) {
    return card_->stream(pcm, index)->with_mixer([](StreamMixer& mixer, Stream&, uint32_t) {
      return mixer.support() == StreamMixer::Support::kYes;
    });
  });
  if (!refused.empty())
    SNDERR("xensnd: vsnd card %u: the backend takes no volume requests, so %s volume controls "
           "are left out (%s)",
           card_->device_id(), elements_.empty() ? "all" : "some", refused.c_str());

  event_fd_ = xenio::UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (event_fd_.get() < 0) throw FrontendError(errno, std::string("cannot create an eventfd: ") + std::strerror(errno));
}

int XensndCtl::create_ext(const char* name, int mode) {
  ext_.version = SND_CTL_EXT_VERSION;
  ext_.card_idx = -1;
  const CardConfig& config = card_->config();
  copy_text(ext_.id, sizeof ext_.id, "xensnd" + std::to_string(card_->device_id()));
  copy_text(ext_.driver, sizeof ext_.driver, "xensnd");
  copy_text(ext_.name, sizeof ext_.name, config.short_name.empty() ? "xensnd" : config.short_name);
  copy_text(ext_.longname, sizeof ext_.longname,
            config.long_name.empty() ? "Xen para-virtual sound card " + std::to_string(card_->device_id())
                                     : config.long_name);
  copy_text(ext_.mixername, sizeof ext_.mixername, "Xen para-virtual sound (sndif)");
  ext_.poll_fd = event_fd_.get();
  ext_.callback = &ctl_callback_table();
  ext_.private_data = this;
  ext_.tlv.c = &ctl_tlv_callback;
  return snd_ctl_ext_create(&ext_, name, mode);
}

const CtlElement* XensndCtl::element(snd_ctl_ext_key_t key) const {
  return key < elements_.size() ? &elements_[key] : nullptr;
}

SharedStream& XensndCtl::stream_of(const CtlElement& e) const {
  SharedStream* stream = card_->stream(e.pcm_index, e.stream_index);
  if (stream == nullptr) throw FrontendError(ENODEV, "the card has no stream " + std::to_string(e.pcm_index) + "/" +
                                                         std::to_string(e.stream_index));
  return *stream;
}

int XensndCtl::elem_list(unsigned offset, snd_ctl_elem_id_t* id) const {
  const CtlElement* e = element(offset);
  if (e == nullptr) return -EINVAL;
  snd_ctl_elem_id_set_interface(id, SND_CTL_ELEM_IFACE_MIXER);
  snd_ctl_elem_id_set_name(id, e->name.c_str());
  snd_ctl_elem_id_set_index(id, e->index);
  return 0;
}

snd_ctl_ext_key_t XensndCtl::find_elem(const snd_ctl_elem_id_t* id) const {
  // alsa-lib may look an element up by its numid (1-based offset) or by interface, name, index.
  const unsigned numid = snd_ctl_elem_id_get_numid(id);
  if (numid > 0 && numid <= elements_.size()) return numid - 1;
  if (snd_ctl_elem_id_get_interface(id) != SND_CTL_ELEM_IFACE_MIXER) return SND_CTL_EXT_KEY_NOT_FOUND;
  const char* name = snd_ctl_elem_id_get_name(id);
  const unsigned index = snd_ctl_elem_id_get_index(id);
  for (size_t i = 0; i < elements_.size(); ++i)
    if (elements_[i].name == name && elements_[i].index == index) return i;
  return SND_CTL_EXT_KEY_NOT_FOUND;
}

int XensndCtl::get_attribute(snd_ctl_ext_key_t key, int* type, unsigned* access, unsigned* count) {
  const CtlElement* e = element(key);
  if (e == nullptr) return -EINVAL;
  const bool volume = e->kind == CtlElement::Kind::kVolume;
  *type = volume ? SND_CTL_ELEM_TYPE_INTEGER : SND_CTL_ELEM_TYPE_BOOLEAN;
  *access = SND_CTL_EXT_ACCESS_READWRITE;
  if (volume) *access |= SND_CTL_EXT_ACCESS_TLV_READ | SND_CTL_EXT_ACCESS_TLV_CALLBACK;
  *count = stream_of(*e).with_mixer([](StreamMixer& mixer, Stream&, uint32_t) { return mixer.channels(); });
  return 0;
}

int XensndCtl::get_integer_info(snd_ctl_ext_key_t key, long* min, long* max, long* step) const {
  const CtlElement* e = element(key);
  if (e == nullptr || e->kind != CtlElement::Kind::kVolume) return -EINVAL;
  *min = 0;
  *max = scale_.steps;
  *step = 1;
  return 0;
}

int XensndCtl::read_integer(snd_ctl_ext_key_t key, long* values) {
  const CtlElement* e = element(key);
  if (e == nullptr) return -EINVAL;
  if (!card_->in_this_process()) return -ENODEV;
  stream_of(*e).with_mixer([&](StreamMixer& mixer, Stream&, uint32_t) {
    for (uint32_t c = 0; c < mixer.channels(); ++c)
      values[c] = e->kind == CtlElement::Kind::kVolume ? scale_.from_millidb(mixer.millidb()[c])
                                                        : (mixer.muted()[c] ? 0 : 1);  // on = sound
  });
  return 0;
}

int XensndCtl::write_integer(snd_ctl_ext_key_t key, const long* values) {
  const CtlElement* e = element(key);
  if (e == nullptr) return -EINVAL;
  if (!card_->in_this_process()) return -ENODEV;
  const bool changed = stream_of(*e).with_mixer([&](StreamMixer& mixer, Stream& inner, uint32_t open_channels) {
    if (e->kind == CtlElement::Kind::kVolume) {
      std::vector<int32_t> millidb(mixer.channels());
      for (uint32_t c = 0; c < mixer.channels(); ++c) {
        if (values[c] < 0 || values[c] > scale_.steps) throw RequestFailedError(EINVAL, e->name + ": value out of range");
        millidb[c] = scale_.to_millidb(values[c]);
      }
      return mixer.write_volume(inner, open_channels, millidb);
    }
    std::vector<bool> muted(mixer.channels());
    for (uint32_t c = 0; c < mixer.channels(); ++c) muted[c] = values[c] == 0;
    return mixer.write_muted(inner, open_channels, muted);
  });
  return changed ? 1 : 0;
}

int XensndCtl::read_tlv(snd_ctl_ext_key_t key, unsigned* tlv, unsigned tlv_size) const {
  const CtlElement* e = element(key);
  if (e == nullptr || e->kind != CtlElement::Kind::kVolume) return -ENXIO;
  const std::array<unsigned, 4> scale = scale_.db_scale_tlv();
  if (tlv_size < sizeof scale) return -ENOMEM;
  std::memcpy(tlv, scale.data(), sizeof scale);
  return static_cast<int>(sizeof scale);
}

int XensndCtl::error_result(const std::exception& error) {
  if (const auto* frontend = dynamic_cast<const FrontendError*>(&error)) {
    SNDERR("xensnd: %s", frontend->what());
    return -std::max(frontend->errno_value(), 1);
  }
  if (dynamic_cast<const std::bad_alloc*>(&error)) return -ENOMEM;
  SNDERR("xensnd: %s", error.what());
  return -EIO;
}

}  // namespace xensnd::plugin
