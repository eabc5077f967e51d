// How long a call took *while this thread could run*: wall-clock time minus the time the
// thread sat runnable on a run queue waiting for a CPU (the second field of
// /proc/thread-self/schedstat). On a machine loaded far beyond its cores, a call that
// waits exactly its deadline can take seconds of wall-clock time; the deadline assertions
// of the targets are about the code's waits, not about the scheduler.
#pragma once

#include <fcntl.h>
#include <unistd.h>

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
    // Opened once per thread and re-read with pread(): an fopen() per look cost three
    // system calls and a FILE with its buffer, twice per timed call (dozens per input).
    thread_local int fd = ::open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    unsigned long long running = 0, waiting = 0;
    char text[128];
    ssize_t n = fd < 0 ? -1 : ::pread(fd, text, sizeof text - 1, 0);
    if (n > 0) {
      text[n] = '\0';
      if (std::sscanf(text, "%llu %llu", &running, &waiting) != 2) waiting = 0;
    }
    return std::chrono::nanoseconds(waiting);
  }

  Clock::time_point start_;
  Clock::duration queued_at_start_;
};

}  // namespace xensnd::fuzz
