#include "backend/endpoint_spec.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <numbers>
#include <stdexcept>
#include <vector>

#include "backend/wav_file.h"
#include "protocol/sndif_abi.h"

namespace xensnd::backend {
namespace {

bool starts_with(std::string_view text, std::string_view prefix, std::string_view& rest) {
  if (text.substr(0, prefix.size()) != prefix) return false;
  rest = text.substr(prefix.size());
  return true;
}

class NullSink final : public PlaybackSink {
 public:
  void play(std::span<const std::byte>) override {}
};

class WavSink final : public PlaybackSink {
 public:
  WavSink(const std::string& path, const PcmParams& params) : writer_(path, params) {}
  void play(std::span<const std::byte> frames) override { writer_.append(frames); }

 private:
  WavWriter writer_;
};

class SilenceSource final : public CaptureSource {
 public:
  explicit SilenceSource(const PcmParams& params) : params_(params) {}
  void capture(std::span<std::byte> out) override { fill_silence(params_.format, params_.sample_bytes, out); }

 private:
  PcmParams params_;
};

// A full-scale/2 sine on every channel, phase-continuous across calls.
class SineSource final : public CaptureSource {
 public:
  SineSource(double frequency, const PcmParams& params) : frequency_(frequency), params_(params) {}
  void capture(std::span<std::byte> out) override {
    const size_t frame = params_.frame_bytes();
    size_t offset = 0;
    for (; offset + frame <= out.size(); offset += frame) {
      double value = 0.5 * std::sin(2 * std::numbers::pi * frequency_ * static_cast<double>(frame_index_) / params_.rate);
      ++frame_index_;
      for (uint32_t c = 0; c < params_.channels; ++c) encode(value, out.data() + offset + c * params_.sample_bytes);
    }
    fill_silence(params_.format, params_.sample_bytes, out.subspan(offset));
  }

 private:
  void encode(double v, std::byte* p) {
    switch (params_.format) {
      case XENSND_PCM_FORMAT_S16_LE: store(static_cast<int16_t>(std::lround(v * 32767)), p); break;
      case XENSND_PCM_FORMAT_S24_LE: store(static_cast<int32_t>(std::lround(v * 8388607)), p); break;
      case XENSND_PCM_FORMAT_S32_LE: store(static_cast<int32_t>(std::lround(v * 2147483647.0)), p); break;
      case XENSND_PCM_FORMAT_U8: store(static_cast<uint8_t>(128 + std::lround(v * 127)), p); break;
      case XENSND_PCM_FORMAT_S8: store(static_cast<int8_t>(std::lround(v * 127)), p); break;
      case XENSND_PCM_FORMAT_F32_LE: store(static_cast<float>(v), p); break;
      case XENSND_PCM_FORMAT_F64_LE: store(v, p); break;
      default: fill_silence(params_.format, params_.sample_bytes, std::span(p, params_.sample_bytes)); break;
    }
  }
  template <typename T>
  static void store(T v, std::byte* p) { std::memcpy(p, &v, sizeof v); }

  double frequency_;
  PcmParams params_;
  uint64_t frame_index_ = 0;
};

// A WAVE file's samples, then silence once it ends.
class WavSource final : public CaptureSource {
 public:
  WavSource(const std::string& path, const PcmParams& params, Log& log) : reader_(path), params_(params) {
    WavEncoding expected = wav_encoding_for(params.format, params.sample_bytes);
    uint16_t expected_tag = expected.format_tag == 0xFFFE ? 1 : expected.format_tag;
    if (reader_.channels() != params.channels || reader_.container_bits() != expected.container_bits ||
        reader_.format_tag() != expected_tag)
      throw std::runtime_error(path + ": has " + std::to_string(reader_.channels()) + " channels of " +
                               std::to_string(reader_.container_bits()) + "-bit samples (tag " +
                               std::to_string(reader_.format_tag()) + "), the stream was opened with " +
                               std::to_string(params.channels) + " channels of " +
                               std::to_string(expected.container_bits) + " bits");
    if (reader_.rate() != params.rate)
      log.warning(path, ": recorded at ", reader_.rate(), " Hz, delivered at the stream's ", params.rate, " Hz");
  }
  void capture(std::span<std::byte> out) override {
    size_t n = reader_.read(out);
    fill_silence(params_.format, params_.sample_bytes, out.subspan(n));
  }

