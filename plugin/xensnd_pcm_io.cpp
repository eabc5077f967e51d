// XensndPcm's data path: transfer() into/out of the grant-shared buffer with pipelined
// WRITE/READ requests, positions from CUR_POS, polling, drain, delay and disconnection.
#include <poll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <new>

#include "plugin/plugin_options.h"
#include "plugin/xensnd_pcm.h"
#include "protocol/errors.h"

namespace xensnd::plugin {
namespace {

// Overdue-response and position checks while running, for applications asleep in poll():
// the watchdog fires when the backend's silence could first be an error
// (watchdog_delay_ns_locked), or this long after a look that found none due (paused, nothing
// held, an answer whose clock started late), as it ticks while the stream is ready.
constexpr long kWatchdogNs = 500'000'000;
constexpr auto kWatchCheckInterval = std::chrono::milliseconds(500);
constexpr auto kProcessInterval = std::chrono::microseconds(500);

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return fd >= 0 && ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLERR | POLLHUP));
}

}  // namespace

// --- Timer: wakes pollers and paces the overdue checks. ---

void XensndPcm::set_timer(long value_ns, long interval_ns) {
  itimerspec spec{};
  spec.it_value.tv_sec = value_ns / 1'000'000'000;
  spec.it_value.tv_nsec = value_ns % 1'000'000'000;
  spec.it_interval.tv_sec = interval_ns / 1'000'000'000;
  spec.it_interval.tv_nsec = interval_ns % 1'000'000'000;
  // Setting a timerfd also clears its expirations: the fd is not readable until it fires.
  ::timerfd_settime(timer_fd_.get(), 0, &spec, nullptr);
  timer_mode_ = TimerMode::kCustom;
  timer_fired_ = false;
}

long XensndPcm::watchdog_delay_ns_locked(Clock::time_point now) const {
  // Every deadline runs from the last progress: the stall rule's, and each answer's (only the
  // oldest request's clock runs, from when the one before it completed, for at least
  // response_timeout). A millisecond past it, as both checks compare strictly.
  Clock::time_point due = ledger_.last_progress() + options_.response_timeout;
  if (playback()) due = std::min(due, ledger_.last_progress() + ledger_.stall_allowance());
  due += std::chrono::milliseconds(1);
  if (due - now <= std::chrono::milliseconds(1)) return kWatchdogNs;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(due - now).count();
}

void XensndPcm::wake_poller(int timer_fd) {
  itimerspec spec{};
  spec.it_value.tv_nsec = 1;
  spec.it_interval.tv_nsec = kWatchdogNs;
  ::timerfd_settime(timer_fd, 0, &spec, nullptr);
}

void XensndPcm::arm_drain_wakeup_locked() {
  set_timer(std::max<long>(duration_of(period_frames_).count(), 1'000'000), kWatchdogNs);
}

void XensndPcm::drain_timer() {
  // One read takes every expiration (and a second would only say EAGAIN).
  uint64_t expirations = 0;
  [[maybe_unused]] const ssize_t n = ::read(timer_fd_.get(), &expirations, sizeof(expirations));
  timer_fired_ = false;
}

bool XensndPcm::ready_locked(snd_pcm_state_t state) const {
  if (disconnected_) return true;
  switch (state) {
    case SND_PCM_STATE_PREPARED:
    case SND_PCM_STATE_RUNNING:
    case SND_PCM_STATE_PAUSED: {
      // pcm_native.c's snd_pcm_poll: ready whenever avail >= avail_min, paused or not.
      if (buffer_frames_ == 0) return false;
      return ledger_.avail() >= avail_min_;
    }
    case SND_PCM_STATE_DRAINING:
      return !playback() && ledger_.avail() > 0;
    default:
      // XRUN, SUSPENDED, SETUP (a drain ended), DISCONNECTED: POLLERR, at once.
      return true;
  }
}

