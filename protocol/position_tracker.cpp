#include "protocol/position_tracker.h"

namespace xensnd {

void PositionTracker::reset() {
  base_ = 0;
  last_raw_ = 0;
  position_ = 0;
  sent_in_epoch_ = 0;
}

void PositionTracker::on_stop() {
  base_.reset();  // decided by the first position of the next epoch
  position_ = 0;
  sent_in_epoch_ = 0;
}

std::optional<std::string> PositionTracker::choose_epoch_base(uint64_t raw) {
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
    return "position " + std::to_string(raw) + " after STOP is ahead of the " +
           std::to_string(sent_in_epoch_) + " bytes written since";
  }
  return std::nullopt;
}

std::optional<std::string> PositionTracker::on_position(uint64_t raw) {
  std::optional<uint64_t> saved_base = base_;
  Restart saved_restart = restart_;
  if (!base_) {
    if (auto problem = choose_epoch_base(raw)) return problem;
  }
  auto undo = [&](std::string problem) {
    base_ = saved_base;
    restart_ = saved_restart;
    return std::optional<std::string>(std::move(problem));
  };
  if (raw < *base_ || raw - *base_ < position_)
    return undo("position went backwards from " + std::to_string(*base_ + position_) + " to " +
                std::to_string(raw) + " bytes");
  uint64_t played = raw - *base_;
  if (type_ == StreamType::kPlayback && played > sent_in_epoch_)
    return undo("position " + std::to_string(raw) + " is ahead of the " + std::to_string(sent_in_epoch_) +
                " bytes written");
  position_ = played;
  last_raw_ = raw;
  return std::nullopt;
}

}  // namespace xensnd
