// Shared steps of the end-to-end tests: play a pattern with aplay or the scenario tool and
// compare what the backend wrote.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/e2e/audio_data.h"
#include "tests/e2e/software_xen.h"

namespace xensnd::e2e {

struct PcmFormat {
  std::string alsa_name;  // S16_LE ...
  unsigned sample_bytes;
  unsigned rate;
  unsigned channels;
  std::string label() const {
    return alsa_name + "_" + std::to_string(rate) + "Hz_" + std::to_string(channels) + "ch";
  }
};

// Test names and failure messages show the label, not the bytes.
inline void PrintTo(const PcmFormat& f, std::ostream* os) { *os << f.label(); }

inline std::vector<uint8_t> make_clip(const PcmFormat& f, double seconds, uint32_t seed) {
  const size_t frames = static_cast<size_t>(f.rate * seconds);
  return pattern_bytes(frames * f.sample_bytes * f.channels, seed);
}

// The guest's aplay of a raw clip; returns its result.
inline RunResult aplay_raw(const SoftwareXen& xen, const PcmFormat& f, const std::filesystem::path& clip,
                           const std::string& device = "xensnd", std::vector<std::string> extra = {}) {
  std::vector<std::string> argv{"aplay", "-q", "-D", device, "-t", "raw", "-f", f.alsa_name,
                                "-r", std::to_string(f.rate), "-c", std::to_string(f.channels)};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(clip.string());
  return xen.run_guest(argv, std::chrono::seconds(30), "aplay");
}

// The backend's WAV holds exactly `want`, followed by nothing but the silence a paced
// device plays when the stream ends mid-period (the reference backend records what its
// device played, and an underrun at the end of a drain plays silence up to the period).
inline void expect_sink_equals(const SoftwareXen& xen, const std::vector<uint8_t>& want, unsigned open = 1) {
  auto wav = read_wav(xen.sink_wav(0, 0, open));
  ASSERT_TRUE(wav.has_value()) << "the backend wrote no WAV at " << xen.sink_wav(0, 0, open);
  const std::vector<uint8_t> head = slice(wav->data, 0, want.size());
  EXPECT_TRUE(head == want) << describe_difference(head, want);
  const size_t frame = wav->channels * ((wav->bits_per_sample + 7) / 8);
  const size_t padding = wav->data.size() - head.size();
  EXPECT_LE(padding, size_t{wav->rate} * frame / 2) << "more than 0.5 s after the end of the clip";
  const uint8_t silence = wav->bits_per_sample == 8 ? 0x80 : 0;  // WAV's 8-bit PCM is unsigned
  for (size_t i = head.size(); i < wav->data.size(); ++i)
    if (wav->data[i] != silence) {
      ADD_FAILURE() << "non-silent byte " << i - head.size() << " bytes after the end of the clip";
      break;
    }
}

inline std::string failure_text(const RunResult& r) {
  return r.status.describe() + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

}  // namespace xensnd::e2e
