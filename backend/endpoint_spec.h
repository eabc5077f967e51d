// Command-line descriptions of sinks and sources, and the factories that build them when a
// stream is opened.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "backend/audio_endpoint.h"
#include "backend/log.h"
#include "backend/loopback_bus.h"
#include "backend/pcm_params.h"

namespace xensnd::backend {

// Playback: null | wav:DIR | alsa:DEVICE
struct SinkSpec {
  enum class Kind { kNull, kWav, kAlsa } kind = Kind::kNull;
  std::string argument;  // the directory or the ALSA device name
};
// Capture: silence | sine:HZ | wav:FILE | loopback:P/S
struct SourceSpec {
  enum class Kind { kSilence, kSine, kWav, kLoopback } kind = Kind::kSilence;
  std::string argument;
  double frequency = 0;                 // sine
  size_t loop_pcm = 0, loop_stream = 0;  // loopback
};

// Both return nullopt and set `error` when the text is malformed.
std::optional<SinkSpec> parse_sink_spec(std::string_view text, std::string& error);
std::optional<SourceSpec> parse_source_spec(std::string_view text, std::string& error);
// "P/S" -> indices.
bool parse_stream_key(std::string_view text, size_t& pcm, size_t& stream);

// Names a stream's opening for file names and log lines.
struct StreamIdentity {
  uint32_t frontend = 0;
  uint32_t device = 0;
  size_t pcm = 0;
  size_t stream = 0;
  uint32_t open_count = 0;  // 1 for the stream's first OPEN since the backend started
};

// Throw std::runtime_error with a message naming the file/device when they cannot be opened.
std::unique_ptr<PlaybackSink> make_sink(const SinkSpec& spec, const PcmParams& params,
                                        const StreamIdentity& who, Log& log);
std::unique_ptr<CaptureSource> make_source(const SourceSpec& spec, const PcmParams& params,
                                           const StreamIdentity& who, LoopbackBus& loopback, Log& log);
// Playback through the host's ALSA (alsa_sink.cpp).
std::unique_ptr<PlaybackSink> make_alsa_sink(const std::string& device, const PcmParams& params, Log& log);

// The bytes of one silent sample of `format` (0x80 for unsigned 8-bit...).
void fill_silence(uint8_t sndif_format, uint32_t sample_bytes, std::span<std::byte> out);

}  // namespace xensnd::backend
