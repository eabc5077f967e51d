// Real-time pacing of a sound card: how many frames the device has consumed (playback) or
// produced (capture) by a given CLOCK_MONOTONIC time, and when it will have done N more.
// Pure arithmetic on nanoseconds, so it can be tested without waiting.
#pragma once

#include <cstdint>

namespace xensnd::backend {

// CLOCK_MONOTONIC in nanoseconds.
int64_t monotonic_now_ns();

class PacingClock {
 public:
  // free_run: the device keeps no time; every frame is due at once.
  PacingClock(uint32_t rate, bool free_run) : rate_(rate), free_run_(free_run) {}

  bool free_run() const { return free_run_; }
  // (Re)starts counting at `now_ns`: after START, RESUME, or an underrun.
  void anchor(int64_t now_ns);
  // Frames due by `now_ns` that have not yet been taken (0 before `anchor`).
  uint64_t frames_due(int64_t now_ns) const;
  // Records that `frames` of the due frames were taken.
  void take(uint64_t frames) { taken_ += frames; }
  // The time at which `more` frames beyond those taken will be due.
  int64_t time_due(uint64_t more) const;

 private:
  uint32_t rate_;
  bool free_run_;
  int64_t anchor_ns_ = 0;
  uint64_t taken_ = 0;  // since the anchor
};

}  // namespace xensnd::backend