void XensndPcm::update_readiness_locked(snd_pcm_state_t state) {
  // `wake`: a poller must not sleep. Ready, or a notification taken below announced
  // something not consumed yet (it came after the last look): then the poller comes
  // straight back for it.
  bool wake = ready_locked(state);
  if (!wake && notifications_held_locked()) {
    // The poller must sleep now: take the notifications that kept the stream's fd readable.
    const size_t taken = take_held_notifications_locked();
    if (disconnected_) return;
    if (taken > 0 && stream_->has_unconsumed_notified()) wake = true;
  }
  // A non-blocking playback drain paces its own wake-ups (drain()): a period apart, so that
  // the poller learns the end within a period of the playout, not at the next watchdog tick.
  if (state == SND_PCM_STATE_DRAINING && playback() && timer_mode_ == TimerMode::kCustom) {
    if (timer_fired_) arm_drain_wakeup_locked();
    return;
  }
  // Woken by a notification that is still pending: the stream's fd stays readable until it
  // is taken, so the timer need not say so too.
  const bool fd_keeps_level = wake && notifications_held_locked();
  const TimerMode want = wake && !fd_keeps_level ? TimerMode::kReady
                         : backend_running_      ? TimerMode::kWatchdog
                                                 : TimerMode::kOff;
  if (want == timer_mode_) {
    // The watchdog fired and its look is done: the next is due from the progress since.
    // (Setting the timer clears its expiration, as a read would.)
    if (want == TimerMode::kWatchdog && timer_fired_) {
      set_timer(watchdog_delay_ns_locked(Clock::now()), 0);
      timer_mode_ = want;
    } else if (want != TimerMode::kReady && timer_fired_) {
      drain_timer();  // a tick nobody wants any more, or the fd would stay readable
    }
    return;
  }
  if (want == TimerMode::kReady && timer_fired_) {
    // Already readable (a tick nobody read): it stays so until read or re-set.
    timer_mode_ = TimerMode::kReady;
    return;
  }
  switch (want) {
    case TimerMode::kReady: set_timer(1, backend_running_ ? kWatchdogNs : 0); break;
    case TimerMode::kWatchdog: set_timer(watchdog_delay_ns_locked(Clock::now()), 0); break;
    default: set_timer(0, 0); break;
  }
  timer_mode_ = want;
}

// --- Disconnection ---

int XensndPcm::fail_locked(const std::string& reason) {
  if (disconnected_) return -ENODEV;
  disconnected_ = true;
  backend_running_ = false;
  SNDERR("xensnd: vsnd card %u, %s: %s", card_->device_id(), config_->xenstore_path.c_str(),
         reason.c_str());
  try {
    stream_->mark_disconnected(reason);
    stream_->close();  // releases the grants; sends nothing once disconnected
  } catch (const std::exception&) {
  }
  // Not an xrun: applications would loop on recovery. Reads and writes now fail with -ENODEV.
  snd_pcm_ioplug_set_state(&io_, SND_PCM_STATE_DISCONNECTED);
  update_readiness_locked();
  return -ENODEV;
}

int XensndPcm::fail(const std::string& reason) {
  std::lock_guard lock(mutex_);
  return fail_locked(reason);
}

int XensndPcm::error_result(const std::exception& error) {
  if (dynamic_cast<const BackendGoneError*>(&error)) return fail(error.what());
  if (const auto* frontend = dynamic_cast<const FrontendError*>(&error)) {
    SNDERR("xensnd: %s", frontend->what());
    return -std::max(frontend->errno_value(), 1);
  }
  if (dynamic_cast<const std::bad_alloc*>(&error)) return -ENOMEM;
  SNDERR("xensnd: %s", error.what());
  return -EIO;
}

void XensndPcm::check_watch_locked(Clock::time_point now) {
  last_watch_check_ = now;
  if (!card_->check_backend())
    fail_locked("the backend left the Connected state or the device was removed");
}

// --- Progress ---

void XensndPcm::send_requests_locked(Clock::time_point now) {
  if (!stream_->is_open() || buffer_frames_ == 0 || io_.state == SND_PCM_STATE_XRUN) return;
  while (stream_->free_slots() > 0) {
    const std::optional<FrameLedger::Region> next = ledger_.next_request(now);
    if (!next) break;
    if (next->silence)
      stream_->send_silence(next->length_bytes, now);
    else if (playback())
      stream_->send_write(next->offset_bytes, next->length_bytes, now);
    else
      stream_->send_read(next->offset_bytes, next->length_bytes, now);
    ledger_.on_sent(*next, now);
  }
}

