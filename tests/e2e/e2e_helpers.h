// Shared steps of the end-to-end tests: play a pattern with aplay or the scenario tool and
// compare what the backend wrote.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "plugin/frame_ledger.h"
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

// The silence a playback run starts with: the pointer's lead, played by the device before the
// run's first frame (plugin/README.md), in bytes of a WAV at `rate` with `frame`-byte frames.
inline size_t run_lead_bytes(unsigned rate, size_t frame) {
  return plugin::FrameLedger::transport_lead_frames(rate) * frame;
}

// `bytes` of `data` from `from` are all `silence`; otherwise a failure naming the first other.
inline void expect_silent(const std::vector<uint8_t>& data, size_t from, size_t bytes, uint8_t silence,
                          const std::string& what) {
  for (size_t i = from; i < from + bytes && i < data.size(); ++i)
    if (data[i] != silence) {
      ADD_FAILURE() << "non-silent byte " << i - from << " bytes into " << what;
      return;
    }
}

inline size_t wav_frame_bytes(const WavData& wav) { return wav.channels * ((wav.bits_per_sample + 7) / 8); }
inline uint8_t wav_silence(const WavData& wav) { return wav.bits_per_sample == 8 ? 0x80 : 0; }  // 8-bit is unsigned

// What a run played after its leading silence, which must be there (exactly run_lead_bytes()
// of silence; a failure otherwise).
inline std::vector<uint8_t> after_run_lead(const WavData& wav) {
  const size_t lead = run_lead_bytes(wav.rate, wav_frame_bytes(wav));
  EXPECT_GE(wav.data.size(), lead) << "shorter than the run's leading silence";
  expect_silent(wav.data, 0, lead, wav_silence(wav), "the run's leading silence");
  return slice(wav.data, lead, wav.data.size());
}

// The WAV at `path` holds the run's leading silence (exactly run_lead_bytes()), then exactly
// `want`, followed by nothing but the silence a paced device plays when the stream ends
// mid-period (the reference backend records what its device played, and an underrun at the
// end of a drain plays silence up to the period).
inline void expect_wav_equals(const std::filesystem::path& path, const std::vector<uint8_t>& want) {
  auto wav = read_wav(path);
  ASSERT_TRUE(wav.has_value()) << "the backend wrote no WAV at " << path;
  const size_t frame = wav_frame_bytes(*wav);
  const uint8_t silence = wav_silence(*wav);
  const size_t lead = run_lead_bytes(wav->rate, frame);
  ASSERT_GE(wav->data.size(), lead) << "shorter than the run's leading silence";
  expect_silent(wav->data, 0, lead, silence, "the run's leading silence");
  const std::vector<uint8_t> head = slice(wav->data, lead, lead + want.size());
  EXPECT_TRUE(head == want) << describe_difference(head, want);
  const size_t padding = wav->data.size() - lead - head.size();
  EXPECT_LE(padding, size_t{wav->rate} * frame / 2) << "more than 0.5 s after the end of the clip";
  expect_silent(wav->data, lead + head.size(), padding, silence, "what followed the clip");
}

inline void expect_sink_equals(const SoftwareXen& xen, const std::vector<uint8_t>& want, unsigned open = 1) {
  expect_wav_equals(xen.sink_wav(0, 0, open), want);
}

// The number a scenario printed as "fact NAME=N"; a failure (and 0) when it printed none.
inline long fact(const RunResult& r, const std::string& name) {
  const std::string key = "fact " + name + "=";
  const size_t at = r.out.find(key);
  if (at == std::string::npos) {
    ADD_FAILURE() << "no fact " << name << " in:\n" << r.out;
    return 0;
  }
  return std::stol(r.out.substr(at + key.size()));
}

// `data` as a run plays it: its leading silence (run_lead_bytes() of zeros, the silence of a
// signed or floating-point format) first.
inline std::vector<uint8_t> with_run_lead(const std::vector<uint8_t>& data, const PcmFormat& f) {
  std::vector<uint8_t> played(run_lead_bytes(f.rate, size_t{f.sample_bytes} * f.channels), 0);
  played.insert(played.end(), data.begin(), data.end());
  return played;
}

inline std::string failure_text(const RunResult& r) {
  return r.status.describe() + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

}  // namespace xensnd::e2e
