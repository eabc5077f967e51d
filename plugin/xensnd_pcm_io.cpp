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
// each look costs a wake-up and system calls, and 500 ms keeps a dead backend reported well
// within the position (2 s) and response (3 s) timeouts.
constexpr long kWatchdogNs = 500'000'000;
constexpr auto kWatchCheckInterval = std::chrono::milliseconds(500);
constexpr auto kProcessInterval = std::chrono::microseconds(500);

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return fd >= 0 && ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLERR | POLLHUP));
}

}  // namespace

XensndPcm::Clock::duration XensndPcm::duration_of(uint64_t frames) const {
  if (rate_ == 0) return Clock::duration::zero();
  return std::chrono::duration_cast<Clock::duration>(std::chrono::microseconds(frames * 1'000'000 / rate_));
}

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
      const uint64_t filled = playback() ? appl_ - std::min(hw_, appl_) : hw_ - std::min(appl_, hw_);
      const uint64_t avail = playback() ? buffer_frames_ - std::min(filled, buffer_frames_) : filled;
      return avail >= avail_min_;
    }
    case SND_PCM_STATE_DRAINING:
      return !playback() && hw_ > appl_;
    default:
      // XRUN, SUSPENDED, SETUP (a drain ended), DISCONNECTED: POLLERR, at once.
      return true;
  }
}

