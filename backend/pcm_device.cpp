#include "backend/pcm_device.h"

#include <algorithm>
#include <vector>

#include "backend/xen_status.h"
#include "protocol/sndif_abi.h"

namespace xensnd::backend {

PcmDevice::PcmDevice(const Setup& setup, std::unique_ptr<PlaybackSink> sink, std::unique_ptr<CaptureSource> source,
                     LoopbackBus* loopback, LoopbackBus::StreamKey loopback_key, Log& log)
    : setup_(setup),
      sink_(std::move(sink)),
      source_(std::move(source)),
      loopback_(loopback),
      loopback_key_(loopback_key),
      log_(log),
      volume_(setup.params.channels),
      clock_(setup.params.rate, setup.free_run) {
  const uint32_t frame = setup.params.frame_bytes();
  uint64_t capacity = std::max(setup.fifo_bytes, setup.params.period_bytes);
  // A record stream delivered in bursts also holds what arrives with a burst (PulseAudio
  // keeps it for the client: snd_be hands it out over the following READs).
  if (setup.type == StreamType::kCapture && setup.capture_burst_ms > 0)
    capacity += uint64_t{setup.params.rate} * setup.capture_burst_ms / 1000 * frame;
  fifo_capacity_ = capacity - capacity % frame;
}

int64_t PcmDevice::period_ns() const {
  const uint64_t frames = setup_.params.period_bytes / setup_.params.frame_bytes();
  return static_cast<int64_t>(std::max<uint64_t>(frames * 1'000'000'000u / setup_.params.rate, 1));
}

void PcmDevice::resume_clock(int64_t now_ns) {
  clock_.anchor(now_ns);
  next_burst_ns_ = now_ns + int64_t{setup_.capture_burst_ms} * 1'000'000;
  next_timer_report_ns_ = now_ns + period_ns();
}

PcmDevice::~PcmDevice() {
  if (loopback_) loopback_->set_owing(loopback_key_, false);
}

void PcmDevice::update_owing() {
  // A loopback recording this stream waits for frames it will play; silence once it will not.
  if (loopback_) loopback_->set_owing(loopback_key_, state_ == State::kRunning && !stalled_ && !fifo_.empty());
}

size_t PcmDevice::accept(std::span<const std::byte> frames) {
  size_t n = std::min(frames.size(), fifo_room());
  n -= n % setup_.params.frame_bytes();
  fifo_.insert(fifo_.end(), frames.begin(), frames.begin() + static_cast<std::ptrdiff_t>(n));
  written_total_ += n;
  update_owing();
  return n;
}

size_t PcmDevice::deliver(std::span<std::byte> out) {
  if (setup_.free_run && state_ == State::kRunning) {
    // Free-run capture records on demand: the request's size is what is "due".
    std::vector<std::byte> recorded(out.size());
    source_->capture(recorded);
    fifo_.insert(fifo_.end(), recorded.begin(), recorded.end());
    advance_position(recorded.size());
  }
  size_t n = std::min(out.size(), fifo_.size());
  std::copy_n(fifo_.begin(), n, out.begin());
  fifo_.erase(fifo_.begin(), fifo_.begin() + static_cast<std::ptrdiff_t>(n));
  volume_.apply(setup_.params, out.first(n));
  return n;
}

int32_t PcmDevice::trigger(uint8_t type, int64_t now_ns) {
  const int32_t status = apply_trigger(type, now_ns);
  update_owing();
  return status;
}

int32_t PcmDevice::apply_trigger(uint8_t type, int64_t now_ns) {
  switch (type) {
    case XENSND_OP_TRIGGER_START:
      // As snd_be: a second START without STOP in between is refused.
      if (state_ != State::kStopped) return kStatusBusy;
      state_ = State::kRunning;
      resume_clock(now_ns);
      if (setup_.stall_after_ms && !stall_at_ns_) stall_at_ns_ = now_ns + int64_t{*setup_.stall_after_ms} * 1'000'000;
      // Started with nothing to play: the device waits for data (counted only once it ran).
      starved_ = setup_.type == StreamType::kPlayback && fifo_.empty();
      return 0;
    case XENSND_OP_TRIGGER_PAUSE:
      if (state_ != State::kRunning) return kStatusInvalid;
      tick(now_ns);
      state_ = State::kPaused;
      ran_dry_ = false;  // paused at the end of its data: not an underrun
      return 0;
    case XENSND_OP_TRIGGER_RESUME:
      if (state_ != State::kPaused) return kStatusInvalid;
      state_ = State::kRunning;
      resume_clock(now_ns);
      starved_ = setup_.type == StreamType::kPlayback && fifo_.empty();
      return 0;
    case XENSND_OP_TRIGGER_STOP:
      if (state_ == State::kRunning) tick(now_ns);
      // Like ALSA's drop: what was not played is discarded.
      state_ = State::kStopped;
      fifo_.clear();
      held_.clear();
      starved_ = false;
      ran_dry_ = false;  // a drained stream that stops is not an underrun
      if (setup_.position_after_stop == PositionAfterStop::kRestart) {
        position_ = 0;
        reported_periods_ = 0;
        report_pending_ = false;
      }
      return 0;
    default:
      return kStatusInvalid;
  }
}

void PcmDevice::tick(int64_t now_ns) {
  if (state_ != State::kRunning) return;
  auto run_device = [&](int64_t until_ns) {
    if (setup_.type == StreamType::kPlayback)
      play_due(until_ns);
    else
      record_due(until_ns);
  };
  if (!stalled_ && stall_at_ns_ && now_ns >= *stall_at_ns_) {
    run_device(*stall_at_ns_);
    stalled_ = true;
    next_timer_report_ns_ = *stall_at_ns_ + period_ns();
    log_.warning(setup_.name, ": the device stalls at position ", position_,
                 " (--stall-after): positions stop moving, READ/WRITE are no longer answered");
  }
  if (!stalled_) run_device(now_ns);
  update_owing();
  if (timer_reports() && now_ns >= next_timer_report_ns_) {
    // One report however many ticks were missed; the schedule keeps its phase.
    report_pending_ = true;
    const int64_t period = period_ns();
    next_timer_report_ns_ += ((now_ns - next_timer_report_ns_) / period + 1) * period;
  }
}

void PcmDevice::play_due(int64_t now_ns) {
  const uint32_t frame = setup_.params.frame_bytes();
  if (starved_) {
    if (fifo_.empty()) return;
    // Data again after running dry: the device restarts from now, as ALSA after recovery.
    // What was written before this data is where audio-timestamp positions now start
    // (snd_be's frames-written-before-the-last-underrun).
    starved_ = false;
    clock_.anchor(now_ns);
    underrun_base_ = written_total_ - fifo_.size();
    if (ran_dry_) {
      // Data after running dry: that was an underrun (a stream that stops instead had ended).
      ran_dry_ = false;
      ++underruns_;
      log_.warning(setup_.name, ": underrun #", underruns_, " at position ", ran_dry_at_,
                   " (the frontend did not write in time)");
    }
  }
  uint64_t due_frames = clock_.frames_due(now_ns);
  uint64_t have_frames = fifo_.size() / frame;
  uint64_t frames = std::min(due_frames, have_frames);
  if (frames > 0) {
    std::vector<std::byte> played(fifo_.begin(), fifo_.begin() + static_cast<std::ptrdiff_t>(frames * frame));
    fifo_.erase(fifo_.begin(), fifo_.begin() + static_cast<std::ptrdiff_t>(played.size()));
    clock_.take(frames);
    volume_.apply(setup_.params, played);
    if (!sink_failed_) {
      try {
        sink_->play(played);
      } catch (const std::exception& e) {
        // The stream keeps its timing; the failure is reported once, loudly.
        sink_failed_ = true;
        log_.error(setup_.name, ": sink failed, further frames are discarded: ", e.what());
      }
    }
    if (loopback_) loopback_->publish(loopback_key_, played);
    advance_position(played.size());
  }
  if (!setup_.free_run && !draining_ && due_frames > have_frames) {
    // Dry: the end of a drained stream (STOP or CLOSE follows) or an underrun (more data
    // follows); which one is known only by what comes next.
    starved_ = true;
    ran_dry_ = true;
    ran_dry_at_ = position_;
    log_.debug(setup_.name, ": ran dry at position ", position_);
  }
}

void PcmDevice::record_due(int64_t now_ns) {
  if (setup_.free_run) return;  // recorded on demand in deliver()
  if (setup_.capture_burst_ms == 0) {
    record_into(fifo_, now_ns);
    return;
  }
  // Recorded at the rate (positions say so), handed over only at each burst time.
  while (now_ns >= next_burst_ns_) {
    record_into(held_, next_burst_ns_);
    release_burst();
    next_burst_ns_ += int64_t{setup_.capture_burst_ms} * 1'000'000;
  }
  record_into(held_, now_ns);
}

void PcmDevice::record_into(std::deque<std::byte>& into, int64_t until_ns) {
  const uint32_t frame = setup_.params.frame_bytes();
  const uint64_t due = clock_.frames_due(until_ns);
  awaiting_source_ = false;
  if (due == 0) return;
  // Frames a loopback's playback thread still owes are recorded when they come (the next
  // tick, soon: next_deadline()), not replaced by silence.
  const uint64_t frames = std::min<uint64_t>(due, source_->ready_bytes(due * frame) / frame);
  awaiting_source_ = frames < due;
  if (awaiting_source_) awaiting_since_ns_ = until_ns;
  if (frames == 0) return;
  clock_.take(frames);
  advance_position(frames * frame);
  // Recorded a FIFO's worth at a time: after a stall (the process stopped, a debugger, a
  // paused VM) the device owes all the audio of the stall, an hour of it 691 MB at 48 kHz
  // stereo S16, and what does not fit in the FIFO (or, for bursts, in what one burst may
  // hold) is an overrun anyway. The source still gives every frame, so it stays in time.
  const bool held = &into == &held_;
  const size_t chunk_bytes = std::max<size_t>(fifo_capacity_, frame);
  std::vector<std::byte> chunk;
  size_t remaining = frames * frame, lost = 0;
  while (remaining > 0) {
    chunk.resize(std::min(remaining, chunk_bytes));
    source_->capture(chunk);
    const size_t room = held ? fifo_capacity_ - std::min(held_.size(), fifo_capacity_) : fifo_room();
    size_t keep = std::min(chunk.size(), room);
    keep -= keep % frame;
    into.insert(into.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(keep));
    lost += chunk.size() - keep;
    remaining -= chunk.size();
  }
  if (lost > 0) {
    ++overruns_;
    log_.warning(setup_.name, ": overrun #", overruns_, ", ", lost,
                 " recorded bytes lost (the frontend did not read in time)");
  }
}

void PcmDevice::release_burst() {
  const uint32_t frame = setup_.params.frame_bytes();
  size_t keep = std::min(held_.size(), fifo_room());
  keep -= keep % frame;
  fifo_.insert(fifo_.end(), held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(keep));
  if (keep < held_.size()) {
    ++overruns_;
    log_.warning(setup_.name, ": overrun #", overruns_, ", ", held_.size() - keep,
                 " recorded bytes lost (the frontend did not read in time)");
  }
  held_.clear();
}

void PcmDevice::advance_position(uint64_t bytes) {
  position_ += bytes;
  uint64_t periods = position_ / setup_.params.period_bytes;
  if (periods > reported_periods_) {
    reported_periods_ = periods;
    if (!timer_reports()) report_pending_ = true;
  }
}

uint64_t PcmDevice::reported_position() const {
  if (setup_.positions == PositionSource::kAudioTimestamp)
    return starved_ ? written_total_ : underrun_base_;  // capture writes nothing: always 0
  return position_;
}

std::optional<uint64_t> PcmDevice::take_position_report() {
  if (!report_pending_) return std::nullopt;
  report_pending_ = false;
  return reported_position();
}

std::optional<int64_t> PcmDevice::next_deadline() const {
  if (state_ != State::kRunning) return std::nullopt;
  std::optional<int64_t> earliest;
  auto consider = [&](int64_t t) { earliest = earliest ? std::min(*earliest, t) : t; };
  if (stall_at_ns_ && !stalled_) consider(*stall_at_ns_);
  if (timer_reports()) consider(next_timer_report_ns_);
  if (stalled_ || setup_.free_run) return earliest;
  const uint32_t frame = setup_.params.frame_bytes();
  uint64_t to_boundary = (reported_periods_ + 1) * setup_.params.period_bytes - position_;
  uint64_t frames = (to_boundary + frame - 1) / frame;
  if (setup_.type == StreamType::kPlayback) {
    if (starved_) return earliest;  // the device wakes when data arrives
    uint64_t have = fifo_.size() / frame;
    // One frame past the FIFO's end: the moment the device runs dry.
    frames = std::min(frames, have + 1);
  } else {
    if (setup_.capture_burst_ms > 0) consider(next_burst_ns_);
    // A loopback source waiting for its playback thread: look again shortly.
    if (awaiting_source_) consider(awaiting_since_ns_ + kAwaitSourceNs);
  }
  consider(clock_.time_due(std::max<uint64_t>(frames, 1)));
  return earliest;
}

}  // namespace xensnd::backend
