// Checks a recorded sine tone for what a sound path must never do to it: drop frames, repeat
// them, replay stale ones or insert silence. A pure sine obeys x[n] = 2cos(w) x[n-1] - x[n-2];
// a splice (a dropout, a repeated or stale block, a gap) breaks that recurrence by more than
// quantization does, because the tone's frequency is chosen so that no block of fewer than a
// second of frames is a whole number of its periods. Not every one, though: a block close to
// a whole number of them (192 frames are 3.99 periods) shifts the phase so little that, cut
// at the right phase, it passes; where the tone's source is known sample for sample,
// recorded_splices.h finds those too.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "tests/e2e/audio_data.h"

namespace xensnd::e2e {

// 997 Hz is prime and does not divide 48000: a splice of n frames shifts the phase by
// n*997/48000 of a cycle, which is a whole cycle only for n a multiple of 48000.
constexpr double kToneHz = 997;
constexpr double kToneAmplitude = 0.5;  // of full scale

// Channel `channel` of a WAV as samples in [-1, 1); nullopt for an encoding this cannot read
// (PCM 16/32-bit, IEEE float 32-bit).
std::optional<std::vector<double>> wav_channel(const WavData& wav, unsigned channel = 0);

struct ToneReport {
  size_t first = 0, last = 0;        // the tone's span: first and last sample above the silence floor
  double seconds = 0;                // length of that span
  double frequency = 0;              // from the periods between zero crossings (gaps left out)
  double amplitude = 0;              // largest |sample| in the span
  std::vector<size_t> splices;       // samples inside the span where the recurrence breaks
  std::string describe(unsigned rate) const;
};

// Analyses `samples` at `rate` for a sine of `hz`. `edge` samples at either end of the span
// are not checked for splices (a stream's start and end are splices of the tone with silence).
ToneReport analyse_tone(const std::vector<double>& samples, unsigned rate, double hz, size_t edge);

}  // namespace xensnd::e2e