void XensndPcm::update_readiness_locked(snd_pcm_state_t state) {
  // A non-blocking playback drain paces its own wake-ups (drain()).
  if (state == SND_PCM_STATE_DRAINING && playback() && timer_mode_ == TimerMode::kCustom) return;
  const bool ready = ready_locked(state);
  const TimerMode want = ready ? TimerMode::kReady : backend_running_ ? TimerMode::kWatchdog : TimerMode::kOff;
  if (want == timer_mode_) {
    // A watchdog tick the poller saw is consumed, or the fd would stay readable.
    if (want != TimerMode::kReady && timer_fired_) drain_timer();
    return;
  }
  if (want == TimerMode::kReady && timer_fired_) {
    // Already readable (a tick nobody read): it stays so until read or re-set.
    timer_mode_ = TimerMode::kReady;
    return;
  }
  switch (want) {
    case TimerMode::kReady: set_timer(1, backend_running_ ? kWatchdogNs : 0); break;
    case TimerMode::kWatchdog: set_timer(kWatchdogNs, kWatchdogNs); break;
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

void XensndPcm::check_watch_locked() {
  last_watch_check_ = Clock::now();
  if (!card_->check_backend())
    fail_locked("the backend left the Connected state or the device was removed");
}

// --- Progress ---

void XensndPcm::sync_appl_locked() {
  if (boundary_ == 0) return;
  const snd_pcm_uframes_t raw = io_.appl_ptr;
  const snd_pcm_uframes_t forward = (raw + boundary_ - appl_raw_) % boundary_;
  if (forward > boundary_ / 2) {
    // A rewind: appl_ptr moved back. Frames already requested stay requested.
    const uint64_t back = boundary_ - forward;
    appl_ = appl_ > back ? appl_ - back : 0;
  } else {
    appl_ += forward;
  }
  appl_raw_ = raw;
}

void XensndPcm::flush_playback_locked() {
  if (!stream_->is_open() || buffer_frames_ == 0 || io_.state == SND_PCM_STATE_XRUN) return;
  // Before START the backend gets about one period: snd_be's device buffer may be smaller
  // than ours, and a full prefill can deadlock its ring thread.
  const uint64_t limit = backend_running_ ? appl_ : std::min(appl_, period_frames_);
  while (requested_ < limit && stream_->free_slots() > 0) {
    const uint64_t offset = requested_ % buffer_frames_;
    const uint64_t frames = std::min(limit - requested_, buffer_frames_ - offset);
    stream_->send_write(static_cast<uint32_t>(offset * frame_bytes_),
                        static_cast<uint32_t>(frames * frame_bytes_));
    requested_ += frames;
  }
}

void XensndPcm::issue_reads_locked() {
  if (!stream_->is_open() || !backend_running_ || paused_ || buffer_frames_ == 0 ||
      io_.state == SND_PCM_STATE_XRUN)
    return;
  // Keep the part of the buffer the application has consumed requested from the backend.
  while (requested_ + period_frames_ <= appl_ + buffer_frames_ && stream_->free_slots() > 0) {
    const uint64_t offset = requested_ % buffer_frames_;
    const uint64_t frames = std::min(period_frames_, buffer_frames_ - offset);
    stream_->send_read(static_cast<uint32_t>(offset * frame_bytes_),
                       static_cast<uint32_t>(frames * frame_bytes_));
    requested_ += frames;
  }
}

bool XensndPcm::playback_drained_locked(Clock::time_point now) const {
  if (requested_ < appl_) return false;
  if (stream_->completed_write_bytes() - done_base_bytes_ < requested_ * frame_bytes_) return false;
  const uint64_t position = frames_of(stream_->position_bytes());
  if (position >= appl_) return true;
  // CUR_POS comes once per period and may never report a last partial one: once the backend
  // took everything, wait for the rest to play out according to the clock.
  const Clock::time_point reference = std::max(stream_->position_time(), resumed_at_);
  return now >= reference + duration_of(appl_ - position) + duration_of(period_frames_);
}

void XensndPcm::process_events_locked(Clock::time_point now, bool force) {
  // One write() or read() of the application calls us several times within microseconds
  // (avail, transfer, avail again); events are consumed once per burst, which keeps the
  // steady state at a few system calls per period. poll_revents always consumes.
  if (!force && now - last_process_ < kProcessInterval) return;
  last_process_ = now;
  stream_->process();
}

bool XensndPcm::update_locked() {
  if (disconnected_) return false;
  if (!stream_->is_open()) return true;
  try {
    const Clock::time_point now = Clock::now();
    // Hot-unplug and backend state changes, for applications that never poll our fds: a
    // look every kWatchCheckInterval, not at every call once the first interval passed.
    if (now - last_watch_check_ >= kWatchCheckInterval) {
      last_watch_check_ = now;
      if (readable(card_->watch_fd())) check_watch_locked();
    }
    if (disconnected_) return false;
    process_events_locked(now);
    // A backend that died sends nothing at all: no overdue response shows it when every
    // request was answered, but a running stream without CUR_POS events does.
    if (backend_running_ && !paused_) {
      const Clock::time_point last = std::max(stream_->position_time(), resumed_at_);
      const Clock::duration allowed = std::max<Clock::duration>(
          options_.position_timeout, 4 * duration_of(period_frames_));
      if (now - last > allowed)
        throw BackendGoneError(
            "the backend reported no play/capture position for " +
            std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now - last).count()) +
            " ms while the stream was running");
    }
    advance_locked(now);
    arm_responses_if_waiting_locked();
  } catch (const BackendGoneError& error) {
    fail_locked(error.what());
    return false;
  }
  return true;
}

void XensndPcm::advance_locked(Clock::time_point now) {
  sync_appl_locked();
  if (playback()) {
    flush_playback_locked();
    if (backend_running_) {
      const uint64_t position = frames_of(stream_->position_bytes());
      hw_ = std::max(hw_, std::min(position, requested_));
      if (io_.state == SND_PCM_STATE_DRAINING && playback_drained_locked(now))
        hw_ = std::max(hw_, appl_);
    }
  } else {
    const uint64_t done = frames_of(stream_->completed_read_bytes() - done_base_bytes_);
    hw_ = std::max(hw_, std::min(done, requested_));
    issue_reads_locked();
  }
}

bool XensndPcm::waiting_for_responses_locked() const {
  if (disconnected_ || !stream_->is_open() || stream_->in_flight() == 0) return false;
  // Capture: READ answers are the data. Drain: it ends when the WRITEs are answered.
  if (!playback()) return backend_running_ && !paused_;
  if (io_.state == SND_PCM_STATE_DRAINING) return true;
  // Playback otherwise moves with CUR_POS, whose event wakes pollers once a period, and
  // answers are consumed then — unless frames wait for a ring slot only an answer frees.
  const uint64_t limit = backend_running_ ? appl_ : std::min(appl_, period_frames_);
  return requested_ < limit && stream_->free_slots() == 0;
}

