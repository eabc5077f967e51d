#include "plugin/frame_ledger.h"

#include <algorithm>

namespace xensnd::plugin {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

void FrameLedger::configure(const Software& software) {
  software_ = software;
  if (software_.avail_min == 0) software_.avail_min = 1;
}

uint64_t FrameLedger::capture_grain(uint64_t period_frames, uint32_t rate, uint64_t floor_frames) {
  constexpr uint64_t kGrainsPerPeriod = 16, kMinFrames = 64;
  const uint64_t floor = std::max({kMinFrames, uint64_t{rate} / 1000, floor_frames});
  return std::min(period_frames, std::max(period_frames / kGrainsPerPeriod, floor));
}

FrameLedger::Clock::duration FrameLedger::duration_of(uint64_t frames) const {
  if (setup_.rate == 0) return Clock::duration::zero();
  return duration_cast<Clock::duration>(microseconds(frames * 1'000'000 / setup_.rate));
}

// --- Lifecycle ---

void FrameLedger::prepare(uint64_t appl_raw, uint64_t done_base_bytes, Clock::time_point now) {
  appl_ = 0;
  appl_raw_ = appl_raw;
  requested_ = silence_sent_ = hw_ = played_ = 0;
  done_base_bytes_ = done_base_bytes;
  completed_frames_ = completed_device_frames_ = position_frames_ = anchor_frames_ = 0;
  capture_lag_ = asked_late_until_ = capture_anchor_frames_ = 0;
  running_ = paused_ = false;
  resumed_at_ = paused_at_ = anchor_at_ = progress_at_ = observed_at_ = capture_anchor_at_ = now;
}

void FrameLedger::start(Clock::time_point now) {
  running_ = true;
  paused_ = false;
  anchor_frames_ = position_frames_;
  capture_anchor_frames_ = completed_frames_;
  resumed_at_ = anchor_at_ = progress_at_ = started_at_ = observed_at_ = capture_anchor_at_ = now;
}

void FrameLedger::stop() {
  running_ = false;
  paused_ = false;
}

void FrameLedger::pause(bool enable, Clock::time_point now) {
  if (!running_ || enable == paused_) return;
  if (enable) {
    paused_at_ = now;
    paused_ = true;
  } else {
    // Interpolation and the stall clock go on from where the pause froze them.
    const Clock::duration frozen = now - paused_at_;
    anchor_at_ += frozen;
    progress_at_ += frozen;
    observed_at_ += frozen;
    started_at_ += frozen;
    capture_anchor_at_ += frozen;
    resumed_at_ = now;
    paused_ = false;
  }
}

// --- The application's side ---

void FrameLedger::sync_appl(uint64_t raw) {
  const uint64_t boundary = software_.boundary;
  if (boundary == 0) return;
  const uint64_t forward = (raw + boundary - appl_raw_) % boundary;
  if (forward > boundary / 2) {
    // A rewind: appl_ptr moved back. Frames already requested stay requested.
    const uint64_t back = boundary - forward;
    appl_ = appl_ > back ? appl_ - back : 0;
  } else {
    appl_ += forward;
  }
  appl_raw_ = raw;
}

void FrameLedger::advance_appl(uint64_t frames) {
  appl_ += frames;
  appl_raw_ = software_.boundary ? (appl_raw_ + frames) % software_.boundary : appl_raw_ + frames;
}

// --- Requests ---

uint64_t FrameLedger::write_limit() const {
  return running_ ? appl_ : std::min(appl_, setup_.period_frames);
}

std::optional<FrameLedger::Region> FrameLedger::next_request(Clock::time_point now) const {
  const uint64_t buffer = setup_.buffer_frames;
  if (buffer == 0 || setup_.frame_bytes == 0) return std::nullopt;
  const uint64_t offset = requested_ % buffer;
  uint64_t frames = 0;
  if (setup_.playback) {
    // The run's leading silence goes first, ahead of every frame of the ring: with the first
    // frame, or at START (an open that never plays sends none).
    if (silence_sent_ < lead_silence() && (running_ || write_limit() > requested_)) {
      const uint64_t silence = std::min(lead_silence() - silence_sent_, setup_.silence_frames);
      return Region{0, static_cast<uint32_t>(silence * setup_.frame_bytes), silence, true};
    }
    const uint64_t limit = write_limit();
    if (requested_ >= limit) return std::nullopt;
    frames = std::min(limit - requested_, buffer - offset);
  } else {
    // Keep the part of the buffer the application has consumed requested from the backend,
    // as far as the ring's slots go.
    const uint64_t chunk = read_frames();
    if (!running_ || paused_ || requested_ + chunk > appl_ + buffer) return std::nullopt;
    // The ring's slots reach about two periods ahead. What the device recorded beyond what
    // was asked for (the application did not call for a while, or a sound server that
    // follows another clock keeps more queued) is asked for at once, in whole grains and a
    // grain short of the clock (a device started a little after us), so that avail shows
    // all of it: a follower judges its latency from avail, and resyncs for ever when part
    // of it hides in the backend's buffer.
    const uint64_t recorded = frames_since(started_at_, now);
    uint64_t want = chunk;
    if (recorded > requested_ + 2 * chunk) want = (recorded - chunk - requested_) / chunk * chunk;
    frames = std::min({want, appl_ + buffer - requested_, buffer - offset});
  }
  if (frames == 0) return std::nullopt;
  return Region{static_cast<uint32_t>(offset * setup_.frame_bytes),
                static_cast<uint32_t>(frames * setup_.frame_bytes), frames};
}

void FrameLedger::on_sent(const Region& region, Clock::time_point now) {
  if (region.silence) {
    silence_sent_ += region.frames;
    return;
  }
  if (!setup_.playback && running_ && frames_since(started_at_, now) > requested_)
    asked_late_until_ = requested_ + region.frames;
  requested_ += region.frames;
}

// --- The backend's side ---

uint64_t FrameLedger::frames_since(Clock::time_point since, Clock::time_point now) const {
  const Clock::time_point until = paused_ ? paused_at_ : now;
  if (until <= since || setup_.rate == 0) return 0;
  return static_cast<uint64_t>(duration_cast<microseconds>(until - since).count()) * setup_.rate / 1'000'000;
}

uint64_t FrameLedger::device_clock(Clock::time_point now) const {
  return anchor_frames_ + frames_since(anchor_at_, now);
}

uint64_t FrameLedger::played_by_clock(Clock::time_point now) const { return app_frames(device_clock(now)); }

uint64_t FrameLedger::app_frames(uint64_t device_frames) const {
  return device_frames - std::min(device_frames, silence_sent_);
}

uint64_t FrameLedger::lead_silence() const {
  if (!setup_.playback || setup_.silence_frames == 0) return 0;
  return transport_lead();
}

void FrameLedger::observe(uint64_t position_bytes, uint64_t completed_bytes, Clock::time_point now) {
  // Positions and completions count the run's leading silence: the clock and its anchor
  // follow the device's count; what the application's frames are is app_frames() of it.
  const uint64_t completed_device =
      frames_of(completed_bytes >= done_base_bytes_ ? completed_bytes - done_base_bytes_ : 0);
  const uint64_t completed = app_frames(completed_device);
  const uint64_t position = frames_of(position_bytes);
  if (completed_device != completed_device_frames_) progress_at_ = now;
  if (position != position_frames_) {
    progress_at_ = now;
    // A position is seen when the application next looks, up to one of its cycles after the
    // backend reported it: anchoring the clock there would put the pointer behind the device
    // by that much, and a sound server keeping a quantum queued would starve it. The clock
    // keeps its anchor while it is at or ahead of the position by no more than the device
    // can have moved since the position was not there yet (our last look), with
    // kAnchorToleranceMs for a report sent a little late. A position ahead of the clock
    // re-anchors it there; one further behind (a device that started later than our START,
    // a slower device, a re-based counter) pulls it back to the latest the device can be at,
    // not to the position itself at this look (that would put the pointer behind the device
    // by the time since the report). A clock left ahead of the device showed a sound server
    // keeping a quantum queued an emptier buffer than the device had, and the pointer then
    // only followed what the server wrote.
    const uint64_t predicted = device_clock(now);
    const uint64_t since_last_look = frames_since(observed_at_, now);
    const uint64_t tolerance = uint64_t{setup_.rate} * kAnchorToleranceMs / 1000;
    if (!running_ || position > predicted) {
      anchor_frames_ = position;
      anchor_at_ = now;
    } else if (predicted - position > since_last_look + tolerance) {
      anchor_frames_ = position;
      anchor_at_ = observed_at_;
    }
  }
  observed_at_ = now;  // a position that differs next time was sent after this
  completed_frames_ = completed;
  completed_device_frames_ = completed_device;
  position_frames_ = position;
  if (!setup_.playback) {
    hw_ = std::max(hw_, capture_pointer(completed, now));
    // How late this backend delivers (bursts): what a device produced by the clock minus what
    // arrived, learnt while the buffer has room (when full, READs wait for the application)
    // and READs are unanswered, every one of them asked for before its frames were
    // recorded: the oldest one's frames are then overdue by the backend's doing, not because
    // the plugin was not called to ask (the ring holds only about two periods of READs).
    if (running_ && avail() < setup_.buffer_frames && requested_ > completed && completed >= asked_late_until_) {
      const uint64_t produced = frames_since(started_at_, now);
      capture_lag_ = std::max(capture_lag_, produced - std::min(produced, completed));
    }
    return;
  }
  if (!running_) return;
  played_ = std::max(played_, std::min(app_frames(position), requested_));
  // Between positions, or when they lag (snd_be into a plugin device reports 0 while it
  // plays; a starved device may report nothing), the pointer moves with the clock from its
  // anchor (above): a sound server that keeps less than a period queued (PipeWire at
  // quantum 64, paplay at 5 ms) sees the room its writes make, not a period-sized staircase.
  // It never passes what the backend took (a completed WRITE was copied out: its region of
  // the shared buffer is free), and it stays a frame short of the application's pointer
  // until a position confirms the end: ioplug drops a draining stream as soon as the pointer
  // reaches it, which would cut what the device still holds. An empty buffer is judged by
  // xrun(), from the positions.
  // The lead: the device's own count when the run started with its silence (the device is
  // that far behind its count in the application's frames), the clock plus the lead without.
  const uint64_t by_clock = app_frames(device_clock(now) + transport_lead());
  uint64_t estimate = std::min({std::max(played_, by_clock), completed, requested_});
  if (played_ < appl_) estimate = std::min(estimate, appl_ - 1);
  hw_ = std::max({hw_, estimate, played_});
}

// --- What follows ---

uint64_t FrameLedger::hw_pointer() const {
  const uint64_t reported = setup_.playback ? std::min(hw_, appl_) : hw_;
  if (software_.boundary == 0) return reported % std::max<uint64_t>(setup_.buffer_frames, 1);
  return reported % software_.boundary;
}

uint64_t FrameLedger::avail() const {
  const uint64_t buffer = setup_.buffer_frames;
  if (setup_.playback) return buffer - std::min(appl_ - std::min(hw_, appl_), buffer);
  return hw_ - std::min(appl_, hw_);
}

bool FrameLedger::starved(Clock::time_point now) const {
  if (!setup_.playback || !running_ || paused_ || requested_ < appl_ || completed_frames_ < requested_) return false;
  if (positions_short_of_taken()) return false;
  return played_by_clock(now) >= appl_ + clock_slack();
}

bool FrameLedger::positions_short_of_taken() const {
  // Positions that moved in this run follow the device: one that ran dry reports all it took
  // but for a last partial period (snd_be's ALSA path reports all it was written once its
  // device underran, its PulseAudio path the stream's time). Positions left further behind
  // are a device that still holds what it took, stalled or gone with it (a backend killed
  // mid-stream): judged by the stall rule, not by the clock. An underrun reported instead
  // sent the application into recovery, whose START then waited out the response timeout on
  // a dead backend. Positions that never moved (a plugin device under snd_be) say nothing.
  return position_frames_ > 0 && completed_device_frames_ > position_frames_ + setup_.period_frames;
}

uint64_t FrameLedger::capture_pointer(uint64_t completed, Clock::time_point now) {
  const uint64_t captured = std::min(completed, requested_);
  if (!running_ || paused_) return captured;
  // While running, the pointer moves with the device's clock, held two grains behind it, and
  // never past what arrived: frames come a READ (a grain) at a time, so a pointer that
  // followed the answers jumped a grain at random points of a reader's cycle. A sound server
  // whose source follows another node's clock (a loopback, a call) keeps it at a fixed
  // delay and resyncs (skipping what it holds beyond) once the delay strays too far; a start
  // that landed within a grain of that threshold (PipeWire 0.3.65 at quantum 1024: 1792 of
  // a 1280 target, threshold 512) skipped 576 frames as soon as one grain came in just
  // before a cycle instead of just after (pw-loopback: 4 runs of 19, traced). A kernel
  // device's DMA pointer does not jitter like that.
  // The clock is anchored where an answer showed the device furthest along (the answers
  // that come late only tell that it got at least that far). Answers that fall behind it by
  // more than twice the hold-back (a slower device, a late backend, a burst) pull it back to
  // show all that came, as the pointer did before: held back then, the last frames of a
  // burst stayed out of sight for as long as the backend was late. The next timely answer
  // lifts it again.
  const uint64_t hold_back = 2 * read_frames();
  const uint64_t predicted = capture_anchor_frames_ + frames_since(capture_anchor_at_, now);
  if (completed > predicted) {
    capture_anchor_frames_ = completed;
    capture_anchor_at_ = now;
  } else if (predicted - completed > 2 * hold_back) {
    capture_anchor_frames_ = completed + hold_back;
    capture_anchor_at_ = now;
  }
  const uint64_t by_clock = capture_anchor_frames_ + frames_since(capture_anchor_at_, now);
  return std::min(captured, by_clock - std::min(by_clock, hold_back));
}

uint64_t FrameLedger::transport_lead() const { return uint64_t{setup_.rate} * kTransportLeadMs / 1000; }

uint64_t FrameLedger::clock_slack() const {
  // Positions come once a period, later on a loaded machine: two periods, at least 100 ms.
  const uint64_t floor = uint64_t{setup_.rate} / 10;
  return std::max(2 * setup_.period_frames, floor);
}

bool FrameLedger::xrun(Clock::time_point now) const {
  if (!running_ || software_.stop_threshold == 0 || setup_.buffer_frames == 0) return false;
  if (!setup_.playback) {
    if (software_.stop_threshold > setup_.buffer_frames) return false;  // the application wants none
    if (software_.stop_threshold < setup_.buffer_frames && avail() >= software_.stop_threshold) return true;
    // READs are flow-controlled: a full buffer has lost nothing yet (a backend delivering in
    // bursts fills it at once), and a buffer that is not full may still hide a loss (the
    // ring asks for only about two periods ahead: what the backend's device recorded beyond
    // waits there, and overflows its buffer). Frames are lost once a device, by the clock,
    // produced more than the application had room for, beyond the lateness this backend
    // showed and clock_slack().
    return frames_since(started_at_, now) >= appl_ + setup_.buffer_frames + capture_lag_ + clock_slack();
  }
  // Judged by what was played, not by what the backend took: a backend that copied
  // everything out is not dry until it played it.
  const uint64_t played = starved(now) ? appl_ : std::min(played_, appl_);
  const uint64_t filled = appl_ - played;
  const uint64_t avail = setup_.buffer_frames - std::min(filled, setup_.buffer_frames);
  return avail >= software_.stop_threshold;
}

bool FrameLedger::drained(uint64_t completed_bytes, Clock::time_point now) const {
  if (requested_ < appl_) return false;
  if (completed_bytes < done_base_bytes_ || app_frames(frames_of(completed_bytes - done_base_bytes_)) < requested_)
    return false;
  if (played_ >= appl_) return true;
  // CUR_POS comes once per period and may never report a last partial one, or not move at
  // all (snd_be into a plugin device): once the backend took everything, the rest plays out
  // by the clock since the position last moved (since START for positions stuck at 0), with
  // some to spare; unless positions that moved stopped well short of what it took (a device
  // holding frames does not drain, and a gone backend is found by the stall rule).
  return !positions_short_of_taken() && played_by_clock(now) >= appl_ + clock_slack();
}

FrameLedger::Clock::duration FrameLedger::stall_allowance() const {
  const Clock::duration periods = std::min<Clock::duration>(2 * duration_of(setup_.period_frames), Stall::kPeriodsCap);
  return std::max<Clock::duration>(stall_.timeout, periods);
}

std::optional<std::string> FrameLedger::stalled(Clock::time_point now) const {
  // Capture: an unanswered READ is the backend's silence, bounded by its deadline.
  if (!setup_.playback || !running_ || paused_) return std::nullopt;
  const bool holds = requested_ > played_ && !starved(now);
  if (!holds) return std::nullopt;
  const Clock::duration silent = now - progress_at_;
  if (silent <= stall_allowance()) return std::nullopt;
  return "the backend made no progress for " + std::to_string(duration_cast<milliseconds>(silent).count()) +
         " ms (position stuck at frame " + std::to_string(position_frames_) + ", no request answered) while it held " +
         std::to_string(requested_ - played_) + " frames to play";
}

int64_t FrameLedger::delay(Clock::time_point now) const {
  if (!setup_.playback) return static_cast<int64_t>(hw_ - std::min(appl_, hw_));
  uint64_t played = std::min(played_, appl_);
  if (running_) {
    // Last position plus the clock since it moved, at most a period past it (a late event,
    // not a dead backend), never past what was sent...
    const uint64_t sent = std::min(requested_, appl_);
    const uint64_t interpolated = std::min(played_by_clock(now), app_frames(position_frames_) + setup_.period_frames);
    played = std::max(played, std::min(interpolated, sent));
    // ...and, for positions that lag, no more than a buffer behind what the backend took.
    const uint64_t taken = std::min(completed_frames_, sent);
    played = std::max(played, taken - std::min(taken, setup_.buffer_frames));
  }
  return static_cast<int64_t>(appl_ - std::min(played, appl_));
}

}  // namespace xensnd::plugin
