#include "tests/e2e/recorded_splices.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>

namespace xensnd::e2e {
namespace {

// Samples at the edges of a span left out when its lag is measured, and the most a splice may
// hold that is neither the reference nor silence and still be a clean cut.
constexpr size_t kSpliceMargin = 8;
// How much of a span exact_lag() matches: ten milliseconds, and a span's first samples are enough.
constexpr size_t kMatchedSamples = 480;
// Two samples are the same frame only when they are the same in 16 bits: the loop copies
// frames bit for bit (and a 16-bit recording of them converts exactly), and a recording of
// the sine source rounds it to the nearest step. Nothing looser tells lags apart: the tone
// shifted by 4333 frames is 1/48000 of a cycle off, two steps at its peaks.
constexpr double kSameFrame = 0.5 / 32768 + 1e-9;

bool holds_the_tone(const std::vector<double>& samples, size_t from, size_t to) {
  // A sine is above half its amplitude for two thirds of each cycle, and for at least half
  // of any two thirds of one: 32 such samples (or half of a shorter stretch) are more than a
  // splice's edge of silence has.
  const auto loud = std::count_if(samples.begin() + static_cast<std::ptrdiff_t>(from),
                                  samples.begin() + static_cast<std::ptrdiff_t>(to),
                                  [](double v) { return std::fabs(v) > kToneAmplitude / 2; });
  return loud >= static_cast<std::ptrdiff_t>(std::min<size_t>(32, (to - from) / 2));
}

bool silent(double sample) { return std::fabs(sample) <= kSameFrame; }

// Whether recording[from, to) is digital silence (a splice's edges left out).
bool digital_silence(const std::vector<double>& samples, size_t from, size_t to) {
  to = std::min(to, samples.size());
  if (to < from + 2 * kSpliceMargin) return false;
  return std::all_of(samples.begin() + static_cast<std::ptrdiff_t>(from + kSpliceMargin),
                     samples.begin() + static_cast<std::ptrdiff_t>(to - kSpliceMargin), silent);
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
    (*second)[n] = std::nearbyint(static_cast<float>(0.5 * std::sin(2 * M_PI * hz * n / rate)) * 32768.0f) / 32768;
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

namespace {

// Whether recording sample n is reference frame n - lag.
bool matches(const std::vector<double>& recording, size_t n, const Reference& reference, int64_t lag) {
  const std::optional<double> frame = reference.frame(static_cast<int64_t>(n) - lag);
  return frame && std::fabs(recording[n] - *frame) <= kSameFrame;
}

// A stretch of the recording that is the reference shifted by `lag`: [begin, end).
struct Segment {
  size_t begin = 0, end = 0;
  int64_t lag = 0;
};

// Enough of the tone to tell lags apart: two thirds of a cycle (48 frames) hold a zero
// crossing, where the nearest look-alike lag is two steps off. Less than a quantum at 64
// frames, so that a quantum kept between two lost is found as a stretch of its own.
constexpr size_t kWindow = 32;
constexpr size_t kWindowStep = 8;

// The first segment of the recording at or after `from` (and before `to`): found by a window
// that fits exactly one lag within `reach` of `hint`, then followed sample by sample both ways.
std::optional<Segment> next_segment(const std::vector<double>& recording, size_t from, size_t to,
                                    const Reference& reference, int64_t hint) {
  // exact_lag() leaves a span's margins out: the window is exactly [w, w + kWindow).
  for (size_t w = std::max(from, kSpliceMargin); w + kWindow <= to; w += kWindowStep) {
    const std::optional<int64_t> lag =
        exact_lag(recording, w - kSpliceMargin, w + kWindow + kSpliceMargin, reference, hint, reference.reach);
    if (!lag) continue;
    Segment segment{w, w, *lag};
    while (segment.begin > from && matches(recording, segment.begin - 1, reference, *lag)) --segment.begin;
    while (segment.end < to && matches(recording, segment.end, reference, *lag)) ++segment.end;
    // The tone is exactly 0 at some frames: one that meets a block of silence belongs to it.
    while (segment.end > w + kWindow && segment.end < to && silent(recording[segment.end]) &&
           silent(recording[segment.end - 1]))
      --segment.end;
    while (segment.begin < w && segment.begin > from && silent(recording[segment.begin - 1]) &&
           silent(recording[segment.begin]))
      ++segment.begin;
    return segment;
  }
  return std::nullopt;
}

// How many of recording[from, to) are digital silence.
int64_t silent_samples(const std::vector<double>& recording, size_t from, size_t to) {
  return std::count_if(recording.begin() + static_cast<std::ptrdiff_t>(from),
                       recording.begin() + static_cast<std::ptrdiff_t>(to),
                       silent);
}

}  // namespace

RecordingReading read_recording(const AnalysedWav& recording, const Reference& reference) {
  const std::vector<double>& samples = recording.samples;
  const size_t first = recording.report.first, end = std::min(recording.report.last + 1, samples.size());
  RecordingReading reading;
  // What recording[from, to) holds instead of the reference's frames from `from` on (at
  // `lag`): digital silence, and frames that are neither.
  const auto splice_over = [&](size_t from, size_t to, int64_t lag) {
    const auto gap = static_cast<int64_t>(to - from);
    const int64_t silence = silent_samples(samples, from, to);
    return RecordedSplice{from, static_cast<int64_t>(from) - lag, 0, silence, gap - silence};
  };
  // Until a segment says otherwise, the tone began at the same frame of both.
  int64_t hint = static_cast<int64_t>(first) - static_cast<int64_t>(reference.first);
  std::vector<Segment> segments;
  for (size_t at = first; at < end;) {
    const std::optional<Segment> segment = next_segment(samples, at, end, reference, hint);
    const size_t resumed = segment ? segment->begin : end;
    if (!segments.empty() && (segment || resumed > at + kSpliceMargin)) {
      // Between two segments (or after the last), and how far the lag moved.
      RecordedSplice splice = splice_over(at, resumed, segments.back().lag);
      if (segment) splice.dropped = static_cast<int64_t>(resumed - at) + segments.back().lag - segment->lag;
      reading.left.push_back(splice);
    } else if (segment && resumed > first + kSpliceMargin && !digital_silence(samples, first, resumed)) {
      // Tone before the first stretch that is the reference: frames from nowhere.
      reading.left.push_back(splice_over(first, resumed, segment->lag));
    }
    if (!segment) break;
    segments.push_back(*segment);
    hint = segment->lag;
    at = segment->end;
  }
  reading.stretches = segments.size();
  // The reference's own splices that came back: inside a stretch that is the reference.
  for (size_t p : reference.splices)
    if (std::any_of(segments.begin(), segments.end(), [&](const Segment& s) {
          const int64_t at = static_cast<int64_t>(p) + s.lag;
          return at >= static_cast<int64_t>(s.begin) && at < static_cast<int64_t>(s.end);
        }))
      ++reading.copies;
  return reading;
}

}  // namespace xensnd::e2e
