// FrameLedger: the frame bookkeeping of one PCM, without ALSA and without Xen. XensndPcm
// feeds it what happened (the application's pointer, requests sent, what the backend
// reported) and asks it what follows (what to send next, where ALSA's hardware pointer is,
// whether the stream ran dry, is ready, drained or stalled, and the delay). Every policy
// about frames lives here, once.
//
// Counters are 64-bit frames since the last prepare():
//   appl       frames the application wrote (playback) or consumed (capture); follows rewinds
//   requested  frames handed to the backend in WRITE/READ requests (never taken back)
//   hw         ALSA's hardware pointer: capture, the frames captured (READs completed), shown
//              with the clock while running, two READs behind it (capture_pointer());
//              playback, the frames played by the positions, moved on between them by the
//              clock but never past what the backend took (WRITEs completed), and short of
//              appl until a position confirms the end: positions that lag or stop (snd_be
//              into a plugin device, a starved device) still free the shared buffer at the
//              pace of a device, and a sound server keeping less than a period queued sees
//              the room open frame by frame
//   played     playback only: what the backend's positions say was played; underruns and
//              the delay are judged from it, never from completions
//
// Time comes in as arguments (`now`), so every rule is testable without waiting.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace xensnd::plugin {

class FrameLedger {
 public:
  using Clock = std::chrono::steady_clock;

  struct Setup {
    bool playback = true;
    uint32_t frame_bytes = 0;
    uint32_t rate = 0;
    uint64_t buffer_frames = 0;
    uint64_t period_frames = 0;
    // Capture: the frames of one READ, which is also the period the backend's device runs
    // at (capture_grain()); 0 means a period.
    uint64_t read_frames = 0;
    // Playback: frames of silence the stream can send from its silence area in one WRITE
    // (0: none). The pointer's lead is then silence queued before the first frame of each
    // run (lead_silence()), not a jump at START.
    uint64_t silence_frames = 0;
  };
  struct Software {
    uint64_t boundary = 0;  // ALSA's pointers wrap here
    uint64_t avail_min = 1;
    uint64_t stop_threshold = 0;  // 0: none known yet
  };
  // How long the backend may make no progress while it holds frames, and the cap on the
  // periods part of that allowance (a period of a second at 1 Hz would otherwise allow hours).
  struct Stall {
    std::chrono::milliseconds timeout{2000};
    static constexpr std::chrono::milliseconds kPeriodsCap{8000};
  };

  // Capture: the period the backend's device is opened with, and the size of each READ.
  // A backend answers a READ once its device has recorded all of it, a device period at a
  // time (snd_be's ALSA device runs at the period it is given): READs and a device period
  // as large as ALSA's make the pointer move a whole period at once, and a sound server
  // reading a quantum each cycle from a timer (PipeWire's source, 64 frames) finds nothing
  // for 15 cycles and then a burst, which its clients drop. A sixteenth of the period, no
  // less than 64 frames or a millisecond (the backend's wake-ups stay bounded) nor
  // `floor_frames` (the backend's smallest period), no more than the period: with the
  // ring's 31 slots, READs still reach about two periods ahead.
  static uint64_t capture_grain(uint64_t period_frames, uint32_t rate, uint64_t floor_frames);

  void configure(const Setup& setup) { setup_ = setup; }
  void configure(const Software& software);
  void set_stall_timeout(std::chrono::milliseconds timeout) { stall_.timeout = timeout; }
  const Setup& setup() const { return setup_; }

  // --- Lifecycle ---
  // prepare: everything from 0; `appl_raw` is ALSA's appl_ptr now, `done_base_bytes` the
  // stream's completed WRITE/READ total (answers of the old run do not count).
  void prepare(uint64_t appl_raw, uint64_t done_base_bytes, Clock::time_point now);
  void start(Clock::time_point now);
  void stop();
  void pause(bool enable, Clock::time_point now);
  bool running() const { return running_; }
  bool paused() const { return paused_; }

