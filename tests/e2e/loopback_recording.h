// A client's recording of the reference backend's loopback ("loopback:0/0"): which of its
// splices are the played tone's own come back, and when its frames were captured.
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <optional>
#include <vector>

#include "tests/e2e/tone_check.h"

namespace xensnd::e2e {

// A splice of the recording that is not the played tone's own come back, and where its
// frames were in the backend's WAV of the playback (`played_at`, a sample index there).
struct RecordedSplice {
  size_t sample = 0;
  int64_t played_at = 0;
};

// The splices of `recording` that are not splices of `played` come back through the loop:
// the recording runs behind the played WAV by what it did at the tone's start, less what the
// capture side skipped since (each match says by how much exactly). `copies`: how many were.
std::vector<RecordedSplice> not_played_back(const ToneReport& recording, const ToneReport& played, size_t& copies);

// How far behind playback stream 0/0 the backend's loopback capture (stream 0/1) runs, in
// seconds at `rate`: what it held when it began delivering after the capture's START.
std::optional<double> loopback_lag(std::istream& backend_log, unsigned rate);

}  // namespace xensnd::e2e