void XensndPcm::log_position_anomalies_locked() {
  // Recovered from, not fatal: said once per kind, naming the stream.
  const uint64_t ahead = stream_->positions_ahead(), rebases = stream_->position_rebases();
  if (ahead > positions_ahead_seen_ && positions_ahead_seen_ == 0)
    SNDERR("xensnd: vsnd card %u: %s (reported as an underrun)", card_->device_id(),
           stream_->last_position_anomaly().c_str());
  if (rebases > position_rebases_seen_ && position_rebases_seen_ == 0)
    SNDERR("xensnd: vsnd card %u: %s", card_->device_id(), stream_->last_position_anomaly().c_str());
  positions_ahead_seen_ = ahead;
  position_rebases_seen_ = rebases;
}

void XensndPcm::process_events_locked(Clock::time_point now, bool force) {
  // One write() or read() of the application calls us several times within microseconds
  // (avail, transfer, avail again); events are consumed once per burst, which keeps the
  // steady state at a few system calls per period. poll_revents always consumes.
  if (!force && now - last_process_ < kProcessInterval) return;
  last_process_ = now;
  // The notifications stay pending: while the stream is ready they keep the poll fd readable
  // (update_readiness_locked takes them once it is not).
  stream_->process_keeping_notifications(now);
}

bool XensndPcm::update_locked(Clock::time_point now) {
  if (disconnected_) return false;
  if (!stream_->is_open()) return true;
  try {
    // Hot-unplug and backend state changes, for applications that never poll our fds: a
    // look every kWatchCheckInterval, not at every call once the first interval passed.
    if (now - last_watch_check_ >= kWatchCheckInterval) {
      last_watch_check_ = now;
      if (readable(card_->watch_fd())) check_watch_locked(now);
    }
    if (disconnected_) return false;
    process_events_locked(now);
    log_position_anomalies_locked();
    advance_locked(now);
    // A backend that died or stalled: no position moves and no request is answered while it
    // holds frames it should be playing (overdue requests are the ring's deadlines).
    if (backend_running_ && !paused_) {
      if (std::optional<std::string> stall = ledger_.stalled(now)) throw BackendGoneError(*stall);
    }
    arm_responses_if_waiting_locked();
  } catch (const BackendGoneError& error) {
    fail_locked(error.what());
    return false;
  }
  return true;
}

void XensndPcm::advance_locked(Clock::time_point now) {
  sync_appl_locked();
  send_requests_locked(now);
  ledger_.observe(stream_->position_bytes(), completed_bytes(), now);
  if (playback() && backend_running_ && io_.state == SND_PCM_STATE_DRAINING &&
      ledger_.drained(completed_bytes(), now))
    ledger_.mark_drained();
  if (!playback()) send_requests_locked(now);  // READs for the room just made
}

bool XensndPcm::waiting_for_responses_locked() const {
  if (disconnected_ || !stream_->is_open() || stream_->in_flight() == 0) return false;
  // Capture: READ answers are the data. Drain: it ends when the WRITEs are answered.
  if (!playback()) return backend_running_ && !paused_;
  if (io_.state == SND_PCM_STATE_DRAINING) return true;
  // Playback otherwise moves with CUR_POS, whose event wakes pollers once a period, and
  // answers are consumed then — unless frames wait for a ring slot only an answer frees.
  return ledger_.unsent() && stream_->free_slots() == 0;
}

void XensndPcm::arm_responses_if_waiting_locked() {
  // The backend notifies a response only when asked (Stream::arm_response_notification);
  // ask before the application can sleep on our poll fd waiting for one.
  for (int pass = 0; pass < 4; ++pass) {
    if (!waiting_for_responses_locked() || !stream_->arm_response_notification()) return;
    // Answered before the request took effect: nothing will notify these. Take them now.
    last_process_ = Clock::now();
    stream_->process_keeping_notifications(last_process_);
    advance_locked(last_process_);
  }
  // Still answering as fast as we look: let the poller come straight back.
  last_process_ = Clock::time_point{};
  set_timer(1, backend_running_ ? kWatchdogNs : 0);
}

size_t XensndPcm::take_held_notifications_locked() {
  notifications_held_ = false;
  try {
    return stream_->take_notifications();
  } catch (const BackendGoneError& error) {
    fail_locked(error.what());
    return 0;
  }
}

