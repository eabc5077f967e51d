#include "tests/e2e/tone_check.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <numbers>
#include <sstream>

namespace xensnd::e2e {
namespace {

// Below this the tone (0.5 of full scale) is taken as absent: silence, or dither on it.
constexpr double kSilenceFloor = 1e-3;
// The recurrence's residual on a clean tone is a few quantization steps (2^-15 each for
// 16-bit); a splice leaves at least ~1e-2 (a phase jump of 1/200 cycle at amplitude 0.5).
constexpr double kSpliceThreshold = 4e-3;

}  // namespace

std::optional<std::vector<double>> wav_channel(const WavData& wav, unsigned channel) {
  if (wav.channels == 0 || channel >= wav.channels) return std::nullopt;
  const unsigned sample_bytes = wav.bits_per_sample / 8;
  const size_t frame = size_t{sample_bytes} * wav.channels;
  const bool pcm = wav.format_tag == 1 || wav.format_tag == 0xFFFE;
  const bool is_float = wav.format_tag == 3 && wav.bits_per_sample == 32;
  if (!(is_float || (pcm && (wav.bits_per_sample == 16 || wav.bits_per_sample == 32)))) return std::nullopt;
  std::vector<double> out;
  out.reserve(wav.data.size() / frame);
  for (size_t off = size_t{channel} * sample_bytes; off + sample_bytes <= wav.data.size(); off += frame) {
    const uint8_t* p = &wav.data[off];
    if (is_float) {
      float f;
      std::memcpy(&f, p, sizeof f);
      out.push_back(f);
    } else if (wav.bits_per_sample == 16) {
      int16_t v;
      std::memcpy(&v, p, sizeof v);
      out.push_back(v / 32768.0);
    } else {
      int32_t v;
      std::memcpy(&v, p, sizeof v);
      out.push_back(v / 2147483648.0);
    }
  }
  return out;
}

ToneReport analyse_tone(const std::vector<double>& x, unsigned rate, double hz, size_t edge) {
  ToneReport r;
  size_t first = 0;
  while (first < x.size() && std::fabs(x[first]) < kSilenceFloor) ++first;
  if (first == x.size()) return r;
  size_t last = x.size() - 1;
  while (last > first && std::fabs(x[last]) < kSilenceFloor) --last;
  r.first = first;
  r.last = last;
  r.seconds = static_cast<double>(last - first + 1) / rate;

  // Periods between rising zero crossings; one more than half again as long as the tone's
  // is a gap (silence mixed in: a splice, reported below), not the tone's frequency.
  const double longest_period = 1.5 * rate / hz;
  size_t periods = 0, period_samples = 0, previous_crossing = 0;
  for (size_t n = first + 1; n <= last; ++n) {
    r.amplitude = std::max(r.amplitude, std::fabs(x[n]));
    if (x[n - 1] < 0 && x[n] >= 0) {
      const size_t length = n - previous_crossing;
      if (previous_crossing != 0 && length <= longest_period) {
        ++periods;
        period_samples += length;
      }
      previous_crossing = n;
    }
  }
  if (periods > 0) r.frequency = static_cast<double>(periods) * rate / static_cast<double>(period_samples);

  const double c = 2 * std::cos(2 * std::numbers::pi * hz / rate);
  for (size_t n = first + edge + 2; n + edge <= last; ++n) {
    const double residual = std::fabs(x[n] - c * x[n - 1] + x[n - 2]);
    // One splice breaks the recurrence at two or three consecutive samples: count it once.
    if (residual > kSpliceThreshold && (r.splices.empty() || n > r.splices.back() + 2)) r.splices.push_back(n);
  }
  return r;
}

std::string ToneReport::describe(unsigned rate) const {
  std::ostringstream out;
  out << "tone of " << seconds << " s from sample " << first << " to " << last << ", " << frequency
      << " Hz, amplitude " << amplitude << ", " << splices.size() << " splices";
  for (size_t i = 0; i < splices.size() && i < 12; ++i)
    out << (i ? ", " : " at s ") << static_cast<double>(splices[i]) / rate;
  if (splices.size() > 12) out << ", ...";
  return out.str();
}

}  // namespace xensnd::e2e
