// CUR_POS position sequences: any raw 64-bit positions, interleaved with WRITEs (bytes sent),
// STOPs and new OPENs, for playback and capture.
//
// Checked against the rules of position_tracker.h, restated here as a model: the first
// position of an epoch is explained as a restart (base 0) or a continuation (base = the last
// raw value), remembering which this backend did for ambiguous cases, else re-based to 0;
// within an epoch a position behind the last one (or "negative") re-bases and keeps the
// position, a playback position ahead of the bytes sent is an underrun clamped to them, and
// anything else is raw - base; more than kMaxRebasesInARow re-bases with no plausible
// position between them is a violation. Independently of the model: the position never
// goes backwards within an epoch, never passes the bytes sent for playback, and every odd
// verdict says what was odd.
#include <fuzzer/FuzzedDataProvider.h>

#include <optional>

#include "fuzz/fuzz_check.h"
#include "protocol/position_tracker.h"

namespace {

using xensnd::PositionTracker;
using Verdict = PositionTracker::Verdict;
using Restart = PositionTracker::Restart;

struct Model {
  bool playback = true;
  std::optional<uint64_t> base = 0;  // unknown after STOP until the first position
  uint64_t last_raw = 0;
  uint64_t position = 0;
  uint64_t sent = 0;
  Restart restart = Restart::kUnknown;
  unsigned rebases = 0;

  bool plausible(uint64_t played) const { return !playback || played <= sent; }

  Verdict rebased() {
    return ++rebases > PositionTracker::kMaxRebasesInARow ? Verdict::kViolation : Verdict::kRebased;
  }

  Verdict apply(uint64_t raw) {
    if (!base) {
      bool at_zero = plausible(raw);
      bool keeps_counting = raw >= last_raw && plausible(raw - last_raw);
      if (at_zero && keeps_counting) {
        base = restart == Restart::kKeepsCounting ? last_raw : 0;
      } else if (at_zero) {
        if (raw < last_raw) restart = Restart::kAtZero;
        base = 0;
      } else if (keeps_counting) {
        restart = Restart::kKeepsCounting;
        base = last_raw;
      } else {
        base = raw;
        last_raw = raw;
        position = 0;
        return rebased();
      }
    }
    uint64_t played = raw - *base;
    if (played < position || played > (uint64_t{1} << 63)) {
      base = raw - position;
      last_raw = raw;
      return rebased();
    }
    last_raw = raw;
    if (playback && played > sent) {
      position = sent;
      return Verdict::kAhead;
    }
    position = played;
    rebases = 0;
    return Verdict::kPlausible;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  Model model;
  model.playback = in.ConsumeBool();
  PositionTracker tracker(model.playback ? xensnd::StreamType::kPlayback : xensnd::StreamType::kCapture);

  while (in.remaining_bytes() > 0) {
    switch (in.ConsumeIntegralInRange<int>(0, 9)) {
      case 0:
        tracker.reset();
        model.base = 0;
        model.last_raw = model.position = model.sent = 0;
        model.rebases = 0;
        break;
      case 1:
        tracker.on_stop();
        model.base.reset();
        model.position = model.sent = 0;
        FUZZ_CHECK(tracker.position() == 0 && tracker.sent_in_epoch() == 0);
        break;
      case 2:
      case 3: {
        uint64_t bytes = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint64_t>(0, 1u << 20) : in.ConsumeIntegral<uint64_t>();
        // Running totals of a real stream stay far below 2^64; so do ours.
        if (model.sent + bytes < model.sent) break;
        tracker.on_data_sent(bytes);
        model.sent += bytes;
        FUZZ_CHECK(tracker.sent_in_epoch() == model.sent);
        break;
      }
      default: {
        // Mostly plausible positions (near the last one or the bytes sent), sometimes any.
        uint64_t raw;
        switch (in.ConsumeIntegralInRange<int>(0, 3)) {
          case 0: raw = in.ConsumeIntegral<uint64_t>(); break;
          case 1: raw = model.last_raw + in.ConsumeIntegralInRange<int64_t>(-4096, 1 << 16); break;
          case 2: raw = in.ConsumeIntegralInRange<uint64_t>(0, model.sent + 4096); break;
          default: raw = model.last_raw + in.ConsumeIntegralInRange<uint64_t>(0, model.sent + 64); break;
        }
        const bool epoch_started = model.base.has_value();
        const uint64_t before = tracker.position();
        Verdict expected = model.apply(raw);
        PositionTracker::Update update = tracker.on_position(raw);
        FUZZ_CHECK(update.verdict == expected);
        FUZZ_CHECK(update.problem.empty() == (update.verdict == Verdict::kPlausible));
        FUZZ_CHECK(tracker.position() == model.position);
        FUZZ_CHECK(tracker.restart_behaviour() == model.restart);
        // Independent of the model:
        if (epoch_started) FUZZ_CHECK(tracker.position() >= before);
        if (update.verdict == Verdict::kRebased && epoch_started) FUZZ_CHECK(tracker.position() == before);
        if (model.playback) FUZZ_CHECK(tracker.position() <= tracker.sent_in_epoch());
        if (update.verdict == Verdict::kAhead) FUZZ_CHECK(model.playback && tracker.position() == tracker.sent_in_epoch());
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
