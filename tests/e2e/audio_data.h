// Test audio: deterministic pseudo-random PCM bytes (any misplaced, lost or repeated byte
// shows) and the data chunk of the backend's WAV files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace xensnd::e2e {

std::vector<uint8_t> pattern_bytes(size_t bytes, uint32_t seed);
void write_file(const std::filesystem::path& path, const std::vector<uint8_t>& bytes);
std::vector<uint8_t> read_file(const std::filesystem::path& path);

struct WavData {
  uint16_t format_tag = 0, channels = 0, bits_per_sample = 0;
  uint32_t rate = 0;
  std::vector<uint8_t> data;
};
// nullopt when the file is missing or is not a RIFF/WAVE file with fmt and data chunks.
std::optional<WavData> read_wav(const std::filesystem::path& path);
void write_wav(const std::filesystem::path& path, uint16_t format_tag, uint16_t channels,
               uint32_t rate, uint16_t bits, const std::vector<uint8_t>& data);

// bytes [from, to) of `v` (clamped).
std::vector<uint8_t> slice(const std::vector<uint8_t>& v, size_t from, size_t to);
// Offset of the first occurrence of `needle` in `haystack`, or nullopt.
std::optional<size_t> find_bytes(const std::vector<uint8_t>& haystack, const std::vector<uint8_t>& needle);
// "equal" or where the first difference is.
std::string describe_difference(const std::vector<uint8_t>& got, const std::vector<uint8_t>& want);

}  // namespace xensnd::e2e
