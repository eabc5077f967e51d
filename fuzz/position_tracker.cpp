// CUR_POS position sequences: any raw 64-bit positions, interleaved with WRITEs (bytes sent),
// STOPs and new OPENs, for playback and capture.
//
// Checked against the rules of position_tracker.h, restated independently here: a rejected
// position changes nothing; within an epoch the base (the raw value that is position 0) never
// changes, positions never go backwards, and a playback position never passes the bytes sent
// in the epoch; an accepted position is raw - base, where the first position of an epoch
// after STOP has base 0 (a restart) or the last raw value (a backend that keeps counting),
// and it is accepted exactly when one of those explains it.
#include <fuzzer/FuzzedDataProvider.h>

#include <optional>

#include "fuzz/fuzz_check.h"
#include "protocol/position_tracker.h"

namespace {

using xensnd::PositionTracker;

struct Epoch {
  std::optional<uint64_t> base;  // unknown after STOP until the first position
  uint64_t position = 0;
  uint64_t sent = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  bool playback = in.ConsumeBool();
  PositionTracker tracker(playback ? xensnd::StreamType::kPlayback : xensnd::StreamType::kCapture);
  Epoch epoch{0, 0, 0};
  uint64_t last_raw = 0;  // of any epoch

  while (in.remaining_bytes() > 0) {
    switch (in.ConsumeIntegralInRange<int>(0, 9)) {
      case 0:
        tracker.reset();
        epoch = {0, 0, 0};
        last_raw = 0;
        break;
      case 1:
        tracker.on_stop();
        epoch = {std::nullopt, 0, 0};
        FUZZ_CHECK(tracker.position() == 0 && tracker.sent_in_epoch() == 0);
        break;
      case 2:
      case 3: {
        uint64_t bytes = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint64_t>(0, 1u << 20) : in.ConsumeIntegral<uint64_t>();
        // Running totals of a real stream stay far below 2^64; so do ours.
        if (epoch.sent + bytes < epoch.sent) break;
        tracker.on_data_sent(bytes);
        epoch.sent += bytes;
        FUZZ_CHECK(tracker.sent_in_epoch() == epoch.sent);
        break;
      }
      default: {
        // Mostly plausible positions (near the last one or the bytes sent), sometimes any.
        uint64_t raw;
        switch (in.ConsumeIntegralInRange<int>(0, 3)) {
          case 0: raw = in.ConsumeIntegral<uint64_t>(); break;
          case 1: raw = last_raw + in.ConsumeIntegralInRange<int64_t>(-4096, 1 << 16); break;
          case 2: raw = in.ConsumeIntegralInRange<uint64_t>(0, epoch.sent + 4096); break;
          default: raw = last_raw + in.ConsumeIntegralInRange<uint64_t>(0, epoch.sent + 64); break;
        }
        auto before_restart = tracker.restart_behaviour();
        uint64_t before_position = tracker.position();

        // Which bases may explain `raw`?
        auto plausible = [&](uint64_t played) { return !playback || played <= epoch.sent; };
        bool acceptable;
        if (epoch.base) {
          acceptable = raw >= *epoch.base && raw - *epoch.base >= epoch.position && plausible(raw - *epoch.base);
        } else {
          bool at_zero = plausible(raw);
          bool keeps_counting = raw >= last_raw && plausible(raw - last_raw);
          acceptable = at_zero || keeps_counting;
        }

        std::optional<std::string> problem = tracker.on_position(raw);
        FUZZ_CHECK(problem.has_value() == !acceptable);
        if (problem) {
          FUZZ_CHECK(!problem->empty());
          FUZZ_CHECK(tracker.position() == before_position);
          FUZZ_CHECK(tracker.restart_behaviour() == before_restart);
          break;
        }
        uint64_t position = tracker.position();
        FUZZ_CHECK(position <= raw);
        uint64_t base = raw - position;
        if (epoch.base) {
          FUZZ_CHECK(base == *epoch.base);
        } else {
          FUZZ_CHECK(base == 0 || base == last_raw);
          epoch.base = base;
        }
        FUZZ_CHECK(position >= epoch.position);
        if (playback) FUZZ_CHECK(position <= epoch.sent);
        epoch.position = position;
        last_raw = raw;
        break;
      }
    }
    // Frames and ring offsets never divide by zero and stay inside the buffer.
    uint32_t frame = in.ConsumeIntegral<uint8_t>();
    uint64_t buffer = in.ConsumeIntegral<uint16_t>();
    uint64_t frames = xensnd::bytes_to_frames(tracker.position(), frame);
    uint64_t offset = xensnd::frames_in_buffer(frames, buffer);
    FUZZ_CHECK(buffer == 0 ? offset == 0 : offset < buffer);
  }
  return 0;
}
