// CUR_POS byte positions (64-bit, a running count) to the bytes played or captured in the
// current START..STOP epoch.
//
// Positions are monotonic within one epoch only. After STOP, snd_be restarts at 0 on its
// ALSA path and keeps counting on its PulseAudio path: the first position of a new epoch
// tells which (a value below the last one can only be a restart; a value above it that
// could not be a restart because less was written is a continuation), and the answer is
// remembered for ambiguous cases. Within an epoch a position that goes backwards, or for
// playback runs ahead of the bytes sent in WRITEs, is a protocol violation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "protocol/card_config.h"

namespace xensnd {

class PositionTracker {
 public:
  explicit PositionTracker(StreamType type) : type_(type) {}

  // A new OPEN: nothing played, the backend's counter starts from 0.
  void reset();
  // A WRITE of `bytes` was queued (bounds the playback position of this epoch).
  void on_data_sent(uint64_t bytes) { sent_in_epoch_ += bytes; }
  // The STOP response arrived: the epoch ends, the position is 0 again.
  void on_stop();

  // Applies a CUR_POS position. Returns an error message (and changes nothing) when the
  // position breaks the rules above.
  std::optional<std::string> on_position(uint64_t raw_position);

  uint64_t position() const { return position_; }
  uint64_t sent_in_epoch() const { return sent_in_epoch_; }

  enum class Restart { kUnknown, kAtZero, kKeepsCounting };
  Restart restart_behaviour() const { return restart_; }

 private:
  std::optional<std::string> choose_epoch_base(uint64_t raw);

  StreamType type_;
  Restart restart_ = Restart::kUnknown;
  std::optional<uint64_t> base_ = 0;  // the raw value that is position 0 of this epoch
  uint64_t last_raw_ = 0;             // the last raw value of any epoch
  uint64_t position_ = 0;
  uint64_t sent_in_epoch_ = 0;
};

// CUR_POS bytes to frames, and frames to the ring position within a buffer of frames.
inline uint64_t bytes_to_frames(uint64_t bytes, uint32_t bytes_per_frame) {
  return bytes_per_frame ? bytes / bytes_per_frame : 0;
}
inline uint64_t frames_in_buffer(uint64_t frames, uint64_t buffer_frames) {
  return buffer_frames ? frames % buffer_frames : 0;
}

}  // namespace xensnd
