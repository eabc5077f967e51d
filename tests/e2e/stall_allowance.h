// Splices and xruns the machine explains, not the card.
//
// A graph whose deadline is one quantum misses it when the host pauses the guest's vCPU
// under one of its threads late in a cycle (machine_stalls.h), whatever card it plays on:
// PipeWire then mixes a quantum of silence ("client too slow"), and the software Xen's
// backend, paused with the guest while its device's clock runs on, underruns. A splice or an
// xrun is the machine's only when it came during, or less than 100 ms after, a stall the
// graph cannot absorb (stalls overlapping or back to back, on any CPU, count as one; half a
// cycle; less for a graph with a follower node, which resyncs when its delay strays:
// pipewire_test.cpp);
// everything else is the card's. A run whose stalls leave too little of it outside their
// windows tells nothing about the card: a fault of the card would be excused as likely as
// not (excused_share; the verdict is the test's, sound_server_checks.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/e2e/machine_stalls.h"

namespace xensnd::e2e {

class StallAllowance {
 public:
  static constexpr std::chrono::milliseconds kWindow{100};

  // `shortest`: the shortest stall that can splice the graph.
  // `tick`: how often the monitor looked (MachineStallMonitor::interval): stalls less than
  // that apart cannot be told apart, and each may have begun up to a tick before, and
  // lasted up to a tick longer than, what the monitor recorded.
  StallAllowance(std::vector<MachineStall> stalls, std::chrono::microseconds shortest, std::string machine,
                 std::chrono::microseconds tick = std::chrono::milliseconds(1));
  // What `monitor` saw so far; the run is from its start to now.
  StallAllowance(const MachineStallMonitor& monitor, std::chrono::microseconds shortest);

  // The latest stall of `shortest` or more that `at` (seconds on the monotonic clock) came
  // during or within kWindow after, if any: its index among the run's stalls (overlapping
  // ones merged). The window runs from the stall's end: a graph frozen for 80 ms (seen, on
  // both vCPUs at once) recovers from there.
  std::optional<size_t> explains(double at) const;
  // The stall of `shortest` or more that began within `within` after `at`, if any: what a
  // capture follower skips when a stall pushed its delay too far are the oldest frames it
  // holds, recorded up to its delay before the stall.
  std::optional<size_t> precedes(double at, std::chrono::microseconds within) const;
  // The share of the run from `from` to `to` (seconds on the monotonic clock) in which a
  // splice would be excused: during or within kWindow after a stall of `shortest` or more,
  // or within `before` ahead of one (what precedes() excuses). A fault of the card lands
  // there with that chance, whatever the stalls did to the graph.
  double excused_share(double from, double to, std::chrono::microseconds before = {}) const;
  // The same over the monitor's run (std::logic_error for an allowance made from a vector).
  double excused_share(std::chrono::microseconds before = {}) const;
  // "2.4 ms on CPU 1, 35 ms earlier": the last stall before `at`, for a failure's message.
  std::string last_stall_before(double at) const;
  // The monitor's account of the run (MachineStallMonitor::describe).
  const std::string& machine() const { return machine_; }

 private:
  bool long_enough(const MachineStall& stall) const;

  std::vector<MachineStall> stalls_;
  std::chrono::microseconds shortest_, tick_;
  std::string machine_;
  std::optional<std::pair<double, double>> run_;  // the monitor's, when made from one
};

// The monotonic time a backend log line was written ("xensnd-backend[<seconds>] ...").
std::optional<double> backend_log_time(const std::string& line);

// One run of an open of a stream, from a START (or from where its device played on after
// running dry: "underrun #N at position P", logged when data came again) to the next such
// line or STOP: when it started, and the byte of the open's WAV its frames begin at (the
// device wrote its runs one after another, and no silence for an underrun).
struct StreamRun {
  double started = 0;
  uint64_t first_byte = 0;
};

// Each open of stream `stream` ("0/0": PCM 0, stream 0) from the backend's log, in order (its
// WAVs are one per open): its runs. None for an open that never started, or whose runs cannot
// be told apart (a START without a STOP before it, a STOP without its position), as its WAV's
// frames then cannot be put on the clock.
// Without `after_underruns`, a run goes on through its device's underruns as if none came
// (what a frame's place was before the underruns before it, each as long as it lasted).
std::vector<std::vector<StreamRun>> stream_runs(std::istream& backend_log, const std::string& stream,
                                                bool after_underruns = true);

// When frame `frame` of an open's WAV was played, by its runs (`frame_bytes` bytes a frame, at
// `rate`): its run's START and its place in the run.
std::optional<double> run_time(const std::vector<StreamRun>& runs, uint64_t frame, unsigned rate, unsigned frame_bytes);

}  // namespace xensnd::e2e