 private:
  WavReader reader_;
  PcmParams params_;
};

// Records what a playback stream of the same card played. It waits (delivering silence)
// until two periods and at least 100 ms are buffered, so that the two streams' ticks can
// interleave in any order. Past that cushion, frames the playback stream still owes (it runs
// with frames to play, its thread is merely late: a loaded machine) are not ready yet and
// are recorded when they come, as a loopback device clocked by the playback would; only a
// playback that has nothing to play (stopped, paused, run dry) leaves silence, logged.
class LoopbackSource final : public CaptureSource {
 public:
  LoopbackSource(LoopbackBus& bus, LoopbackBus::StreamKey from, const PcmParams& params, Log& log)
      : bus_(bus), from_(from), params_(params), log_(log) {}
  size_t ready_bytes(size_t wanted) override {
    if (!primed() || !bus_.owing(from_)) return wanted;
    const size_t available = bus_.available(from_);
    if (available >= wanted) return wanted;
    return available - available % params_.frame_bytes();
  }
  void capture(std::span<std::byte> out) override {
    if (!primed()) {
      fill_silence(params_.format, params_.sample_bytes, out);
      return;
    }
    size_t n = bus_.take(from_, out);
    if (n < out.size()) {
      // Whole frames only, so the channels stay aligned.
      n -= n % params_.frame_bytes();
      ++shortfalls_;
      log_.warning("loopback from ", from_.first, "/", from_.second, " short by ", out.size() - n,
                   " bytes (", shortfalls_, " times): silence recorded instead");
      fill_silence(params_.format, params_.sample_bytes, out.subspan(n));
    }
  }

 private:
  bool primed() {
    if (primed_) return true;
    const size_t jitter_bytes = std::max<size_t>(2 * size_t{params_.period_bytes},
                                                 size_t{params_.rate / 10} * params_.frame_bytes());
    const size_t buffered = bus_.available(from_);
    primed_ = buffered >= jitter_bytes;
    // From here on the capture runs this far behind the playback: what it records at a moment
    // was played that long before (tests place a loopback recording on the clock by it).
    if (primed_)
      log_.info("loopback from ", from_.first, "/", from_.second, ": delivering, ", buffered / params_.frame_bytes(),
                " frames buffered");
    return primed_;
  }

  LoopbackBus& bus_;
  LoopbackBus::StreamKey from_;
  PcmParams params_;
  Log& log_;
  bool primed_ = false;
  uint64_t shortfalls_ = 0;
};

}  // namespace

bool parse_stream_key(std::string_view text, size_t& pcm, size_t& stream) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return false;
  auto parse = [](std::string_view part, size_t& out) {
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), out);
    return ec == std::errc() && end == part.data() + part.size() && !part.empty();
  };
  return parse(text.substr(0, slash), pcm) && parse(text.substr(slash + 1), stream);
}

std::optional<SinkSpec> parse_sink_spec(std::string_view text, std::string& error) {
  std::string_view rest;
  if (text == "null") return SinkSpec{SinkSpec::Kind::kNull, {}};
  if (starts_with(text, "wav:", rest) && !rest.empty()) return SinkSpec{SinkSpec::Kind::kWav, std::string(rest)};
  if (starts_with(text, "alsa:", rest) && !rest.empty()) return SinkSpec{SinkSpec::Kind::kAlsa, std::string(rest)};
  if (text == "alsa") return SinkSpec{SinkSpec::Kind::kAlsa, "default"};
  error = "unknown sink '" + std::string(text) + "' (expected null, wav:DIR or alsa:DEVICE)";
  return std::nullopt;
}

