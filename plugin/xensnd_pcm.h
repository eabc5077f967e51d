// One open xensnd PCM: the ALSA ioplug object and the sndif stream behind it.
//
// Threading: ioplug calls start/stop/pointer/transfer/pause/hw_params/hw_free/delay/chmap
// callbacks under the PCM's lock, but prepare, sw_params, drain and the poll callbacks without
// it; every callback therefore takes mutex_, and code holding mutex_ never calls back into
// alsa-lib (which would take the PCM lock in the opposite order). All fields below are
// written only under mutex_.
//
// Frame counters are 64-bit and count from the last prepare; ALSA's pointers wrap at the
// sw_params boundary and are derived from them.
#pragma once

#include <alsa/asoundlib.h>
#include <alsa/pcm_external.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "plugin/card_registry.h"
#include "plugin/frame_ledger.h"
#include "plugin/plugin_options.h"
#include "xenio/unique_fd.h"
#include "protocol/stream.h"

namespace xensnd::plugin {

class XensndPcm {
 public:
  using Clock = std::chrono::steady_clock;

  // Connects (or reuses this process's connection to) the card, selects the stream and
  // queries its parameters. Throws FrontendError / OptionError / std::invalid_argument.
  XensndPcm(const PluginOptions& options, snd_pcm_stream_t direction);
  ~XensndPcm();
  XensndPcm(const XensndPcm&) = delete;
  XensndPcm& operator=(const XensndPcm&) = delete;

  // Registers with ioplug (snd_pcm_ioplug_create) and installs the hw constraints.
  int create_ioplug(const char* name, int mode);
  snd_pcm_t* pcm() const { return io_.pcm; }

  // --- ioplug callbacks (see ioplug_callbacks.cpp for the C entry points) ---
  int start();
  int stop();
  snd_pcm_sframes_t pointer();
  snd_pcm_sframes_t transfer(const snd_pcm_channel_area_t* areas, snd_pcm_uframes_t offset,
                             snd_pcm_uframes_t size);
  int hw_params();
  int hw_free();
  int sw_params(snd_pcm_sw_params_t* params);
  int prepare();
  int drain();
  int pause(bool enable);
  int poll_descriptors_count() const { return kPollFds; }
  int poll_descriptors(pollfd* fds, unsigned space);
  int poll_revents(pollfd* fds, unsigned nfds, unsigned short* revents);
  int delay(snd_pcm_sframes_t* delay);
  snd_pcm_chmap_query_t** query_chmaps();
  snd_pcm_chmap_t* get_chmap();
  int set_chmap(const snd_pcm_chmap_t* map);
  void dump(snd_output_t* out);

  // Marks the PCM disconnected after `error` (reads/writes then fail with -ENODEV).
  int fail(const std::string& reason);

 private:
  // Poll set: the stream's event channel, the card's XenStore watch, and a timer that wakes
  // pollers on state changes and checks for overdue responses while the stream runs.
  static constexpr int kPollFds = 3;

  bool playback() const { return io_.stream == SND_PCM_STREAM_PLAYBACK; }
  bool forked() const { return !card_->in_this_process(); }
  // After create_ioplug: the hw constraints from XenStore refined by HW_PARAM_QUERY.
 public:
  int install_constraints();

 private:
  void query_backend_ranges();

