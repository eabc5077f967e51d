#include "tests/e2e/recorded_splices.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>

namespace xensnd::e2e {
namespace {

// Samples next to a splice left out of a span: the tone check marks a splice where the sine's
// recurrence breaks, which can be a couple of samples after the frames changed.
constexpr size_t kSpliceMargin = 8;
// How much of a span is matched: ten milliseconds, and a span's first samples are enough.
constexpr size_t kMatchedSamples = 480;
// Two samples are the same frame only when they are the same in 16 bits: the loop copies
// frames bit for bit (and a 16-bit recording of them converts exactly), and a recording of
// the sine source rounds it to the nearest step. Nothing looser tells lags apart: the tone
// shifted by 4333 frames is 1/48000 of a cycle off, two steps at its peaks.
constexpr double kSameFrame = 0.5 / 32768 + 1e-9;
// How close the splice marks of the same break in two WAVs are (each marks its own break).
constexpr int64_t kSameSplice = 16;

bool holds_the_tone(const std::vector<double>& samples, size_t from, size_t to) {
  // A sine is above half its amplitude for two thirds of each cycle: a cycle's worth (48 at
  // 997 Hz and 48 kHz) of such samples is more than a splice's edge of silence has.
  const auto loud = std::count_if(samples.begin() + static_cast<std::ptrdiff_t>(from),
                                  samples.begin() + static_cast<std::ptrdiff_t>(to),
                                  [](double v) { return std::fabs(v) > kToneAmplitude / 2; });
  return loud >= 32;
}

// Whether recording[from, to) is digital silence (a splice's edges left out).
bool digital_silence(const std::vector<double>& samples, size_t from, size_t to) {
  to = std::min(to, samples.size());
  if (to < from + 2 * kSpliceMargin) return false;
  return std::all_of(samples.begin() + static_cast<std::ptrdiff_t>(from + kSpliceMargin),
                     samples.begin() + static_cast<std::ptrdiff_t>(to - kSpliceMargin),
                     [](double v) { return std::fabs(v) <= kSameFrame; });
}

// The first lag measured at or after span `from`.
std::optional<int64_t> next_lag(const std::vector<std::optional<int64_t>>& lags, size_t from) {
  for (size_t i = from; i < lags.size(); ++i)
    if (lags[i]) return lags[i];
  return std::nullopt;
}

}  // namespace

std::optional<int64_t> exact_lag(const std::vector<double>& recording, size_t from, size_t to,
                                 const Reference& reference, int64_t hint, int64_t reach) {
  to = std::min(to, recording.size());
  if (to < from + 2 * kSpliceMargin) return std::nullopt;
  const size_t begin = from + kSpliceMargin, end = std::min(to - kSpliceMargin, begin + kMatchedSamples);
  if (!holds_the_tone(recording, begin, end)) return std::nullopt;
  std::optional<int64_t> found;
  for (int64_t lag = hint - reach; lag <= hint + reach; ++lag) {
    bool same = true;
    for (size_t n = begin; n < end && same; ++n) {
      const std::optional<double> frame = reference.frame(static_cast<int64_t>(n) - lag);
      same = frame && std::fabs(recording[n] - *frame) <= kSameFrame;
    }
    if (!same) continue;
    if (found) return std::nullopt;  // two lags fit: the span cannot tell
    found = lag;
  }
  return found;
}

Reference played_wav(const std::vector<double>& samples, const ToneReport& report) {
  Reference reference;
  reference.frame = [&samples](int64_t frame) -> std::optional<double> {
    if (frame < 0 || frame >= static_cast<int64_t>(samples.size())) return std::nullopt;
    return samples[static_cast<size_t>(frame)];
  };
  reference.splices = report.splices;
  reference.first = report.first;
  reference.reach = 8192;  // a sound server drops a few quanta at once at most
  return reference;
}

Reference sine_source(double hz, unsigned rate) {
  // One second of it, which is all of it.
  auto second = std::make_shared<std::vector<double>>(rate);
  for (unsigned n = 0; n < rate; ++n)
    (*second)[n] = std::nearbyint(0.5 * std::sin(2 * M_PI * hz * n / rate) * 32768) / 32768;
  Reference reference;
  reference.frame = [second](int64_t frame) -> std::optional<double> {
    if (frame < 0) return std::nullopt;
    return (*second)[static_cast<size_t>(frame % static_cast<int64_t>(second->size()))];
  };
  reference.first = 0;
  // Lags half a second either side of the guess: within one repetition, so each span has
  // exactly one (a recording begins within that of the capture's START, and loses less).
  reference.reach = static_cast<int64_t>(rate) / 2 - 1;
  return reference;
}

RecordingReading read_recording(const AnalysedWav& recording, const Reference& reference) {
  const std::vector<size_t>& splices = recording.report.splices;
  // Span i runs from splice i - 1 (or the tone's first sample) to splice i (or past its last).
  std::vector<std::optional<int64_t>> lags(splices.size() + 1);
  // Until a span says otherwise, the tone began at the same frame of both.
  const int64_t guess = static_cast<int64_t>(recording.report.first) - static_cast<int64_t>(reference.first);
  int64_t hint = guess;
  size_t from = recording.report.first;
  for (size_t i = 0; i <= splices.size(); ++i) {
    const size_t to = i < splices.size() ? splices[i] : recording.report.last + 1;
    lags[i] = exact_lag(recording.samples, from, to, reference, hint, reference.reach);
    if (lags[i]) hint = *lags[i];
    from = to;
  }
  RecordingReading reading;
  int64_t lag = lags[0].value_or(guess);
  for (size_t i = 0; i < splices.size(); ++i) {
    const auto k = static_cast<int64_t>(splices[i]);
    const std::optional<int64_t> after = next_lag(lags, i + 1);
    const bool copy = std::any_of(reference.splices.begin(), reference.splices.end(),
                                  [&](size_t p) { return std::llabs(k - lag - static_cast<int64_t>(p)) <= kSameSplice; });
    if ((!after || *after == lag) && copy) {
      ++reading.copies;
      continue;
    }
    // Digital silence up to the next splice, where the reference had none: the frames it
    // stands for are lost, and the lag after it says how many more.
    if (i + 1 < splices.size() && digital_silence(recording.samples, splices[i], splices[i + 1])) {
      const auto silence = static_cast<int64_t>(splices[i + 1] - splices[i]);
      const std::optional<int64_t> beyond = next_lag(lags, i + 2);
      reading.left.push_back({splices[i], k - lag, silence + lag - beyond.value_or(lag), silence});
      lag = beyond.value_or(lag);
      ++i;  // the silence's end is the same splice
      continue;
    }
    if (after && *after != lag) {
      reading.left.push_back({splices[i], k - lag, lag - *after, 0});
      lag = *after;
      continue;
    }
    reading.left.push_back({splices[i], k - lag, 0, 0});
  }
  return reading;
}

}  // namespace xensnd::e2e