std::optional<SourceSpec> parse_source_spec(std::string_view text, std::string& error) {
  std::string_view rest;
  SourceSpec spec;
  if (text == "silence") return spec;
  if (starts_with(text, "sine:", rest)) {
    spec.kind = SourceSpec::Kind::kSine;
    std::string number(rest);
    char* end = nullptr;
    spec.frequency = std::strtod(number.c_str(), &end);
    if (!number.empty() && end && *end == '\0' && spec.frequency > 0) return spec;
    error = "sine source needs a positive frequency in Hz, got '" + number + "'";
    return std::nullopt;
  }
  if (starts_with(text, "wav:", rest) && !rest.empty()) {
    spec.kind = SourceSpec::Kind::kWav;
    spec.argument = std::string(rest);
    return spec;
  }
  if (starts_with(text, "loopback:", rest)) {
    spec.kind = SourceSpec::Kind::kLoopback;
    if (parse_stream_key(rest, spec.loop_pcm, spec.loop_stream)) return spec;
    error = "loopback source needs the playback stream as PCM/STREAM, got '" + std::string(rest) + "'";
    return std::nullopt;
  }
  error = "unknown source '" + std::string(text) + "' (expected silence, sine:HZ, wav:FILE or loopback:P/S)";
  return std::nullopt;
}

void fill_silence(uint8_t format, uint32_t sample_bytes, std::span<std::byte> out) {
  std::byte fill{0};
  switch (format) {
    case XENSND_PCM_FORMAT_U8: fill = std::byte{0x80}; break;
    case XENSND_PCM_FORMAT_MU_LAW: fill = std::byte{0xFF}; break;
    case XENSND_PCM_FORMAT_A_LAW: fill = std::byte{0xD5}; break;
    default: break;
  }
  std::fill(out.begin(), out.end(), fill);
  // Unsigned wider formats: only the most significant byte is 0x80.
  auto unsigned_msb = [&](bool little_endian) {
    for (size_t i = 0; i + sample_bytes <= out.size(); i += sample_bytes)
      out[i + (little_endian ? (format == XENSND_PCM_FORMAT_U24_LE ? 2 : sample_bytes - 1) : (format == XENSND_PCM_FORMAT_U24_BE ? 1 : 0))] = std::byte{0x80};
  };
  switch (format) {
    case XENSND_PCM_FORMAT_U16_LE: case XENSND_PCM_FORMAT_U24_LE: case XENSND_PCM_FORMAT_U32_LE:
      unsigned_msb(true); break;
    case XENSND_PCM_FORMAT_U16_BE: case XENSND_PCM_FORMAT_U24_BE: case XENSND_PCM_FORMAT_U32_BE:
      unsigned_msb(false); break;
    default: break;
  }
}

std::unique_ptr<PlaybackSink> make_sink(const SinkSpec& spec, const PcmParams& params, const StreamIdentity& who,
                                        Log& log) {
  switch (spec.kind) {
    case SinkSpec::Kind::kNull:
      return std::make_unique<NullSink>();
    case SinkSpec::Kind::kWav: {
      std::string path = spec.argument + "/vsnd-" + std::to_string(who.frontend) + "-" +
                         std::to_string(who.device) + "-" + std::to_string(who.pcm) + "-" +
                         std::to_string(who.stream) + "-" + std::to_string(who.open_count) + ".wav";
      if (!wav_encoding_for(params.format, params.sample_bytes).exact)
        log.warning(path, ": format ", int{params.format}, " has no WAVE equivalent; raw samples are stored");
      log.info("stream ", who.pcm, "/", who.stream, " plays into ", path);
      return std::make_unique<WavSink>(path, params);
    }
    case SinkSpec::Kind::kAlsa:
      return make_alsa_sink(spec.argument, params, log);
  }
  throw std::logic_error("unknown sink kind");
}

std::unique_ptr<CaptureSource> make_source(const SourceSpec& spec, const PcmParams& params, const StreamIdentity& who,
                                           LoopbackBus& loopback, Log& log) {
  switch (spec.kind) {
    case SourceSpec::Kind::kSilence:
      return std::make_unique<SilenceSource>(params);
    case SourceSpec::Kind::kSine:
      return std::make_unique<SineSource>(spec.frequency, params);
    case SourceSpec::Kind::kWav:
      log.info("stream ", who.pcm, "/", who.stream, " records from ", spec.argument);
      return std::make_unique<WavSource>(spec.argument, params, log);
    case SourceSpec::Kind::kLoopback:
      log.info("stream ", who.pcm, "/", who.stream, " records what stream ", spec.loop_pcm, "/", spec.loop_stream,
               " plays");
      return std::make_unique<LoopbackSource>(loopback, LoopbackBus::StreamKey{spec.loop_pcm, spec.loop_stream},
                                              params, log);
  }
  throw std::logic_error("unknown source kind");
}

}  // namespace xensnd::backend
