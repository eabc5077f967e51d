// How long a call took *while this thread could run*: wall-clock time minus the time the
// thread sat runnable on a run queue waiting for a CPU (the second field of
// /proc/thread-self/schedstat). On a machine loaded far beyond its cores, a call that
// waits exactly its deadline can take seconds of wall-clock time; the deadline assertions
// of the targets are about the code's waits, not about the scheduler.
#pragma once

#include <chrono>
#include <cstdio>

namespace xensnd::fuzz {

class CallTimer {
 public:
  using Clock = std::chrono::steady_clock;

  CallTimer() : start_(Clock::now()), queued_at_start_(run_queue_wait()) {}

  Clock::duration elapsed() const {
    auto queued = run_queue_wait() - queued_at_start_;
    auto wall = Clock::now() - start_;
    return queued < wall ? wall - queued : Clock::duration::zero();
  }

 private:
  static Clock::duration run_queue_wait() {
    unsigned long long running = 0, waiting = 0;
    if (std::FILE* f = std::fopen("/proc/thread-self/schedstat", "r")) {
      if (std::fscanf(f, "%llu %llu", &running, &waiting) != 2) waiting = 0;
      std::fclose(f);
    }
    return std::chrono::nanoseconds(waiting);
  }

  Clock::time_point start_;
  Clock::duration queued_at_start_;
};

}  // namespace xensnd::fuzz
