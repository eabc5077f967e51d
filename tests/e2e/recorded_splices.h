// A client's recording read against what it should hold, frame by frame: the reference
// backend's loopback of a played WAV ("loopback:0/0"), which copies frames bit for bit, its
// sine source ("sine:HZ"), frame n of a run being 0.5 sin(2 pi HZ n / rate), or the tone a
// client played. The recording is cut into stretches that are the reference shifted by a lag,
// each found by matching samples exactly (the tone repeats itself exactly only after a second:
// tone_check.h) and followed sample by sample to where it stops; so each splice between two
// stretches says which frames of the reference were lost, repeated or replaced there, whether
// or not the tone check saw it (a loss of 192 frames, 3.99 cycles of the tone, landing at the
// right phase leaves the sine's recurrence almost whole: seen at quantum 64).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <istream>
#include <optional>
#include <vector>

#include "tests/e2e/tone_check.h"

namespace xensnd::e2e {

// What a recording should hold. Recording sample n holds reference frame n - lag.
struct Reference {
  std::function<std::optional<double>(int64_t frame)> frame;  // none outside the reference
  std::vector<size_t> splices;  // the reference's own splices, which come back in a recording of it
  size_t first = 0;             // its tone's first frame
  int64_t reach = 8192;         // how far apart the lags of two spans can be (and still be told apart)
};

// The backend's WAV of a playback stream, as the loop copies it.
Reference played_wav(const std::vector<double>& samples, const ToneReport& report);
// The backend's sine source at `rate` (`hz` a whole number, so that it repeats every second
// exactly), as a client records it: the card's float samples (the backend writes the sine as
// float) scaled by 32768 in float and rounded half to even, as PipeWire converts them to 16
// bits (rounded in double instead, 6 samples a second differ by a step: float makes ties).
Reference sine_source(double hz, unsigned rate);

// A splice of the recording that is not the reference's own come back: where the recording
// stops being the reference (`sample`), the first frame of the reference missing there
// (`reference_at`), how many frames of the reference the recording lost (`dropped`: negative
// when it repeats frames, 0 when nothing was lost or the loss could not be measured), and
// what it holds in their place up to where it is the reference again: frames of digital
// silence (`silence`), and frames that are neither (`foreign`: stale or made-up frames).
struct RecordedSplice {
  size_t sample = 0;
  int64_t reference_at = 0;
  int64_t dropped = 0;
  int64_t silence = 0;
  int64_t foreign = 0;
};

struct RecordingReading {
  std::vector<RecordedSplice> left;  // the splices that are not the reference's own
  size_t copies = 0;                 // how many were
  size_t stretches = 0;              // stretches that are the reference (none: it is not)
};

// A recording and its analysis (channel 0, samples in [-1, 1)).
struct AnalysedWav {
  const std::vector<double>& samples;
  const ToneReport& report;
};

// Reads `recording` (its tone's span) against `reference`: the reference's own splices inside
// a stretch come back as they were (copies); between two stretches the lag moved by the frames
// lost (or repeated), and a block of digital silence in the gap lost the frames it stands for
// too (a PipeWire follower that found too little to read plays a quantum of zeros).
RecordingReading read_recording(const AnalysedWav& recording, const Reference& reference);

// The lag of recording[from, to) behind `reference` (recording[n] is reference frame n - lag),
// searched within `reach` frames of `hint`; none when the span holds too little of the tone
// to tell or no lag, or more than one, fits.
std::optional<int64_t> exact_lag(const std::vector<double>& recording, size_t from, size_t to,
                                 const Reference& reference, int64_t hint, int64_t reach);

}  // namespace xensnd::e2e
