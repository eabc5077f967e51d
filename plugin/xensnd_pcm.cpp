// XensndPcm: opening, hardware parameters, triggers. The data path, positions, polling and
// drain live in xensnd_pcm_io.cpp.
#include "plugin/xensnd_pcm.h"

#include <sys/timerfd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "plugin/alsa_format.h"
#include "plugin/channel_maps.h"
#include "plugin/ioplug_callbacks.h"
#include "plugin/stream_selection.h"
#include "protocol/errors.h"
#include "protocol/pcm_format.h"

namespace xensnd::plugin {
namespace {

std::string stream_name(const StreamConfig& config) {
  return "stream " + config.xenstore_path + " (unique-id \"" + config.unique_id + "\")";
}

// The smallest and largest frame sizes over the formats in `mask` and channel range.
std::pair<uint32_t, uint32_t> frame_byte_range(uint64_t mask, uint32_t channels_min,
                                               uint32_t channels_max) {
  uint32_t lo = std::numeric_limits<uint32_t>::max(), hi = 0;
  for (uint8_t f = 0; f < 64; ++f) {
    if (!(mask & (uint64_t{1} << f))) continue;
    if (auto bytes = sndif_format_bytes_per_sample(f)) {
      lo = std::min(lo, *bytes);
      hi = std::max(hi, *bytes);
    }
  }
  if (hi == 0) return {0, 0};
  return {lo * std::max(channels_min, 1u), hi * std::max(channels_max, 1u)};
}

}  // namespace

XensndPcm::XensndPcm(const PluginOptions& options, snd_pcm_stream_t direction) : options_(options) {
  io_.stream = direction;
  CardRequest request;
  request.device_id = options.device;
  request.unique_id = options.unique_id;
  request.handshake_timeout = options.handshake_timeout;
  request.response_timeout = options.response_timeout;
  card_ = acquire_card(request);

  const StreamType type =
      direction == SND_PCM_STREAM_PLAYBACK ? StreamType::kPlayback : StreamType::kCapture;
  const StreamConfig& selected =
      select_stream(card_->config(), StreamSelector{options.pcm, options.stream, options.unique_id}, type);
  if (!card_->claim_stream(selected.pcm_index, selected.stream_index))
    throw FrontendError(EBUSY, stream_name(selected) + " is already open in this process");
  try {
    stream_ = card_->stream(selected.pcm_index, selected.stream_index);
    if (stream_ == nullptr)
      throw FrontendError(ENODEV, "the card connection has no " + stream_name(selected));
    config_ = &stream_->config();
    query_backend_ranges();
    timer_fd_ = xenio::UniqueFd(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (timer_fd_.get() < 0)
      throw FrontendError(errno, std::string("cannot create a timer: ") + std::strerror(errno));
    stream_->set_wake_pcm([timer = timer_fd_.get()] { wake_poller(timer); });
  } catch (...) {
    card_->release_stream(selected.pcm_index, selected.stream_index);
    throw;
  }
}

XensndPcm::~XensndPcm() {
  if (card_ == nullptr || config_ == nullptr) return;
  if (card_->in_this_process()) {
    // Before the timer fd closes. (Not in a forked child: the stream's lock may be held there
    // by a thread of the parent that the child does not have.)
    stream_->set_wake_pcm({});
    // CLOSE (snd_be drains first) and revoke the buffer's grants.
    try {
      if (stream_->is_open()) stream_->close();
    } catch (const std::exception& error) {
      SNDERR("xensnd: closing %s: %s", config_->xenstore_path.c_str(), error.what());
    }
    card_->release_stream(config_->pcm_index, config_->stream_index);
  }
  // The last PCM of the card disconnects it (or, in a forked child, abandons it).
  card_.reset();
}

void XensndPcm::query_backend_ranges() {
  if (auto cached = card_->cached_query(config_->pcm_index, config_->stream_index)) {
    backend_ranges_ = *cached;
    return;
  }
  const StreamLimits& limits = config_->limits;
  if (limits.rates.empty() || limits.formats == 0 || limits.buffer_bytes == 0)
    throw ConfigError("the XenStore configuration of " + stream_name(*config_) +
                      " offers no rate, format or buffer size");
  const auto [min_frame, max_frame] =
      frame_byte_range(limits.formats, limits.channels_min, limits.channels_max);
  if (min_frame == 0)
    throw ConfigError("none of the sample formats of " + stream_name(*config_) +
                      " has a fixed frame size");
  HwParamRanges request;
  request.formats = limits.formats;
  request.rates = {limits.rates.front(), limits.rates.back()};
  request.channels = {limits.channels_min, limits.channels_max};
  request.buffer_frames = {1, limits.buffer_bytes / min_frame};
  request.period_frames = {1, limits.buffer_bytes / min_frame};
  // One round trip: the whole configured space in one question.
  try {
    backend_ranges_ = stream_->query_hw_params(request);
  } catch (const RequestFailedError& error) {
    throw RequestFailedError(error.errno_value(), "the backend accepts none of the parameters "
                                                  "configured for " + stream_name(*config_) +
                                                  ": " + error.what());
  }
  card_->cache_query(config_->pcm_index, config_->stream_index, backend_ranges_);
}

int XensndPcm::create_ioplug(const char* name, int mode) {
  io_.version = SND_PCM_IOPLUG_VERSION;
  io_.name = "xensnd: Xen para-virtual sound";
  // snd_pcm_info's id, name and subname are an ioplug PCM's name: say which card and PCM
  // device this is (the name the application opened stays in `name`, unused by alsa-lib).
  const CardConfig& card = card_->config();
  pcm_name_ = card.long_name + ", " + card.pcm_devices.at(config_->pcm_index).name;
  (void)name;
  // BOUNDARY_WA: pointer() runs up to the boundary, so a jump of a whole buffer is visible.
  io_.flags = SND_PCM_IOPLUG_FLAG_MONOTONIC | SND_PCM_IOPLUG_FLAG_BOUNDARY_WA;
  io_.poll_fd = stream_->poll_fd();
  io_.poll_events = POLLIN;
  // mmap_rw = 0: ioplug keeps its own buffer and calls transfer() for RW and MMAP alike.
  io_.mmap_rw = 0;
  io_.callback = &ioplug_callback_table();
  io_.private_data = this;
  return snd_pcm_ioplug_create(&io_, pcm_name_.c_str(), io_.stream, mode);
}

int XensndPcm::install_constraints() {
  const StreamLimits& limits = config_->limits;
  uint64_t formats = limits.formats;
  Interval channels{limits.channels_min, limits.channels_max};
  std::vector<unsigned> rates(limits.rates.begin(), limits.rates.end());
  if (backend_ranges_) {
    formats &= backend_ranges_->formats;
    channels.min = std::max(channels.min, backend_ranges_->channels.min);
    channels.max = std::min(channels.max, backend_ranges_->channels.max);
    std::erase_if(rates, [&](unsigned r) {
      return r < backend_ranges_->rates.min || r > backend_ranges_->rates.max;
    });
  }
  const std::vector<unsigned> alsa_formats = alsa_formats_in_mask(formats);
  if (alsa_formats.empty() || channels.empty() || rates.empty()) {
    SNDERR("xensnd: %s: the XenStore configuration and the backend have no format, channel "
           "count or rate in common",
           config_->xenstore_path.c_str());
    return -EINVAL;
  }
  // ioplug constrains periods and buffers in bytes only, while the backend and the period
  // floor speak frames. Over the formats and channel counts still possible, a byte minimum of
  // frames x the widest frame and a byte maximum of frames x the narrowest keep every
  // configuration refinement offers inside the frame ranges, so hw_params never refuses it
  // (exact once format and channels are fixed, a little tighter before).
  const auto [min_frame, max_frame] = frame_byte_range(formats, channels.min, channels.max);
  uint64_t period_frames_min = options_.period_frames_min, period_frames_max = UINT32_MAX;
  uint64_t buffer_frames_min = 1, buffer_frames_max = UINT32_MAX;
  if (backend_ranges_) {
    period_frames_min = std::max<uint64_t>(period_frames_min, backend_ranges_->period_frames.min);
    period_frames_max = backend_ranges_->period_frames.max;
    buffer_frames_min = backend_ranges_->buffer_frames.min;
    buffer_frames_max = backend_ranges_->buffer_frames.max;
  }
  constexpr uint64_t kByteCap = 1u << 30;
  const uint64_t period_min = period_frames_min * max_frame;
  const uint64_t buffer_min = std::max(2 * period_min, buffer_frames_min * max_frame);
  // Playback keeps room after the ring for the silence each run starts with (hw_params), at
  // the widest frame and the highest rate, unless that leaves no buffer at all.
  const uint64_t silence_reserve =
      playback() ? FrameLedger::transport_lead_frames(*std::max_element(rates.begin(), rates.end())) * max_frame : 0;
  const uint64_t buffer_room =
      limits.buffer_bytes >= buffer_min + silence_reserve ? limits.buffer_bytes - silence_reserve : limits.buffer_bytes;
  const uint64_t buffer_max = std::min({buffer_room, buffer_frames_max * min_frame, kByteCap});
  const uint64_t period_max = std::min(buffer_max / 2, period_frames_max * min_frame);
  if (period_min > period_max || buffer_min > buffer_max) {
    SNDERR("xensnd: %s: no buffer of two periods fits: periods of %lu..%lu frames, buffers of "
           "%lu..%lu frames, at most %u bytes",
           config_->xenstore_path.c_str(), static_cast<unsigned long>(period_frames_min),
           static_cast<unsigned long>(period_frames_max), static_cast<unsigned long>(buffer_frames_min),
           static_cast<unsigned long>(buffer_frames_max), limits.buffer_bytes);
    return -EINVAL;
  }
  static const unsigned kAccess[] = {SND_PCM_ACCESS_MMAP_INTERLEAVED, SND_PCM_ACCESS_RW_INTERLEAVED};
  int err;
  if ((err = snd_pcm_ioplug_set_param_list(&io_, SND_PCM_IOPLUG_HW_ACCESS, 2, kAccess)) < 0 ||
      (err = snd_pcm_ioplug_set_param_list(&io_, SND_PCM_IOPLUG_HW_FORMAT,
                                           static_cast<unsigned>(alsa_formats.size()),
                                           alsa_formats.data())) < 0 ||
      (err = snd_pcm_ioplug_set_param_minmax(&io_, SND_PCM_IOPLUG_HW_CHANNELS, channels.min,
                                             channels.max)) < 0 ||
      (err = snd_pcm_ioplug_set_param_list(&io_, SND_PCM_IOPLUG_HW_RATE,
                                           static_cast<unsigned>(rates.size()), rates.data())) < 0 ||
      (err = snd_pcm_ioplug_set_param_minmax(&io_, SND_PCM_IOPLUG_HW_PERIOD_BYTES,
                                             static_cast<unsigned>(period_min),
                                             static_cast<unsigned>(period_max))) < 0 ||
      (err = snd_pcm_ioplug_set_param_minmax(&io_, SND_PCM_IOPLUG_HW_BUFFER_BYTES,
                                             static_cast<unsigned>(buffer_min),
                                             static_cast<unsigned>(buffer_max))) < 0 ||
      (err = snd_pcm_ioplug_set_param_minmax(&io_, SND_PCM_IOPLUG_HW_PERIODS, 2, 1024)) < 0)
    return err;
  return 0;
}

int XensndPcm::hw_params() {
  std::lock_guard lock(mutex_);
  if (forked() || disconnected_) return -ENODEV;
  const auto format = sndif_format_from_alsa(io_.format);
  const auto sample_bytes = format ? sndif_format_bytes_per_sample(*format) : std::nullopt;
  if (!sample_bytes) {
    SNDERR("xensnd: format %s has no sndif equivalent", snd_pcm_format_name(io_.format));
    return -EINVAL;
  }
  sndif_format_ = *format;
  frame_bytes_ = *sample_bytes * io_.channels;
  rate_ = io_.rate;
  buffer_frames_ = io_.buffer_size;
  period_frames_ = io_.period_size;
  // Capture runs the backend's device, and READs, at a fraction of the period (why:
  // FrameLedger::capture_grain).
  const uint64_t device_period_frames =
      playback() ? period_frames_
                 : FrameLedger::capture_grain(period_frames_, rate_,
                                              backend_ranges_ ? backend_ranges_->period_frames.min : 1);
  // Playback starts each run with the pointer's lead as silence (FrameLedger::kTransportLeadMs),
  // from an area after the ring, if the card's buffer limit leaves room for it.
  const uint64_t lead_frames = playback() ? FrameLedger::transport_lead_frames(rate_) : 0;
  const bool silence_fits = (buffer_frames_ + lead_frames) * frame_bytes_ <= stream_->config().limits.buffer_bytes;
  const uint64_t silence_frames = silence_fits ? lead_frames : 0;
  ledger_.configure(FrameLedger::Setup{playback(), frame_bytes_, rate_, buffer_frames_, period_frames_,
                                       device_period_frames, silence_frames});
  ledger_.set_stall_timeout(options_.position_timeout);
  if (backend_ranges_) {
    const auto& r = *backend_ranges_;
    if (buffer_frames_ < r.buffer_frames.min || buffer_frames_ > r.buffer_frames.max ||
        period_frames_ < r.period_frames.min || period_frames_ > r.period_frames.max) {
      SNDERR("xensnd: %s: the backend takes buffers of %u..%u frames and periods of %u..%u "
             "frames, not %lu and %lu",
             config_->xenstore_path.c_str(), r.buffer_frames.min, r.buffer_frames.max,
             r.period_frames.min, r.period_frames.max, static_cast<unsigned long>(buffer_frames_),
             static_cast<unsigned long>(period_frames_));
      return -EINVAL;
    }
  }
  StreamParams params;
  params.format = sndif_format_;
  params.channels = static_cast<uint8_t>(io_.channels);
  params.rate = rate_;
  params.buffer_bytes = static_cast<uint32_t>(buffer_frames_ * frame_bytes_);
  params.period_bytes = static_cast<uint32_t>(device_period_frames * frame_bytes_);
  params.silence_bytes = static_cast<uint32_t>(silence_frames * frame_bytes_);
  if (stream_->is_open()) stream_->close();
  try {
    stream_->open(params);
  } catch (const FrontendError& error) {
    const int e = error.errno_value();
    if (e == ENOSPC || e == ENOMEM || e == EDQUOT || e == E2BIG) {
      const size_t pages = (params.buffer_bytes + 4095) / 4096;
      SNDERR("xensnd: a buffer of %u bytes needs %zu grant pages (plus its page directory), more "
             "than this guest may still grant (gntalloc's limit, 1024 grants for the whole guest "
             "by default): choose a smaller buffer (%s)",
             params.buffer_bytes, pages, error.what());
      return -ENOMEM;
    }
    throw;
  }
  // The format's silence (not every format's is zero bytes: U8's is 0x80).
  const std::span<std::byte> silence = stream_->silence_area();
  if (!silence.empty() && snd_pcm_format_set_silence(io_.format, silence.data(), silence.size() / frame_bytes_ * io_.channels) < 0) {
    SNDERR("xensnd: format %s has no silence", snd_pcm_format_name(io_.format));
    return -EINVAL;
  }
  return 0;
}

int XensndPcm::hw_free() {
  std::lock_guard lock(mutex_);
  if (forked()) return 0;
  stop_locked();
  if (stream_->is_open()) stream_->close();
  return 0;
}

int XensndPcm::sw_params(snd_pcm_sw_params_t* params) {
  std::lock_guard lock(mutex_);
  snd_pcm_uframes_t boundary = 0, stop_threshold = 0;
  snd_pcm_sw_params_get_boundary(params, &boundary);
  snd_pcm_sw_params_get_avail_min(params, &avail_min_);
  snd_pcm_sw_params_get_stop_threshold(params, &stop_threshold);
  if (avail_min_ == 0) avail_min_ = 1;
  ledger_.configure(FrameLedger::Software{boundary, avail_min_, stop_threshold});
  return 0;
}

int XensndPcm::prepare() {
  std::unique_lock lock(mutex_);
  if (forked() || disconnected_) return -ENODEV;
  if (!stream_->is_open()) return -EBADFD;
  // snd_be refuses a second START: after an xrun or from RUNNING the backend is still
  // started, whatever ALSA's state says.
  if (backend_running_) {
    backend_running_ = false;
    stream_->trigger(Trigger::kStop);
  }
  // Responses of the old run must not count in the new one.
  const auto deadline = Clock::now() + options_.response_timeout;
  while (stream_->in_flight() > 0 && Clock::now() < deadline) stream_->wait(std::chrono::milliseconds(50));
  if (stream_->in_flight() > 0)
    throw BackendGoneError("the backend did not answer " + std::to_string(stream_->in_flight()) +
                           " requests within " + std::to_string(options_.response_timeout.count()) +
                           " ms");
  ledger_.prepare(io_.appl_ptr, completed_bytes(), Clock::now());
  paused_ = false;
  // Playback: ready (a start-threshold application waits for room it already has).
  // Capture: nothing is ready until data arrives, and no stale wake-up may remain.
  update_readiness_locked(SND_PCM_STATE_PREPARED);
  return 0;
}

void XensndPcm::start_locked() {
  stream_->trigger(Trigger::kStart);
  backend_running_ = true;
  paused_ = false;
  const Clock::time_point now = Clock::now();
  ledger_.start(now);
  send_requests_locked(now);  // the rest of what was written before START, or the first READs
  update_readiness_locked(SND_PCM_STATE_RUNNING);
}

int XensndPcm::start() {
  std::lock_guard lock(mutex_);
  if (forked() || disconnected_) return -ENODEV;
  if (backend_running_) return 0;
  sync_appl_locked();
  start_locked();
  return 0;
}

void XensndPcm::stop_locked() noexcept {
  if (backend_running_ && !disconnected_) {
    backend_running_ = false;
    try {
      stream_->trigger(Trigger::kStop);
    } catch (const std::exception& error) {
      // Dropping must work even when the backend is gone; the next call reports it.
      SNDERR("xensnd: stopping %s: %s", config_->xenstore_path.c_str(), error.what());
    }
  }
  backend_running_ = false;
  paused_ = false;
  ledger_.stop();
  // ioplug goes to SETUP (drop) or XRUN next: pollers get POLLERR at once.
  update_readiness_locked(SND_PCM_STATE_SETUP);
}

int XensndPcm::stop() {
  std::lock_guard lock(mutex_);
  if (forked()) return 0;
  stop_locked();
  return 0;
}

int XensndPcm::pause(bool enable) {
  std::lock_guard lock(mutex_);
  if (forked() || disconnected_) return -ENODEV;
  if (!backend_running_) return 0;
  if (enable == paused_) return 0;
  stream_->trigger(enable ? Trigger::kPause : Trigger::kResume);
  paused_ = enable;
  const Clock::time_point now = Clock::now();
  ledger_.pause(enable, now);
  if (!enable) send_requests_locked(now);
  update_readiness_locked(enable ? SND_PCM_STATE_PAUSED : SND_PCM_STATE_RUNNING);
  return 0;
}

snd_pcm_chmap_query_t** XensndPcm::query_chmaps() {
  return query_channel_maps(config_->limits.channels_min, config_->limits.channels_max);
}

snd_pcm_chmap_t* XensndPcm::get_chmap() {
  const unsigned channels = io_.channels ? io_.channels : config_->limits.channels_min;
  return channel_map_for(channels);
}

int XensndPcm::set_chmap(const snd_pcm_chmap_t* map) {
  if (map == nullptr) return -EINVAL;
  if (io_.channels && map->channels != io_.channels) return -EINVAL;
  return is_standard_channel_map(*map) ? 0 : -EINVAL;
}

void XensndPcm::dump(snd_output_t* out) {
  snd_output_printf(out, "xensnd: %s: vsnd card %u, %s (unique-id \"%s\")\n", pcm_name_.c_str(),
                    card_->device_id(), config_->xenstore_path.c_str(), config_->unique_id.c_str());
  if (io_.pcm != nullptr) {
    snd_output_printf(out, "Its setup is:\n");
    snd_pcm_dump_setup(io_.pcm, out);
  }
}

}  // namespace xensnd::plugin