bool XensndPcm::wait_for_progress_unlocked(std::unique_lock<std::mutex>& lock,
                                           std::chrono::milliseconds timeout) {
  if (notifications_held_locked()) {
    // A notification held as readiness would end this sleep at once: take it, and let the
    // caller look at what it announced first.
    if (take_held_notifications_locked() > 0 || disconnected_) return true;
  }
  pollfd fds[2] = {{stream_->poll_fd(), POLLIN, 0}, {card_->watch_fd(), POLLIN, 0}};
  lock.unlock();
  const int ready = ::poll(fds, 2, static_cast<int>(std::max<long>(timeout.count(), 1)));
  const int poll_errno = errno;
  lock.lock();
  if (ready > 0 && fds[0].revents) {
    last_process_ = Clock::time_point{};
    hold_notifications_locked();
  }
  if (ready > 0 && fds[1].revents) check_watch_locked(Clock::now());
  if (ready < 0 && poll_errno == EINTR) return false;
  return ready > 0;
}

// --- Callbacks ---

snd_pcm_sframes_t XensndPcm::pointer() {
  std::lock_guard lock(mutex_);
  if (forked()) {
    snd_pcm_ioplug_set_state(&io_, SND_PCM_STATE_DISCONNECTED);
    return static_cast<snd_pcm_sframes_t>(ledger_.hw_pointer());
  }
  // ioplug calls this several times a wake-up (avail, transfer, avail again): one clock
  // reading for all it does, poll_revents()'s when it called us.
  Clock::time_point now;
  if (revents_reading_ && *revents_reading_ >= last_pointer_reading_)
    now = *revents_reading_;
  else
    now = Clock::now();
  revents_reading_.reset();
  last_pointer_reading_ = now;
  update_locked(now);
  update_readiness_locked();
  // A real underrun (everything written has been played) or overrun (the buffer is full).
  if (!disconnected_ && io_.state == SND_PCM_STATE_RUNNING && ledger_.xrun(now)) return -EPIPE;
  return static_cast<snd_pcm_sframes_t>(ledger_.hw_pointer());
}

