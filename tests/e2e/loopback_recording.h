// A client's recording of the reference backend's loopback ("loopback:0/0"): which of its
// splices are the played tone's own come back, which are frames the capture side skipped
// (and how many), and when those frames were played.
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <optional>
#include <vector>

#include "tests/e2e/tone_check.h"

namespace xensnd::e2e {

// A splice of the recording that is not the played tone's own come back: where its frames
// were in the backend's WAV of the playback (`played_at`, a sample index there: the first
// frame missing, for a skip), how many played frames the recording lost there (`dropped`:
// negative when it repeats frames, 0 when nothing was lost or the loss could not be
// measured), and how many frames of digital silence it holds in their place (`silence`).
struct RecordedSplice {
  size_t sample = 0;
  int64_t played_at = 0;
  int64_t dropped = 0;
  int64_t silence = 0;
};

struct LoopbackReading {
  std::vector<RecordedSplice> left;  // the splices that are not the played tone's own
  size_t copies = 0;                 // how many were
};

// A recording and its analysis (channel 0, samples in [-1, 1)).
struct AnalysedWav {
  const std::vector<double>& samples;
  const ToneReport& report;
};

// Reads `recording` against `played`: the backend's loopback copies the played frames bit for
// bit, so between two splices the recording is the played WAV shifted by a lag, measured
// exactly there by matching the samples (the tone repeats itself exactly only after a second:
// tone_check.h). A splice across which the lag holds and where the played WAV has a splice too
// is the played tone's own; one across which the lag changes lost (or repeated) that many frames;
// a block of digital silence where the played WAV has none lost the frames it stands for (a
// PipeWire follower that found too little to read plays a quantum of zeros).
LoopbackReading not_played_back(const AnalysedWav& recording, const AnalysedWav& played);

// The lag of recording[from, to) behind `played` (recording[n] == played[n - lag] to within
// quantization), searched within `reach` frames of `hint`; none when the span holds too little
// of the tone to tell or no lag, or more than one, fits.
std::optional<int64_t> exact_lag(const std::vector<double>& recording, size_t from, size_t to,
                                 const std::vector<double>& played, int64_t hint, int64_t reach);

// How far behind playback stream 0/0 the backend's loopback capture (stream 0/1) runs, in
// seconds at `rate`: what it held when it began delivering after the capture's START.
std::optional<double> loopback_lag(std::istream& backend_log, unsigned rate);

}  // namespace xensnd::e2e
