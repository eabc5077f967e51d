#include "tests/e2e/stall_allowance.h"

#include <algorithm>
#include <sstream>
#include <utility>

namespace xensnd::e2e {
namespace {

std::chrono::duration<double> on_clock(const MachineStall& stall) { return stall.start.time_since_epoch(); }

// The guest's stalls: stalls that overlap or follow each other within the monitor's tick, on
// any CPU, are one. A graph thread held up on one vCPU and then on the other (seen: 4.1 ms on
// CPU 1, then 2.0 ms on CPU 0 right after) lost the time of both.
std::vector<MachineStall> merged(std::vector<MachineStall> stalls) {
  constexpr auto kTick = std::chrono::milliseconds(1);
  std::sort(stalls.begin(), stalls.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
  std::vector<MachineStall> out;
  for (const MachineStall& stall : stalls) {
    if (!out.empty() && stall.start <= out.back().start + out.back().length + kTick) {
      const auto end = std::max(out.back().start + out.back().length, stall.start + stall.length);
      out.back().length = std::chrono::duration_cast<std::chrono::microseconds>(end - out.back().start);
      continue;
    }
    out.push_back(stall);
  }
  return out;
}

}  // namespace

StallAllowance::StallAllowance(std::vector<MachineStall> stalls, std::chrono::microseconds shortest,
                               std::string machine)
    : stalls_(merged(std::move(stalls))), shortest_(shortest), machine_(std::move(machine)) {}

StallAllowance::StallAllowance(const MachineStallMonitor& monitor, std::chrono::microseconds shortest)
    : StallAllowance(monitor.stalls(), shortest, monitor.describe()) {}

std::optional<size_t> StallAllowance::explains(double at) const {
  const std::chrono::duration<double> when(at);
  std::optional<size_t> latest;
  for (size_t i = 0; i < stalls_.size(); ++i) {
    if (stalls_[i].length < shortest_) continue;
    if (on_clock(stalls_[i]) <= when && when - on_clock(stalls_[i]) <= kWindow) latest = i;
  }
  return latest;
}

std::optional<size_t> StallAllowance::precedes(double at, std::chrono::microseconds within) const {
  const std::chrono::duration<double> when(at);
  for (size_t i = 0; i < stalls_.size(); ++i) {
    if (stalls_[i].length < shortest_) continue;
    if (on_clock(stalls_[i]) >= when && on_clock(stalls_[i]) - when <= within) return i;
  }
  return std::nullopt;
}

std::string StallAllowance::last_stall_before(double at) const {
  const std::chrono::duration<double> when(at);
  const MachineStall* last = nullptr;
  for (const MachineStall& stall : stalls_)
    if (on_clock(stall) <= when && (last == nullptr || stall.start > last->start)) last = &stall;
  if (last == nullptr) return "none";
  std::ostringstream text;
  text << last->length.count() / 1000.0 << " ms on CPU " << last->cpu << ", "
       << std::chrono::duration<double, std::milli>(when - on_clock(*last)).count() << " ms earlier";
  return text.str();
}

std::optional<double> backend_log_time(const std::string& line) {
  const size_t open = line.find('['), close = line.find(']');
  if (open == std::string::npos || close == std::string::npos || close < open + 2) return std::nullopt;
  try {
    size_t used = 0;
    const std::string text = line.substr(open + 1, close - open - 1);
    const double seconds = std::stod(text, &used);
    if (used != text.size()) return std::nullopt;
    return seconds;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::vector<std::optional<double>> stream_starts(std::istream& backend_log, const std::string& stream) {
  const std::string opened = " stream " + stream + ": opened ", started = " stream " + stream + ": START at ";
  std::vector<std::optional<double>> starts;  // [open - 1]
  std::vector<unsigned> start_count;
  for (std::string line; std::getline(backend_log, line);) {
    if (line.find(opened) != std::string::npos) {
      starts.emplace_back();
      start_count.push_back(0);
    } else if (!starts.empty() && line.find(started) != std::string::npos) {
      if (++start_count.back() == 1) starts.back() = backend_log_time(line);
    }
  }
  for (size_t i = 0; i < starts.size(); ++i)
    if (start_count[i] != 1) starts[i].reset();
  return starts;
}

}  // namespace xensnd::e2e
