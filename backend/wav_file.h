// RIFF/WAVE files: the playback sink's output and the capture source's input. The writer
// keeps the header's sizes current after every append, so even a killed backend leaves a
// file that says exactly how many frames were played.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "backend/pcm_params.h"

namespace xensnd::backend {

// How a sndif format is described in a WAVE header.
struct WavEncoding {
  uint16_t format_tag = 0;       // 1 PCM, 3 IEEE float, 6 A-law, 7 mu-law, 0xFFFE extensible
  uint16_t container_bits = 0;   // bits per sample in the file
  uint16_t valid_bits = 0;       // significant bits (24 for s24_le in a 32-bit container)
  bool exact = false;            // false: no WAVE equivalent, samples stored as raw bytes
};
WavEncoding wav_encoding_for(uint8_t sndif_format, uint32_t sample_bytes);

class WavWriter {
 public:
  // Creates (truncates) `path`; throws std::runtime_error naming it on failure.
  WavWriter(const std::string& path, const PcmParams& params);
  ~WavWriter();
  WavWriter(const WavWriter&) = delete;
  WavWriter& operator=(const WavWriter&) = delete;

  // Appends frames and rewrites the sizes in the header.
  void append(std::span<const std::byte> frames);
  uint64_t data_bytes() const { return data_bytes_; }
  const std::string& path() const { return path_; }

 private:
  void update_sizes();

  std::string path_;
  int fd_ = -1;
  uint32_t header_bytes_ = 0;
  uint64_t data_bytes_ = 0;
};

// A WAVE file's samples, read sequentially.
class WavReader {
 public:
  // Throws std::runtime_error naming the file and the problem.
  explicit WavReader(const std::string& path);
  ~WavReader();
  WavReader(const WavReader&) = delete;
  WavReader& operator=(const WavReader&) = delete;

  uint16_t format_tag() const { return format_tag_; }
  uint16_t channels() const { return channels_; }
  uint32_t rate() const { return rate_; }
  uint16_t container_bits() const { return bits_; }
  uint64_t data_bytes() const { return data_bytes_; }
  // Copies up to out.size() bytes of samples; returns how many (0 at the end).
  size_t read(std::span<std::byte> out);

 private:
  std::string path_;
  int fd_ = -1;
  uint16_t format_tag_ = 0;
  uint16_t channels_ = 0;
  uint32_t rate_ = 0;
  uint16_t bits_ = 0;
  uint64_t data_bytes_ = 0;
  uint64_t data_offset_ = 0;
  uint64_t consumed_ = 0;
};

}  // namespace xensnd::backend