  // --- The application's side ---
  // ALSA's appl_ptr moved to `raw` (modulo the boundary); a move backwards is a rewind.
  void sync_appl(uint64_t raw);
  // transfer() took `frames` that ALSA will add to appl_ptr after we return.
  void advance_appl(uint64_t frames);
  uint64_t appl() const { return appl_; }

  // --- Requests ---
  struct Region {
    uint32_t offset_bytes = 0;  // in the audio part; 0 for silence
    uint32_t length_bytes = 0;
    uint64_t frames = 0;
    bool silence = false;  // from the silence area (Stream::send_silence), not the ring
  };
  // The silence a run starts with: the pointer's lead (transport_lead()) when the stream has
  // a silence area for it (Setup::silence_frames), else none (the pointer then jumps the lead
  // ahead at START).
  uint64_t lead_silence() const;
  // The lead in frames at `rate`, for sizing the silence area.
  static uint64_t transport_lead_frames(uint32_t rate) { return uint64_t{rate} * kTransportLeadMs / 1000; }
  // Before START the backend gets about one period (snd_be's device buffer may be smaller
  // than ours, and a full prefill can deadlock its ring thread); running, all that was written.
  uint64_t write_limit() const;
  // The next WRITE (playback) or READ (capture) to send, if any; on_sent() after sending it.
  // Capture asks a grain at a time ahead of the device, and in one READ for what the device
  // recorded (by the clock) that nobody asked for yet: the application had not called.
  std::optional<Region> next_request(Clock::time_point now) const;
  // `now`: a capture READ sent for frames a device already recorded was late by our doing
  // (the application had not called), which capture lateness learning must not count.
  void on_sent(const Region& region, Clock::time_point now);
  uint64_t requested() const { return requested_; }
  // Silence sent before the first frame since prepare() (the start of every run).
  uint64_t silence_sent() const { return silence_sent_; }
  // Playback frames written that may be handed to the backend now but were not yet.
  bool unsent() const { return requested_ < write_limit(); }

  // --- The backend's side ---
  // What the stream reports now: the position in this epoch (bytes) and the completed
  // WRITE/READ total (bytes, since open). Moves hw and played; remembers progress.
  void observe(uint64_t position_bytes, uint64_t completed_bytes, Clock::time_point now);
  // Drain: every frame was played.
  void mark_drained() { hw_ = played_ = std::max(hw_, appl_); }
  uint64_t hw() const { return hw_; }
  uint64_t played() const { return played_; }

  // --- What follows ---
  // ALSA's hardware pointer (modulo the boundary).
  uint64_t hw_pointer() const;
  // Frames the application may write (playback) or read (capture) now.
  uint64_t avail() const;
  // An underrun (everything written was played) or overrun (the buffer is full), judged by
  // the stop threshold, as a kernel PCM does; capture at the buffer's size (READs are
  // flow-controlled: a full buffer lost nothing yet, one that is not full may hide a loss in
  // the backend's device) overruns once the clock says a device produced more than there
  // was room for, beyond the lateness the backend showed (bursts).
  bool xrun(Clock::time_point now) const;
  // Playback drain finished: all handed over, all answered, and played — by the positions,
  // or by the clock from its anchor (observe()), for a backend whose positions lag.
  bool drained(uint64_t completed_bytes, Clock::time_point now) const;
  // The backend holds frames it should be playing (or READs it should be filling) and made
  // no progress (no position change, no answer) for the allowance: a message saying so.
  std::optional<std::string> stalled(Clock::time_point now) const;
  Clock::duration stall_allowance() const;
  // The last time the position moved or a request completed (START and a pause's end count):
  // the backend's silence, and so every deadline the watchdog enforces, runs from there.
  Clock::time_point last_progress() const { return progress_at_; }
  // Frames between the application and the speaker (playback: written but not yet played
  // by the positions, interpolated by the clock from its anchor (observe()), at most a
  // period past it, never past what was sent, and no more than a buffer behind what the
  // backend took); capture: captured but not yet read.
  int64_t delay(Clock::time_point now) const;

