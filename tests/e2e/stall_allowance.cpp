#include "tests/e2e/stall_allowance.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace xensnd::e2e {
namespace {

std::chrono::duration<double> on_clock(const MachineStall& stall) { return stall.start.time_since_epoch(); }

// The guest's stalls: stalls that overlap or follow each other within the monitor's tick, on
// any CPU, are one. A graph thread held up on one vCPU and then on the other (seen: 4.1 ms on
// CPU 1, then 2.0 ms on CPU 0 right after) lost the time of both.
std::vector<MachineStall> merged(std::vector<MachineStall> stalls, std::chrono::microseconds tick) {
  std::sort(stalls.begin(), stalls.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
  std::vector<MachineStall> out;
  for (const MachineStall& stall : stalls) {
    if (!out.empty() && stall.start <= out.back().start + out.back().length + tick) {
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
                               std::string machine, std::chrono::microseconds tick)
    : stalls_(merged(std::move(stalls), tick)), shortest_(shortest), tick_(tick), machine_(std::move(machine)) {}

StallAllowance::StallAllowance(const MachineStallMonitor& monitor, std::chrono::microseconds shortest)
    : StallAllowance(monitor.stalls(), shortest, monitor.describe(), monitor.interval()) {
  const auto seconds = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
  };
  run_ = {seconds(monitor.started()), seconds(std::chrono::steady_clock::now())};
}

// The monitor sees a pause as the lateness of its next wake-up, so a pause began up to a tick
// before the stall it recorded and lasted up to a tick longer; it ended when recorded.
bool StallAllowance::long_enough(const MachineStall& stall) const { return stall.length + tick_ >= shortest_; }

std::optional<size_t> StallAllowance::explains(double at) const {
  const std::chrono::duration<double> when(at);
  std::optional<size_t> latest;
  for (size_t i = 0; i < stalls_.size(); ++i) {
    if (!long_enough(stalls_[i])) continue;
    const auto began = on_clock(stalls_[i]) - tick_;
    if (began <= when && when - on_clock(stalls_[i]) <= stalls_[i].length + kWindow) latest = i;
  }
  return latest;
}

std::optional<size_t> StallAllowance::precedes(double at, std::chrono::microseconds within) const {
  const std::chrono::duration<double> when(at);
  for (size_t i = 0; i < stalls_.size(); ++i) {
    if (!long_enough(stalls_[i])) continue;
    if (on_clock(stalls_[i]) >= when && on_clock(stalls_[i]) - tick_ - when <= within) return i;
  }
  return std::nullopt;
}

double StallAllowance::excused_share(double from, double to, std::chrono::microseconds before) const {
  if (to <= from) return 0;
  // The windows, in order of their start (the stalls are), merged where they overlap.
  double covered = 0, end = from;
  for (const MachineStall& stall : stalls_) {
    if (!long_enough(stall)) continue;
    const std::chrono::duration<double> window_opens = on_clock(stall) - tick_ - before,
                                        window_closes = on_clock(stall) + stall.length + kWindow;
    const double opens = std::max(end, window_opens.count()), closes = std::min(to, window_closes.count());
    if (closes > opens) {
      covered += closes - opens;
      end = closes;
    }
  }
  return covered / (to - from);
}

double StallAllowance::excused_share(std::chrono::microseconds before) const {
  if (!run_) throw std::logic_error("excused_share: the allowance was not made from a monitor: give the run");
  return excused_share(run_->first, run_->second, before);
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

namespace {

// The number after `label` in `line` ("START at position 9600").
std::optional<uint64_t> number_after(const std::string& line, const std::string& label) {
  const size_t at = line.find(label);
  if (at == std::string::npos) return std::nullopt;
  char* end = nullptr;
  const char* text = line.c_str() + at + label.size();
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (end == text) return std::nullopt;
  return value;
}

}  // namespace

std::vector<std::vector<StreamRun>> stream_runs(std::istream& backend_log, const std::string& stream,
                                                bool after_underruns) {
  const std::string opened = " stream " + stream + ": opened ", started = " stream " + stream + ": START at position ",
                    stopped = " stream " + stream + ": STOP at position ",
                    underrun = " stream " + stream + ": underrun #";
  struct Open {
    std::vector<StreamRun> runs;
    uint64_t bytes = 0;                   // of the WAV, by the runs that ended
    std::optional<uint64_t> run_started;  // the position the running run started at
    bool broken = false;
  };
  std::vector<Open> opens;
  for (std::string line; std::getline(backend_log, line);) {
    if (line.find(opened) != std::string::npos) {
      opens.emplace_back();
      continue;
    }
    if (opens.empty()) continue;
    Open& open = opens.back();
    if (const std::optional<uint64_t> position = number_after(line, started)) {
      const std::optional<double> time = backend_log_time(line);
      if (open.run_started || !time) open.broken = true;
      open.runs.push_back({time.value_or(0), open.bytes});
      open.run_started = position;
    } else if (after_underruns && line.find(underrun) != std::string::npos) {
      // The device ran dry at that position and played on when data came, at the line's
      // time: what follows in the WAV (which holds no gap) is a run of its own.
      if (!open.run_started) continue;
      const std::optional<uint64_t> position = number_after(line, " at position ");
      const std::optional<double> time = backend_log_time(line);
      if (!position || !time || *position < *open.run_started)
        open.broken = true;
      else
        open.runs.push_back({*time, open.bytes + (*position - *open.run_started)});
    } else if (line.find(stopped) != std::string::npos) {
      if (!open.run_started) continue;  // a stream that was not running wrote nothing
      const std::optional<uint64_t> position = number_after(line, stopped);
      if (!position || *position < *open.run_started)
        open.broken = true;
      else
        open.bytes += *position - *open.run_started;
      open.run_started.reset();
    }
  }
  std::vector<std::vector<StreamRun>> runs;
  for (Open& open : opens) runs.push_back(open.broken ? std::vector<StreamRun>{} : std::move(open.runs));
  return runs;
}

std::optional<double> run_time(const std::vector<StreamRun>& runs, uint64_t frame, unsigned rate, unsigned frame_bytes) {
  if (runs.empty() || rate == 0 || frame_bytes == 0) return std::nullopt;
  const uint64_t byte = frame * frame_bytes;
  const auto run = std::find_if(runs.rbegin(), runs.rend(), [&](const StreamRun& r) { return r.first_byte <= byte; });
  if (run == runs.rend()) return std::nullopt;
  return run->started + static_cast<double>((byte - run->first_byte) / frame_bytes) / rate;
}

}  // namespace xensnd::e2e
