// Moments the machine itself could not run a real-time thread on time.
//
// The sound-server cases run audio graphs whose deadline is one quantum (1.3 to 21 ms). The
// test machines are virtual: when all their vCPUs are busy the host can deschedule the whole
// guest for several milliseconds (a SCHED_FIFO thread at the top priority was seen woken
// 9-14 ms late, on both vCPUs at once, with both busy). No card can keep a graph's deadline
// through that: PipeWire then reports "client too slow" and mixes a quantum of silence. This
// monitor runs one SCHED_FIFO thread per CPU at a priority above every process of the test,
// waking every `interval` (a millisecond), and records each wake-up later than `threshold` — time during which
// nothing on that CPU could run, whatever its priority.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace xensnd::e2e {

struct MachineStall {
  std::chrono::steady_clock::time_point start;  // when the thread should have woken
  std::chrono::microseconds length;             // how late it woke
  unsigned cpu = 0;
};

class MachineStallMonitor {
 public:
  // Throws std::runtime_error when the threads cannot be made SCHED_FIFO (then the figures
  // would measure the test's own load, not the machine).
  // `interval`: how often each thread wakes; a pause shows as lateness from its start to the
  // next wake-up, so one up to `interval` longer than `threshold` can go unrecorded.
  explicit MachineStallMonitor(std::chrono::microseconds threshold,
                               std::chrono::microseconds interval = std::chrono::milliseconds(1));
  ~MachineStallMonitor();
  MachineStallMonitor(const MachineStallMonitor&) = delete;
  MachineStallMonitor& operator=(const MachineStallMonitor&) = delete;

  std::vector<MachineStall> stalls() const;
  std::chrono::microseconds threshold() const { return threshold_; }
  std::chrono::microseconds interval() const { return interval_; }
  std::chrono::steady_clock::time_point started() const { return started_; }
  // "N stalls: 9.2 ms on CPU 0 at +12.345 s, ..." (times from the monitor's start).
  std::string describe() const;

 private:
  void watch(unsigned cpu);

  const std::chrono::microseconds threshold_, interval_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<MachineStall> stalls_;
  std::vector<std::thread> threads_;
};

}  // namespace xensnd::e2e