snd_pcm_sframes_t XensndPcm::transfer(const snd_pcm_channel_area_t* areas, snd_pcm_uframes_t offset,
                                      snd_pcm_uframes_t size) {
  std::unique_lock lock(mutex_);
  if (forked() || disconnected_) return -ENODEV;
  if (!stream_->is_open() || frame_bytes_ == 0 || buffer_frames_ == 0) return -EBADFD;
  if (size > buffer_frames_) return -EINVAL;
  const std::span<std::byte> shared = stream_->buffer();
  if (shared.size() < buffer_frames_ * frame_bytes_) return -EIO;

  // The shared buffer mirrors ALSA's ring: frame n of the stream sits at n % buffer_size.
  // `offset` indexes `areas` (the application's buffer for RW access, ioplug's ring for
  // MMAP); the position in the ring is always the application pointer.
  const unsigned channels = io_.channels;
  const unsigned sample_bits = frame_bytes_ * 8 / channels;
  snd_pcm_channel_area_t shared_areas[channels];
  for (unsigned c = 0; c < channels; ++c)
    shared_areas[c] = {shared.data(), c * sample_bits, frame_bytes_ * 8};

  sync_appl_locked();
  const uint64_t ring = ledger_.appl() % buffer_frames_;
  const uint64_t first = std::min<uint64_t>(size, buffer_frames_ - ring);
  const auto copy = [&](bool to_shared, uint64_t ring_at, uint64_t area_at, uint64_t frames) {
    if (to_shared)
      snd_pcm_areas_copy(shared_areas, ring_at, areas, area_at, channels, frames, io_.format);
    else
      snd_pcm_areas_copy(areas, area_at, shared_areas, ring_at, channels, frames, io_.format);
  };
  const bool mmap_access = io_.access != SND_PCM_ACCESS_RW_INTERLEAVED && io_.access != SND_PCM_ACCESS_RW_NONINTERLEAVED;
  if (!playback() && mmap_access && offset == ring) {
    // MMAP capture: ioplug asks for the contiguous region mmap_begin will return, but a client
    // may read every available frame straight from the ring, wrapping past its end (PipeWire
    // does, as a kernel PCM's ring is the device buffer): fill all of them, in place.
    const uint64_t avail = std::min<uint64_t>(ledger_.avail(), buffer_frames_);
    const uint64_t head = std::min<uint64_t>(avail, buffer_frames_ - ring);
    copy(false, ring, ring, head);
    if (head < avail) copy(false, 0, 0, avail - head);
    return static_cast<snd_pcm_sframes_t>(size);
  }
  copy(playback(), ring, offset, first);
  if (first < size) copy(playback(), 0, offset + first, size - first);
  if (!playback()) {
    // RW access: ioplug moves appl_ptr by what we return; count it now, so that readiness
    // says "not ready" once the application took what there was. (With MMAP access ioplug
    // calls transfer() from avail_update and the application commits later.)
    if (io_.access == SND_PCM_ACCESS_RW_INTERLEAVED || io_.access == SND_PCM_ACCESS_RW_NONINTERLEAVED) {
      ledger_.advance_appl(size);
      update_readiness_locked();
    }
    return static_cast<snd_pcm_sframes_t>(size);
  }

  // ioplug moves appl_ptr after we return; count the frames now.
  ledger_.advance_appl(size);
  try {
    const Clock::time_point now = Clock::now();
    process_events_locked(now);
    send_requests_locked(now);
    // Wait for ring space (never for responses) when the ring is full; non-blocking
    // applications leave the rest to the next poll.
    const auto deadline = now + options_.response_timeout;
    while (!io_.nonblock && ledger_.unsent() && stream_->free_slots() == 0 && !disconnected_) {
      if (Clock::now() >= deadline)
        throw BackendGoneError("the backend answered no request for " +
                               std::to_string(options_.response_timeout.count()) + " ms");
      // Only an answer frees a slot: have it notified, and take those already there.
      if (!stream_->arm_response_notification()) wait_for_progress_unlocked(lock, std::chrono::milliseconds(100));
      if (disconnected_) break;
      stream_->process();
      send_requests_locked(Clock::now());
    }
    // A poller sleeping on our fd next must be woken by the answer it may need.
    arm_responses_if_waiting_locked();
  } catch (const BackendGoneError& error) {
    return fail_locked(error.what());
  }
  if (disconnected_) return -ENODEV;
  update_readiness_locked();
  return static_cast<snd_pcm_sframes_t>(size);
}