void XensndPcm::arm_responses_if_waiting_locked() {
  // The backend notifies a response only when asked (Stream::arm_response_notification);
  // ask before the application can sleep on our poll fd waiting for one.
  for (int pass = 0; pass < 4; ++pass) {
    if (!waiting_for_responses_locked() || !stream_->arm_response_notification()) return;
    // Answered before the request took effect: nothing will notify these. Take them now.
    last_process_ = Clock::now();
    stream_->process();
    advance_locked(last_process_);
  }
  // Still answering as fast as we look: let the poller come straight back.
  last_process_ = Clock::time_point{};
  set_timer(1, backend_running_ ? kWatchdogNs : 0);
}

bool XensndPcm::wait_for_progress_unlocked(std::unique_lock<std::mutex>& lock,
                                           std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{stream_->poll_fd(), POLLIN, 0}, {card_->watch_fd(), POLLIN, 0}};
  lock.unlock();
  const int ready = ::poll(fds, 2, static_cast<int>(std::max<long>(timeout.count(), 1)));
  const int poll_errno = errno;
  lock.lock();
  if (ready > 0 && fds[0].revents) last_process_ = Clock::time_point{};
  if (ready > 0 && fds[1].revents) check_watch_locked();
  if (ready < 0 && poll_errno == EINTR) return false;
  return ready > 0;
}

// --- Callbacks ---

