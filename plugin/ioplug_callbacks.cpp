#include "plugin/ioplug_callbacks.h"

#include <cerrno>
#include <exception>

#include "plugin/xensnd_pcm.h"

namespace xensnd::plugin {
namespace {

XensndPcm& pcm_of(snd_pcm_ioplug_t* io) { return *static_cast<XensndPcm*>(io->private_data); }

// Runs `body`; any exception becomes a negative errno (and, for a backend that went away,
// the DISCONNECTED state).
template <typename Result, typename Body>
Result guarded(snd_pcm_ioplug_t* io, Body&& body) noexcept {
  try {
    return body(pcm_of(io));
  } catch (const std::exception& error) {
    try {
      return static_cast<Result>(pcm_of(io).error_result(error));
    } catch (...) {
      return static_cast<Result>(-EIO);
    }
  } catch (...) {
    return static_cast<Result>(-EIO);
  }
}

int cb_start(snd_pcm_ioplug_t* io) { return guarded<int>(io, [](XensndPcm& p) { return p.start(); }); }
int cb_stop(snd_pcm_ioplug_t* io) { return guarded<int>(io, [](XensndPcm& p) { return p.stop(); }); }

snd_pcm_sframes_t cb_pointer(snd_pcm_ioplug_t* io) {
  return guarded<snd_pcm_sframes_t>(io, [](XensndPcm& p) { return p.pointer(); });
}

snd_pcm_sframes_t cb_transfer(snd_pcm_ioplug_t* io, const snd_pcm_channel_area_t* areas,
                              snd_pcm_uframes_t offset, snd_pcm_uframes_t size) {
  return guarded<snd_pcm_sframes_t>(
      io, [&](XensndPcm& p) { return p.transfer(areas, offset, size); });
}

int cb_close(snd_pcm_ioplug_t* io) {
  try {
    delete &pcm_of(io);
  } catch (...) {
  }
  return 0;
}

int cb_hw_params(snd_pcm_ioplug_t* io, snd_pcm_hw_params_t*) {
  return guarded<int>(io, [](XensndPcm& p) { return p.hw_params(); });
}
int cb_hw_free(snd_pcm_ioplug_t* io) { return guarded<int>(io, [](XensndPcm& p) { return p.hw_free(); }); }
int cb_sw_params(snd_pcm_ioplug_t* io, snd_pcm_sw_params_t* params) {
  return guarded<int>(io, [&](XensndPcm& p) { return p.sw_params(params); });
}
int cb_prepare(snd_pcm_ioplug_t* io) { return guarded<int>(io, [](XensndPcm& p) { return p.prepare(); }); }
int cb_drain(snd_pcm_ioplug_t* io) { return guarded<int>(io, [](XensndPcm& p) { return p.drain(); }); }
int cb_pause(snd_pcm_ioplug_t* io, int enable) {
  return guarded<int>(io, [&](XensndPcm& p) { return p.pause(enable != 0); });
}
int cb_poll_descriptors_count(snd_pcm_ioplug_t* io) {
  return guarded<int>(io, [](XensndPcm& p) { return p.poll_descriptors_count(); });
}
int cb_poll_descriptors(snd_pcm_ioplug_t* io, pollfd* fds, unsigned space) {
  return guarded<int>(io, [&](XensndPcm& p) { return p.poll_descriptors(fds, space); });
}
int cb_poll_revents(snd_pcm_ioplug_t* io, pollfd* fds, unsigned nfds, unsigned short* revents) {
  return guarded<int>(io, [&](XensndPcm& p) { return p.poll_revents(fds, nfds, revents); });
}
int cb_delay(snd_pcm_ioplug_t* io, snd_pcm_sframes_t* delay) {
  return guarded<int>(io, [&](XensndPcm& p) { return p.delay(delay); });
}
void cb_dump(snd_pcm_ioplug_t* io, snd_output_t* out) {
  guarded<int>(io, [&](XensndPcm& p) {
    p.dump(out);
    return 0;
  });
}
snd_pcm_chmap_query_t** cb_query_chmaps(snd_pcm_ioplug_t* io) {
  try {
    return pcm_of(io).query_chmaps();
  } catch (...) {
    return nullptr;
  }
}
snd_pcm_chmap_t* cb_get_chmap(snd_pcm_ioplug_t* io) {
  try {
    return pcm_of(io).get_chmap();
  } catch (...) {
    return nullptr;
  }
}
int cb_set_chmap(snd_pcm_ioplug_t* io, const snd_pcm_chmap_t* map) {
  return guarded<int>(io, [&](XensndPcm& p) { return p.set_chmap(map); });
}

snd_pcm_ioplug_callback_t make_table() {
  snd_pcm_ioplug_callback_t table{};
  table.start = cb_start;
  table.stop = cb_stop;
  table.pointer = cb_pointer;
  table.transfer = cb_transfer;
  table.close = cb_close;
  table.hw_params = cb_hw_params;
  table.hw_free = cb_hw_free;
  table.sw_params = cb_sw_params;
  table.prepare = cb_prepare;
  table.drain = cb_drain;
  table.pause = cb_pause;
  table.poll_descriptors_count = cb_poll_descriptors_count;
  table.poll_descriptors = cb_poll_descriptors;
  table.poll_revents = cb_poll_revents;
  table.dump = cb_dump;
  table.delay = cb_delay;
  table.query_chmaps = cb_query_chmaps;
  table.get_chmap = cb_get_chmap;
  table.set_chmap = cb_set_chmap;
  return table;
}

}  // namespace

const snd_pcm_ioplug_callback_t& ioplug_callback_table() {
  static const snd_pcm_ioplug_callback_t table = make_table();
  return table;
}

}  // namespace xensnd::plugin