  Clock::duration duration_of(uint64_t frames) const;
  uint64_t frames_of(uint64_t bytes) const { return setup_.frame_bytes ? bytes / setup_.frame_bytes : 0; }

 private:
  // Frames a device could have played since `since` while running (frozen while paused).
  uint64_t frames_since(Clock::time_point since, Clock::time_point now) const;
  // Playback: the clock's anchor plus the clock since then (no cap), in the frames the
  // device played (the run's leading silence included)...
  uint64_t device_clock(Clock::time_point now) const;
  // ...and in the application's frames (the leading silence left out).
  uint64_t played_by_clock(Clock::time_point now) const;
  // A count of the device's frames (positions, completed WRITEs) in the application's.
  uint64_t app_frames(uint64_t device_frames) const;
  // Playback: the backend took everything written and the clock says it played it all,
  // with clock_slack() to spare: the stream ran dry even if no position said so.
  bool starved(Clock::time_point now) const;
  // Playback: positions that moved in this run stopped more than a period short of what the
  // backend took (its WRITEs completed): its device holds frames, it did not run dry.
  bool positions_short_of_taken() const;
  uint64_t clock_slack() const;
  // How far the playback pointer may run ahead of the device, within what the backend took,
  // like a DMA pointer ahead of the speaker by its FIFO: a client that keeps only a quantum
  // queued by the pointer (PipeWire at 64 frames: 1.3 ms) keeps this much more in fact, so a
  // guest thread woken several milliseconds late (seen: 4-7 ms) does not run the device dry.
  // It is built as silence the device plays before the run's first frame (lead_silence()):
  // the pointer then follows the device's own count from 0, at the device's rate. A pointer
  // that jumped the lead ahead at START made the client supply that much more at once,
  // which a source following the same clock in one graph (a loopback) paid from its margin
  // and then skipped a quantum.
  static constexpr uint64_t kTransportLeadMs = 10;
  // How late a backend may send a position it measured before the clock is pulled back to it.
  static constexpr uint64_t kAnchorToleranceMs = 2;
  uint64_t transport_lead() const;
  // Capture: ALSA's pointer for `completed` frames captured (READs answered) at `now`.
  uint64_t capture_pointer(uint64_t completed, Clock::time_point now);
  uint64_t read_frames() const { return setup_.read_frames ? setup_.read_frames : setup_.period_frames; }

  Setup setup_;
  Software software_;
  Stall stall_;

  uint64_t appl_ = 0;
  uint64_t appl_raw_ = 0;
  uint64_t requested_ = 0;
  uint64_t silence_sent_ = 0;  // playback: the run's leading silence sent so far
  uint64_t hw_ = 0;
  uint64_t played_ = 0;
  uint64_t done_base_bytes_ = 0;
  uint64_t completed_frames_ = 0;  // since prepare, the application's frames
  uint64_t completed_device_frames_ = 0;  // the same with the leading silence
  uint64_t position_frames_ = 0;   // the last position seen, in the device's frames
  bool running_ = false;
  bool paused_ = false;
  Clock::time_point resumed_at_{};       // START or the last RESUME
  Clock::time_point paused_at_{};
  // The clock's anchor for interpolation: a position and when it was seen (observe()).
  uint64_t anchor_frames_ = 0;
  Clock::time_point anchor_at_{};
  Clock::time_point progress_at_{};      // the position moved or a request completed
  Clock::time_point observed_at_{};      // the last observe(): a newer position came after it
  Clock::time_point started_at_{};       // START, moved on by pauses
  uint64_t capture_lag_ = 0;             // the most a capture backend was late, in frames
  uint64_t asked_late_until_ = 0;        // capture: frames up to here were asked for once recorded
  // Capture: the device's clock, anchored where a READ answer showed it furthest along.
  uint64_t capture_anchor_frames_ = 0;
  Clock::time_point capture_anchor_at_{};
};

}  // namespace xensnd::plugin