snd_pcm_sframes_t XensndPcm::pointer() {
  std::lock_guard lock(mutex_);
  if (forked()) {
    snd_pcm_ioplug_set_state(&io_, SND_PCM_STATE_DISCONNECTED);
    return static_cast<snd_pcm_sframes_t>(boundary_ ? hw_ % boundary_ : 0);
  }
  update_locked();
  update_readiness_locked();
  uint64_t reported = playback() ? std::min(hw_, appl_) : hw_;
  if (!disconnected_ && io_.state == SND_PCM_STATE_RUNNING && stop_threshold_ > 0) {
    // A real underrun (everything written has been played) or overrun (the buffer is full).
    const uint64_t filled = playback() ? appl_ - reported : reported - std::min(appl_, reported);
    const uint64_t avail = playback() ? buffer_frames_ - std::min(filled, buffer_frames_) : filled;
    if (avail >= stop_threshold_) return -EPIPE;
  }
  if (boundary_ == 0) return static_cast<snd_pcm_sframes_t>(reported % std::max<uint64_t>(buffer_frames_, 1));
  return static_cast<snd_pcm_sframes_t>(reported % boundary_);
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
  const uint64_t ring = appl_ % buffer_frames_;
  const uint64_t first = std::min<uint64_t>(size, buffer_frames_ - ring);
  const auto copy = [&](bool to_shared, uint64_t ring_at, uint64_t area_at, uint64_t frames) {
    if (to_shared)
      snd_pcm_areas_copy(shared_areas, ring_at, areas, area_at, channels, frames, io_.format);
    else
      snd_pcm_areas_copy(areas, area_at, shared_areas, ring_at, channels, frames, io_.format);
  };
  copy(playback(), ring, offset, first);
  if (first < size) copy(playback(), 0, offset + first, size - first);
  if (!playback()) {
    // RW access: ioplug moves appl_ptr by what we return; count it now, so that readiness
    // says "not ready" once the application took what there was. (With MMAP access ioplug
    // calls transfer() from avail_update and the application commits later.)
    if (io_.access == SND_PCM_ACCESS_RW_INTERLEAVED || io_.access == SND_PCM_ACCESS_RW_NONINTERLEAVED) {
      appl_ += size;
      appl_raw_ = boundary_ ? (appl_raw_ + size) % boundary_ : appl_raw_ + size;
      update_readiness_locked();
    }
    return static_cast<snd_pcm_sframes_t>(size);
  }

  // ioplug moves appl_ptr after we return; count the frames now.
  appl_ += size;
  appl_raw_ = boundary_ ? (appl_raw_ + size) % boundary_ : appl_raw_ + size;
  try {
    process_events_locked(Clock::now());
    flush_playback_locked();
    // Wait for ring space (never for responses) when the ring is full; non-blocking
    // applications leave the rest to the next poll.
    const uint64_t limit = backend_running_ ? appl_ : std::min(appl_, period_frames_);
    const auto deadline = Clock::now() + options_.response_timeout;
    while (!io_.nonblock && requested_ < limit && stream_->free_slots() == 0 && !disconnected_) {
      if (Clock::now() >= deadline)
        throw BackendGoneError("the backend answered no request for " +
                               std::to_string(options_.response_timeout.count()) + " ms");
      // Only an answer frees a slot: have it notified, and take those already there.
      if (!stream_->arm_response_notification()) wait_for_progress_unlocked(lock, std::chrono::milliseconds(100));
      if (disconnected_) break;
      stream_->process();
      flush_playback_locked();
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
  if (appl_ == 0) return 0;
  // With a drain callback ioplug does not start a PREPARED stream itself.
  if (!backend_running_) start_locked();
  if (paused_) {
    stream_->trigger(Trigger::kResume);
    paused_ = false;
    resumed_at_ = Clock::now();
  }
  const auto deadline = Clock::now() + duration_of(appl_ - std::min(hw_, appl_)) +
                        std::chrono::milliseconds(100) + options_.response_timeout;
  for (;;) {
    if (!update_locked()) return -ENODEV;
    const Clock::time_point now = Clock::now();
    if (playback_drained_locked(now)) {
      hw_ = std::max(hw_, appl_);
      return 0;
    }
    if (io_.nonblock == 2) return -EINTR;  // snd_pcm_abort()
    if (io_.nonblock) {
      // Completion is reported through poll: make sure a wake-up comes soon after it.
      set_timer(std::max<long>(duration_of(period_frames_).count(), 1'000'000), kWatchdogNs);
      return -EAGAIN;
    }
    if (now >= deadline) {
      SNDERR("xensnd: %s: drain timed out with %lu frames not confirmed played",
             config_->xenstore_path.c_str(), static_cast<unsigned long>(appl_ - std::min(hw_, appl_)));
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
      if (fds[1].revents && !disconnected_) check_watch_locked();
    }
    // What woke the poller is consumed now, whatever the last burst did. Woken by the
    // timer alone, the event channel had nothing: reading it to learn that would cost a
    // system call, and every notified event and response wakes the poller through it.
    if (nfds >= 1) last_process_ = fds[0].revents ? Clock::time_point{} : now;
  }
  // Consumes responses and events through pointer(); also ends a non-blocking drain.
  const snd_pcm_sframes_t avail = snd_pcm_avail_update(io_.pcm);
  const snd_pcm_state_t state = snd_pcm_state(io_.pcm);
  const unsigned short ready_event = playback() ? POLLOUT : POLLIN;
  std::lock_guard lock(mutex_);
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
  update_locked();
  if (disconnected_) return -ENODEV;
  if (io_.state == SND_PCM_STATE_XRUN) return -EPIPE;
  int64_t frames = 0;
  if (playback()) {
    uint64_t played = std::min(hw_, appl_);
    if (backend_running_ && rate_ > 0) {
      // Last CUR_POS plus the time since, frozen while paused, never past what was requested.
      const Clock::time_point until = paused_ ? paused_at_ : Clock::now();
      const Clock::time_point since = std::max(stream_->position_time(), resumed_at_);
      if (until > since) {
        const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(until - since);
        const uint64_t extra = std::min<uint64_t>(
            static_cast<uint64_t>(elapsed.count()) * rate_ / 1'000'000, period_frames_);
        played = std::min(std::max(played, frames_of(stream_->position_bytes()) + extra),
                          std::min(requested_, appl_));
      }
    }
    frames = static_cast<int64_t>(appl_ - std::min(played, appl_));
  } else {
    frames = static_cast<int64_t>(hw_ - std::min(appl_, hw_));
  }
  *delay = static_cast<snd_pcm_sframes_t>(frames + options_.delay_frames);
  return 0;
}

}  // namespace xensnd::plugin
