#include "protocol/position_tracker.h"

namespace xensnd {

void PositionTracker::reset() {
  base_ = 0;
  last_raw_ = 0;
  position_ = 0;
  sent_in_epoch_ = 0;
  rebases_in_a_row_ = 0;
}

void PositionTracker::on_stop() {
  base_.reset();  // decided by the first position of the next epoch
  position_ = 0;
  sent_in_epoch_ = 0;
}

bool PositionTracker::choose_epoch_base(uint64_t raw) {
  bool playback = type_ == StreamType::kPlayback;
  // Within the bytes sent this epoch? (Capture has no such bound.)
  auto plausible = [&](uint64_t played) { return !playback || played <= sent_in_epoch_; };
  bool at_zero = plausible(raw);
  bool keeps_counting = raw >= last_raw_ && plausible(raw - last_raw_);
  if (at_zero && keeps_counting) {
    // Both explain it (e.g. the last epoch was short): trust what this backend did before,
    // else a restart, snd_be's ALSA path.
    base_ = restart_ == Restart::kKeepsCounting ? last_raw_ : 0;
  } else if (at_zero) {
    if (raw < last_raw_) restart_ = Restart::kAtZero;
    base_ = 0;
  } else if (keeps_counting) {
    restart_ = Restart::kKeepsCounting;
    base_ = last_raw_;
  } else {
    return false;
  }
  return true;
}

PositionTracker::Update PositionTracker::odd(Verdict verdict, std::string problem) {
  if (verdict == Verdict::kRebased && ++rebases_in_a_row_ > kMaxRebasesInARow)
    return {Verdict::kViolation, problem + " (" + std::to_string(rebases_in_a_row_) +
                                     " impossible positions in a row)"};
  return {verdict, std::move(problem)};
}

PositionTracker::Update PositionTracker::on_position(uint64_t raw) {
  const bool playback = type_ == StreamType::kPlayback;
  if (!base_ && !choose_epoch_base(raw)) {
    // Neither a restart nor a continuation (snd_be jumping to its total since OPEN): this
    // position is the epoch's 0.
    base_ = raw;
    last_raw_ = raw;
    position_ = 0;
    return odd(Verdict::kRebased, "position " + std::to_string(raw) + " after STOP is ahead of the " +
                                      std::to_string(sent_in_epoch_) + " bytes written since: re-based");
  }
  const uint64_t played = raw - *base_;  // modulo 2^64
  // Below the last position, or "negative" (a count past 2^63 bytes is not a position).
  if (played < position_ || played > (uint64_t{1} << 63)) {
    const uint64_t was = *base_ + position_;
    base_ = raw - position_;  // the position stays; later ones count from here
    last_raw_ = raw;
    return odd(Verdict::kRebased, "position went backwards from " + std::to_string(was) + " to " +
                                      std::to_string(raw) + " bytes: re-based");
  }
  last_raw_ = raw;
  if (playback && played > sent_in_epoch_) {
    position_ = sent_in_epoch_;
    return {Verdict::kAhead, "position " + std::to_string(raw) + " is ahead of the " +
                                 std::to_string(sent_in_epoch_) + " bytes written: an underrun"};
  }
  position_ = played;
  rebases_in_a_row_ = 0;
  return {};
}

}  // namespace xensnd
