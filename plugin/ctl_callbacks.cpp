#include "plugin/ctl_callbacks.h"

#include <cerrno>
#include <exception>

#include "plugin/xensnd_ctl.h"

namespace xensnd::plugin {
namespace {

XensndCtl& ctl_of(snd_ctl_ext_t* ext) { return *static_cast<XensndCtl*>(ext->private_data); }

template <typename Result, typename Body>
Result guarded(snd_ctl_ext_t* ext, Body&& body) noexcept {
  try {
    return body(ctl_of(ext));
  } catch (const std::exception& error) {
    try {
      return static_cast<Result>(XensndCtl::error_result(error));
    } catch (...) {
      return static_cast<Result>(-EIO);
    }
  } catch (...) {
    return static_cast<Result>(-EIO);
  }
}

void cb_close(snd_ctl_ext_t* ext) {
  try {
    delete &ctl_of(ext);
  } catch (...) {
  }
}

int cb_elem_count(snd_ctl_ext_t* ext) {
  return guarded<int>(ext, [](XensndCtl& c) { return c.elem_count(); });
}

int cb_elem_list(snd_ctl_ext_t* ext, unsigned offset, snd_ctl_elem_id_t* id) {
  return guarded<int>(ext, [&](XensndCtl& c) { return c.elem_list(offset, id); });
}

snd_ctl_ext_key_t cb_find_elem(snd_ctl_ext_t* ext, const snd_ctl_elem_id_t* id) {
  try {
    return ctl_of(ext).find_elem(id);
  } catch (...) {
    return SND_CTL_EXT_KEY_NOT_FOUND;
  }
}

int cb_get_attribute(snd_ctl_ext_t* ext, snd_ctl_ext_key_t key, int* type, unsigned* access, unsigned* count) {
  return guarded<int>(ext, [&](XensndCtl& c) { return c.get_attribute(key, type, access, count); });
}

int cb_get_integer_info(snd_ctl_ext_t* ext, snd_ctl_ext_key_t key, long* min, long* max, long* step) {
  return guarded<int>(ext, [&](XensndCtl& c) { return c.get_integer_info(key, min, max, step); });
}

int cb_read_integer(snd_ctl_ext_t* ext, snd_ctl_ext_key_t key, long* values) {
  return guarded<int>(ext, [&](XensndCtl& c) { return c.read_integer(key, values); });
}

int cb_write_integer(snd_ctl_ext_t* ext, snd_ctl_ext_key_t key, long* values) {
  return guarded<int>(ext, [&](XensndCtl& c) { return c.write_integer(key, values); });
}

int cb_read_event(snd_ctl_ext_t*, snd_ctl_elem_id_t*, unsigned int*) {
  return -EAGAIN;  // values change only through this process's own CTL calls
}

void cb_subscribe_events(snd_ctl_ext_t*, int) {}

}  // namespace

const snd_ctl_ext_callback_t& ctl_callback_table() {
  static const snd_ctl_ext_callback_t table = [] {
    snd_ctl_ext_callback_t t{};
    t.close = cb_close;
    t.elem_count = cb_elem_count;
    t.elem_list = cb_elem_list;
    t.find_elem = cb_find_elem;
    t.get_attribute = cb_get_attribute;
    t.get_integer_info = cb_get_integer_info;
    t.read_integer = cb_read_integer;
    t.write_integer = cb_write_integer;
    t.subscribe_events = cb_subscribe_events;
    t.read_event = cb_read_event;
    return t;
  }();
  return table;
}

int ctl_tlv_callback(snd_ctl_ext_t* ext, snd_ctl_ext_key_t key, int op_flag, unsigned, unsigned* tlv,
                     unsigned tlv_size) {
  if (op_flag != 0) return -ENXIO;  // read-only TLV
  return guarded<int>(ext, [&](XensndCtl& c) {
    const int written = c.read_tlv(key, tlv, tlv_size);
    return written < 0 ? written : 0;
  });
}

}  // namespace xensnd::plugin
