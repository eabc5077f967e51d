// CUR_POS byte positions (64-bit, a running count) to the bytes played or captured in the
// current START..STOP epoch.
//
// Real backends' counters are odd, and odd is not broken (snd_be, for one, restarts at 0
// after STOP on its ALSA path and keeps counting on its PulseAudio path; into a plugin
// device its positions stay at 0 and then jump to the total written since OPEN when that
// device underruns). So:
// - The first position of an epoch says how the counter restarted (below the last one: a
//   restart; too far for a restart: a continuation; the answer is remembered for ambiguous
//   cases). When neither explains it, the epoch is re-based: that position is 0.
// - Within an epoch, a playback position ahead of the bytes sent is the backend's device
//   running dry: an underrun. The position is clamped to what was sent and reported as
//   such; the stream's next epoch re-bases.
// - A position going backwards re-bases (the position stays where it was).
// Only positions that stay impossible — kMaxRebasesInARow re-bases without one plausible
// position between them — are a violation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "protocol/card_config.h"

namespace xensnd {

class PositionTracker {
 public:
  static constexpr unsigned kMaxRebasesInARow = 16;

  explicit PositionTracker(StreamType type) : type_(type) {}

  // A new OPEN: nothing played, the backend's counter starts from 0.
  void reset();
  // A WRITE of `bytes` was queued (bounds the playback position of this epoch).
  void on_data_sent(uint64_t bytes) { sent_in_epoch_ += bytes; }
  // The STOP response arrived: the epoch ends, the position is 0 again.
  void on_stop();

  enum class Verdict {
    kPlausible,
    kAhead,      // playback ahead of what was sent: an underrun; clamped to what was sent
    kRebased,    // backwards, or unexplainable at an epoch's start: re-based
    kViolation,  // impossible too often in a row: the backend's counter is broken
  };
  struct Update {
    Verdict verdict = Verdict::kPlausible;
    std::string problem;  // what was odd (empty when plausible)
  };
  Update on_position(uint64_t raw_position);

  uint64_t position() const { return position_; }
  uint64_t sent_in_epoch() const { return sent_in_epoch_; }

  enum class Restart { kUnknown, kAtZero, kKeepsCounting };
  Restart restart_behaviour() const { return restart_; }

 private:
  // Chooses the raw value that is position 0 of this epoch; false when nothing explains
  // `raw` (then the caller re-bases).
  bool choose_epoch_base(uint64_t raw);
  Update odd(Verdict verdict, std::string problem);

  StreamType type_;
  Restart restart_ = Restart::kUnknown;
  // position = raw - base_, modulo 2^64 (a re-base after going backwards may need a "negative" base).
  std::optional<uint64_t> base_ = 0;
  uint64_t last_raw_ = 0;             // the last raw value of any epoch
  uint64_t position_ = 0;
  uint64_t sent_in_epoch_ = 0;
  unsigned rebases_in_a_row_ = 0;
};

// CUR_POS bytes to frames, and frames to the ring position within a buffer of frames.
inline uint64_t bytes_to_frames(uint64_t bytes, uint32_t bytes_per_frame) {
  return bytes_per_frame ? bytes / bytes_per_frame : 0;
}
inline uint64_t frames_in_buffer(uint64_t frames, uint64_t buffer_frames) {
  return buffer_frames ? frames % buffer_frames : 0;
}

}  // namespace xensnd