  // Progress: consume responses and events, move the ledger, keep requests flowing. Returns false
  // when the stream is disconnected.
  // `now`: the callback's one reading of the clock. Each reading is a system call where the
  // guest's clock source has no vDSO (Xen PV guests whose TSC is not stable; seen on real Xen
  // under emulation: 1,410 clock_gettime calls in a 5 s aplay, most of its system calls).
  bool update_locked(Clock::time_point now);
  // update_locked() after the events: appl synced, requests sent, the ledger moved.
  void advance_locked(Clock::time_point now);
  // Whether progress now waits for a response (not for CUR_POS): then its notification is
  // armed before anyone sleeps on the poll fd.
  bool waiting_for_responses_locked() const;
  void arm_responses_if_waiting_locked();
  void process_events_locked(Clock::time_point now, bool force = false);
  void sync_appl_locked() { ledger_.sync_appl(io_.appl_ptr); }
  // Sends the WRITEs/READs the ledger asks for while ring slots are free.
  void send_requests_locked(Clock::time_point now);
  uint64_t completed_bytes() const {
    return playback() ? stream_->completed_write_bytes() : stream_->completed_read_bytes();
  }
  // Logs, once per kind, the odd positions the stream recovered from.
  void log_position_anomalies_locked();
  bool wait_for_progress_unlocked(std::unique_lock<std::mutex>& lock, std::chrono::milliseconds timeout);
  void check_watch_locked(Clock::time_point now);
  void set_timer(long value_ns, long interval_ns);
  // How long the watchdog may sleep from `now`: until the backend's silence could first be an
  // error. One shot, not a periodic tick: re-armed only when it fires (a look costs a wake-up
  // and two system calls).
  long watchdog_delay_ns_locked(Clock::time_point now) const;
  // Readiness is level-triggered, as a kernel PCM's is: a poll fd is kept readable while
  // poll would report the stream ready (in `state`), and only then; otherwise the timer is
  // the watchdog while the backend runs. The stream's own fd carries the level when a
  // notification made the stream ready (it is taken only when the stream stops being ready:
  // one read a period, as any event costs); the timer carries it otherwise.
  // The next wake-up of a non-blocking playback drain: a period (at least 1 ms) from now.
  void arm_drain_wakeup_locked();
  bool ready_locked(snd_pcm_state_t state) const;
  void update_readiness_locked(snd_pcm_state_t state);
  void update_readiness_locked() { update_readiness_locked(io_.state); }
  // The stream's fd was seen readable: its notifications are pending, none taken since.
  void hold_notifications_locked() {
    notifications_held_ = true;
    notifications_taken_seen_ = stream_->notifications_taken();
  }
  bool notifications_held_locked() const {
    return notifications_held_ && stream_->notifications_taken() == notifications_taken_seen_;
  }
  // Takes the held notifications (the poller is about to sleep, or we are): how many were
  // pending. A backend found gone on the way fails the PCM here (0; disconnected_ is set).
  size_t take_held_notifications_locked();
  int fail_locked(const std::string& reason);
  void start_locked();
  void stop_locked() noexcept;
  void drain_timer();
  // Makes the timer readable now, ticking on as the watchdog: for another thread (the
  // card's mixer) that took the notification our readiness rode on. Only a system call on
  // the fd, no lock: that thread holds the stream's lock, which we take after our own.
  static void wake_poller(int timer_fd);
  Clock::duration duration_of(uint64_t frames) const { return ledger_.duration_of(frames); }
 public:
  // Maps an exception escaping a callback to its negative errno (and a message).
  int error_result(const std::exception& error);

 private:

  snd_pcm_ioplug_t io_{};
  PluginOptions options_;
  std::shared_ptr<SharedCard> card_;
  SharedStream* stream_ = nullptr;
  const StreamConfig* config_ = nullptr;
  std::string pcm_name_;  // "<card long name>, <PCM device name>": snd_pcm_info's and aplay -v's
  std::optional<HwParamRanges> backend_ranges_;  // HW_PARAM_QUERY's answer, if any
  xenio::UniqueFd timer_fd_;
  enum class TimerMode { kOff, kWatchdog, kReady, kCustom };
  TimerMode timer_mode_ = TimerMode::kOff;
  bool timer_fired_ = false;  // poll saw the timer readable and nobody read or re-set it since
  // poll saw the stream's fd readable, and its notifications are left pending while the
  // stream is ready: the fd itself is then the readiness level, at no system call. Valid while
  // nobody took notifications since (stream_->notifications_taken() still at the count seen).
  bool notifications_held_ = false;
  uint64_t notifications_taken_seen_ = 0;
  mutable std::mutex mutex_;

  // hw_params
  uint8_t sndif_format_ = 0;
  uint32_t frame_bytes_ = 0;
  uint32_t rate_ = 0;
  uint64_t buffer_frames_ = 0;
  uint64_t period_frames_ = 0;
  // sw_params
  snd_pcm_uframes_t avail_min_ = 1;

  // Every frame counter and the policies on them (plugin/frame_ledger.h).
  FrameLedger ledger_;
  bool backend_running_ = false;     // TRIGGER START sent and not stopped
  bool paused_ = false;
  bool disconnected_ = false;
  uint64_t positions_ahead_seen_ = 0;   // stream_->positions_ahead() already logged
  uint64_t position_rebases_seen_ = 0;
  Clock::time_point last_watch_check_{};
  Clock::time_point last_process_{};  // when stream_->process() last ran
  // poll_revents()'s clock reading, for the pointer() its own snd_pcm_avail_update() makes
  // microseconds later (a reading is a system call and a hypercall in x86 PV guests); taken
  // by a pointer() during that call, whatever its thread, only if no newer reading was used.
  std::optional<Clock::time_point> revents_reading_;
  Clock::time_point last_pointer_reading_{};
};

}  // namespace xensnd::plugin
