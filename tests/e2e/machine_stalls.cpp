#include "tests/e2e/machine_stalls.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <sstream>
#include <stdexcept>

namespace xensnd::e2e {
namespace {

// Above the test's real-time peers (50), clients (40) and PipeWire's data threads (88).
constexpr int kMonitorPriority = 95;

timespec to_timespec(std::chrono::steady_clock::time_point t) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  return timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

}  // namespace

MachineStallMonitor::MachineStallMonitor(std::chrono::microseconds threshold, std::chrono::microseconds interval)
    : threshold_(threshold), interval_(interval) {
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  std::atomic<int> failures{0};
  std::atomic<int> ready{0};
  for (long cpu = 0; cpu < std::max(cpus, 1L); ++cpu) {
    threads_.emplace_back([this, cpu, &failures, &ready] {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(static_cast<int>(cpu), &set);
      const sched_param param{kMonitorPriority};
      const bool ok = pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0 &&
                      pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0;
      if (!ok) ++failures;
      ++ready;
      if (ok) watch(static_cast<unsigned>(cpu));
    });
  }
  while (ready.load() < static_cast<int>(threads_.size())) std::this_thread::yield();
  if (failures.load() > 0) {
    stop_ = true;
    for (std::thread& t : threads_) t.join();
    throw std::runtime_error("the machine-stall monitor needs SCHED_FIFO and CPU affinity (root or CAP_SYS_NICE)");
  }
}

MachineStallMonitor::~MachineStallMonitor() {
  stop_ = true;
  for (std::thread& t : threads_) t.join();
}

void MachineStallMonitor::watch(unsigned cpu) {
  auto next = std::chrono::steady_clock::now();
  while (!stop_.load(std::memory_order_relaxed)) {
    next += interval_;
    const timespec deadline = to_timespec(next);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr) == EINTR) {
    }
    const auto woke = std::chrono::steady_clock::now();
    const auto late = std::chrono::duration_cast<std::chrono::microseconds>(woke - next);
    if (late > threshold_) {
      std::lock_guard lock(mutex_);
      stalls_.push_back({next, late, cpu});
    }
    // After a stall, measure from now on rather than counting every missed tick.
    if (woke - next > interval_) next = woke;
  }
}

std::vector<MachineStall> MachineStallMonitor::stalls() const {
  std::lock_guard lock(mutex_);
  return stalls_;
}

std::string MachineStallMonitor::describe() const {
  const std::vector<MachineStall> all = stalls();
  std::ostringstream text;
  text << all.size() << " stall(s) over " << threshold_.count() / 1000.0 << " ms";
  for (const MachineStall& s : all)
    text << "; " << s.length.count() / 1000.0 << " ms on CPU " << s.cpu << " at +"
         << std::chrono::duration<double>(s.start - started_).count() << " s";
  return text.str();
}

}  // namespace xensnd::e2e
