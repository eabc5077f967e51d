// A client's recording of the reference backend's loopback ("loopback:0/0"): read against the
// backend's WAV of the playback (recorded_splices.h), and placed on the clock by the loop's lag.
#pragma once

#include <istream>
#include <optional>

#include "tests/e2e/recorded_splices.h"

namespace xensnd::e2e {

// `recording` read against `played`, the backend's WAV of playback stream 0/0.
RecordingReading not_played_back(const AnalysedWav& recording, const AnalysedWav& played);

// How far behind playback stream 0/0 the backend's loopback capture (stream 0/1) runs, in
// seconds at `rate`: what it held when it began delivering after the capture's START.
std::optional<double> loopback_lag(std::istream& backend_log, unsigned rate);

}  // namespace xensnd::e2e