int XensndPcm::drain() {
  std::unique_lock lock(mutex_);
  if (forked() || disconnected_) return -ENODEV;
  if (!playback()) {
    stop_locked();
    return 0;
  }
  if (!stream_->is_open()) return 0;
  sync_appl_locked();
  if (ledger_.appl() == 0) return 0;
  // With a drain callback ioplug does not start a PREPARED stream itself.
  if (!backend_running_) start_locked();
  if (paused_) {
    stream_->trigger(Trigger::kResume);
    paused_ = false;
    ledger_.pause(false, Clock::now());
  }
  // What is left to play, a buffer the backend's device may hold at most (positions may lag
  // what it took), and the time to answer.
  const auto deadline = Clock::now() + duration_of(ledger_.appl() - std::min(ledger_.played(), ledger_.appl())) +
                        duration_of(buffer_frames_) + std::chrono::milliseconds(100) + options_.response_timeout;
  for (;;) {
    const Clock::time_point now = Clock::now();
    if (!update_locked(now)) return -ENODEV;
    if (ledger_.drained(completed_bytes(), now)) {
      ledger_.mark_drained();
      return 0;
    }
    if (io_.nonblock == 2) return -EINTR;  // snd_pcm_abort()
    if (io_.nonblock) {
      // Completion is reported through poll: make sure a wake-up comes soon after it.
      arm_drain_wakeup_locked();
      return -EAGAIN;
    }
    if (now >= deadline) {
      SNDERR("xensnd: %s: drain timed out with %lu frames not confirmed played",
             config_->xenstore_path.c_str(),
             static_cast<unsigned long>(ledger_.appl() - std::min(ledger_.played(), ledger_.appl())));
      return -EIO;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    const auto step = std::min<std::chrono::milliseconds>(
        left, std::max(std::chrono::duration_cast<std::chrono::milliseconds>(duration_of(period_frames_)),
                       std::chrono::milliseconds(5)));
    if (!wait_for_progress_unlocked(lock, step) && io_.nonblock == 2) return -EINTR;
  }
}

int XensndPcm::poll_descriptors(pollfd* fds, unsigned space) {
  std::lock_guard lock(mutex_);
  if (space < kPollFds) return -EINVAL;
  fds[0] = {stream_->poll_fd(), POLLIN, 0};
  fds[1] = {card_->watch_fd(), POLLIN, 0};
  fds[2] = {timer_fd_.get(), POLLIN, 0};
  return kPollFds;
}

int XensndPcm::poll_revents(pollfd* fds, unsigned nfds, unsigned short* revents) {
  {
    std::lock_guard lock(mutex_);
    if (forked()) {
      *revents = POLLERR;
      return 0;
    }
    // Read or re-set by the readiness update below, never both.
    if (nfds >= 3 && fds[2].revents) timer_fired_ = true;
    const Clock::time_point now = Clock::now();
    if (nfds >= 2) {
      // The poller just looked at the watch: update_locked() need not look again for a while.
      last_watch_check_ = now;
      if (fds[1].revents && !disconnected_) check_watch_locked(now);
    }
    // What woke the poller is consumed now, whatever the last burst did. Woken by the
    // timer alone, the event channel had nothing: reading it to learn that would cost a
    // system call, and every notified event and response wakes the poller through it.
    // But a capture stream is pumped at least once a watchdog interval whatever woke us:
    // that is where its overdue READs are found, and a capture stream whose backend died
    // sends nothing else that would ever wake the poller through the event channel. (A
    // playback stream whose backend went silent is found by the ledger's stall rule, which
    // needs no pump: no position moved and no answer was taken.)
    // Half an interval: ticks come an interval apart, a little less as measured when the
    // last one woke us late, and a tick found not due (which counts as a look) would push
    // the next look a whole interval further: a dead backend was then reported ticks late.
    const bool pump_due = !playback() && now - last_process_ >= std::chrono::nanoseconds(kWatchdogNs / 2);
    if (nfds >= 1) last_process_ = fds[0].revents || pump_due ? Clock::time_point{} : now;
    if (nfds >= 1 && fds[0].revents) hold_notifications_locked();
    revents_reading_ = now;
  }
  // Consumes responses and events through pointer(); also ends a non-blocking drain.
  const snd_pcm_sframes_t avail = snd_pcm_avail_update(io_.pcm);
  const snd_pcm_state_t state = snd_pcm_state(io_.pcm);
  const unsigned short ready_event = playback() ? POLLOUT : POLLIN;
  std::lock_guard lock(mutex_);
  revents_reading_.reset();  // for that call only: not for a later one
  // The state may have changed after pointer() (an xrun): the fd's level follows it.
  update_readiness_locked(state);
  if (timer_fired_ && timer_mode_ != TimerMode::kReady) drain_timer();
  switch (state) {
    case SND_PCM_STATE_XRUN:
    case SND_PCM_STATE_DISCONNECTED:
    case SND_PCM_STATE_SUSPENDED:
      *revents = POLLERR | ready_event;
      return 0;
    case SND_PCM_STATE_RUNNING:
    case SND_PCM_STATE_PREPARED:
    case SND_PCM_STATE_PAUSED:
      // As hw: ready with room (playback) or data (capture), never POLLERR for a pause.
      *revents = avail >= static_cast<snd_pcm_sframes_t>(avail_min_) ? ready_event : 0;
      break;
    case SND_PCM_STATE_SETUP:  // a (non-blocking) drain finished
      *revents = ready_event;
      break;
    default:
      *revents = 0;
      break;
  }
  if (avail < 0) *revents = POLLERR | ready_event;
  return 0;
}

int XensndPcm::delay(snd_pcm_sframes_t* delay) {
  std::lock_guard lock(mutex_);
  if (forked() || disconnected_) return -ENODEV;
  const Clock::time_point now = Clock::now();
  update_locked(now);
  if (disconnected_) return -ENODEV;
  if (io_.state == SND_PCM_STATE_XRUN) return -EPIPE;
  *delay = static_cast<snd_pcm_sframes_t>(ledger_.delay(now) + options_.delay_frames);
  return 0;
}

}  // namespace xensnd::plugin
