#include "backend/pacing_clock.h"

#include <time.h>

#include <limits>

namespace xensnd::backend {

int64_t monotonic_now_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

void PacingClock::anchor(int64_t now_ns) {
  anchor_ns_ = now_ns;
  taken_ = 0;
}

uint64_t PacingClock::frames_due(int64_t now_ns) const {
  if (free_run_) return std::numeric_limits<uint32_t>::max();
  if (now_ns <= anchor_ns_) return 0;
  // 128-bit: hours of elapsed nanoseconds times the rate overflow 64 bits' comfort zone.
  unsigned __int128 elapsed = static_cast<unsigned __int128>(now_ns - anchor_ns_);
  uint64_t total = static_cast<uint64_t>(elapsed * rate_ / 1'000'000'000u);
  return total > taken_ ? total - taken_ : 0;
}

int64_t PacingClock::time_due(uint64_t more) const {
  if (free_run_ || rate_ == 0) return anchor_ns_;
  unsigned __int128 frames = static_cast<unsigned __int128>(taken_) + more;
  // Rounded up: at the returned time the frames are due, never a nanosecond early.
  unsigned __int128 ns = (frames * 1'000'000'000u + rate_ - 1) / rate_;
  return anchor_ns_ + static_cast<int64_t>(ns);
}

}  // namespace xensnd::backend
