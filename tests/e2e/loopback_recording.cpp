#include "tests/e2e/loopback_recording.h"

#include <algorithm>
#include <cstdlib>
#include <string>

namespace xensnd::e2e {

std::vector<RecordedSplice> not_played_back(const ToneReport& recording, const ToneReport& played, size_t& copies) {
  constexpr int64_t kTolerance = 2048;  // frames: what skips shift the loop by between two matches
  int64_t lag = static_cast<int64_t>(recording.first) - static_cast<int64_t>(played.first);
  std::vector<RecordedSplice> left;
  copies = 0;
  for (size_t sample : recording.splices) {
    const int64_t k = static_cast<int64_t>(sample);
    const auto copy = std::find_if(played.splices.begin(), played.splices.end(), [&](size_t p) {
      return std::llabs(k - static_cast<int64_t>(p) - lag) <= kTolerance;
    });
    if (copy == played.splices.end()) {
      left.push_back({sample, k - lag});
      continue;
    }
    lag = k - static_cast<int64_t>(*copy);
    ++copies;
  }
  return left;
}

std::optional<double> loopback_lag(std::istream& backend_log, unsigned rate) {
  const std::string started = " stream 0/1: START at ", delivering = "loopback from 0/0: delivering, ";
  bool after_start = false;
  for (std::string line; std::getline(backend_log, line);) {
    if (line.find(started) != std::string::npos) after_start = true;
    const size_t at = line.find(delivering);
    if (after_start && at != std::string::npos) {
      char* end = nullptr;
      const long long frames = std::strtoll(line.c_str() + at + delivering.size(), &end, 10);
      if (end == line.c_str() + at + delivering.size() || frames < 0) return std::nullopt;
      return static_cast<double>(frames) / rate;
    }
  }
  return std::nullopt;
}

}  // namespace xensnd::e2e
