#include "tests/e2e/loopback_recording.h"

#include <cstdlib>
#include <string>

namespace xensnd::e2e {

RecordingReading not_played_back(const AnalysedWav& recording, const AnalysedWav& played) {
  return read_recording(recording, played_wav(played.samples, played.report));
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
