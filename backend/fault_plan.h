// Faults injected on purpose, chosen per run (--fault), for the frontend's reliability tests.
// Each fault fires on a stream's Nth matching request or Nth CUR_POS event; StreamFaults
// counts them for one stream's ring thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xensnd::backend {

enum class FaultKind {
  kDelayResponse,      // every matching response from the Nth on waits `ms` first
  kDropResponse,       // the Nth matching request is never answered
  kWrongId,            // the Nth matching response carries another id
  kWrongOperation,     // the Nth matching response names another operation
  kPositionBackwards,  // the Nth CUR_POS reports a position before the previous one
  kPositionBeyond,     // the Nth CUR_POS jumps more than a buffer ahead
  kEventFlood,         // at the Nth CUR_POS, writes twice the event ring's length at once
  kStopEvents,         // from the Nth CUR_POS on, no more events
  kExit,               // the process exits abruptly (on the Nth matching request, or Nth CUR_POS)
  kSetClosing,         // the device's state becomes Closing (same triggers as exit)
};

struct FaultSpec {
  FaultKind kind = FaultKind::kDropResponse;
  std::optional<uint8_t> operation;  // XENSND_OP_*; unset: any request
  uint32_t nth = 1;
  uint32_t ms = 0;  // delay-response
  std::optional<std::pair<size_t, size_t>> stream;  // PCM/stream; unset: every stream

  // Request-triggered (counted on requests) rather than event-triggered.
  bool on_requests() const;
};

// KIND[:key=value,...] with keys op=, nth=, ms=, stream=P/S. nullopt + error when malformed.
std::optional<FaultSpec> parse_fault_spec(std::string_view text, std::string& error);
std::string_view fault_name(FaultKind kind);

struct RequestFaults {
  uint32_t delay_ms = 0;
  bool drop = false;
  bool wrong_id = false;
  bool wrong_operation = false;
  bool exit = false;
  bool set_closing = false;
};

struct EventFaults {
  bool suppress = false;
  bool backwards = false;
  bool beyond = false;
  bool flood = false;
  bool exit = false;
  bool set_closing = false;
};

class StreamFaults {
 public:
  StreamFaults() = default;
  // Keeps the faults that apply to stream `pcm`/`stream`.
  StreamFaults(const std::vector<FaultSpec>& all, size_t pcm, size_t stream);

  bool any() const { return !faults_.empty(); }
  RequestFaults on_request(uint8_t operation);
  EventFaults on_position_event();

 private:
  struct Armed {
    FaultSpec spec;
    uint32_t seen = 0;
  };
  std::vector<Armed> faults_;
};

}  // namespace xensnd::backend
