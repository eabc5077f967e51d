#include "tests/e2e/audio_data.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>

namespace xensnd::e2e {

std::vector<uint8_t> pattern_bytes(size_t bytes, uint32_t seed) {
  std::vector<uint8_t> out(bytes);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<uint8_t>(x >> 11);
  }
  return out;
}

void write_file(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

namespace {
uint32_t le32(const uint8_t* p) { return p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24; }
uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
void put32(std::vector<uint8_t>& v, uint32_t x) {
  for (int i = 0; i < 4; ++i) v.push_back(static_cast<uint8_t>(x >> (8 * i)));
}
void put16(std::vector<uint8_t>& v, uint16_t x) {
  v.push_back(static_cast<uint8_t>(x));
  v.push_back(static_cast<uint8_t>(x >> 8));
}
}  // namespace

std::optional<WavData> read_wav(const std::filesystem::path& path) {
  const std::vector<uint8_t> file = read_file(path);
  if (file.size() < 12 || std::memcmp(file.data(), "RIFF", 4) || std::memcmp(file.data() + 8, "WAVE", 4))
    return std::nullopt;
  WavData wav;
  bool have_fmt = false;
  size_t pos = 12;
  while (pos + 8 <= file.size()) {
    const uint32_t size = le32(&file[pos + 4]);
    const uint8_t* body = &file[pos + 8];
    const size_t available = file.size() - (pos + 8);
    if (!std::memcmp(&file[pos], "fmt ", 4) && size >= 16 && available >= 16) {
      wav.format_tag = le16(body);
      wav.channels = le16(body + 2);
      wav.rate = le32(body + 4);
      wav.bits_per_sample = le16(body + 14);
      have_fmt = true;
    } else if (!std::memcmp(&file[pos], "data", 4)) {
      const size_t n = std::min<size_t>(size, available);
      wav.data.assign(body, body + n);
      return have_fmt ? std::optional<WavData>(wav) : std::nullopt;
    }
    pos += 8 + size + (size & 1);
  }
  return std::nullopt;
}

void write_wav(const std::filesystem::path& path, uint16_t format_tag, uint16_t channels, uint32_t rate,
               uint16_t bits, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out{'R', 'I', 'F', 'F'};
  put32(out, static_cast<uint32_t>(36 + data.size()));
  out.insert(out.end(), {'W', 'A', 'V', 'E', 'f', 'm', 't', ' '});
  put32(out, 16);
  put16(out, format_tag);
  put16(out, channels);
  put32(out, rate);
  put32(out, rate * channels * bits / 8);
  put16(out, static_cast<uint16_t>(channels * bits / 8));
  put16(out, bits);
  out.insert(out.end(), {'d', 'a', 't', 'a'});
  put32(out, static_cast<uint32_t>(data.size()));
  out.insert(out.end(), data.begin(), data.end());
  write_file(path, out);
}

std::vector<uint8_t> slice(const std::vector<uint8_t>& v, size_t from, size_t to) {
  to = std::min(to, v.size());
  from = std::min(from, to);
  return std::vector<uint8_t>(v.data() + from, v.data() + to);
}

std::optional<size_t> find_bytes(const std::vector<uint8_t>& haystack, const std::vector<uint8_t>& needle) {
  if (needle.empty()) return 0;
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end());
  if (it == haystack.end()) return std::nullopt;
  return static_cast<size_t>(it - haystack.begin());
}

std::string describe_difference(const std::vector<uint8_t>& got, const std::vector<uint8_t>& want) {
  const size_t common = std::min(got.size(), want.size());
  for (size_t i = 0; i < common; ++i)
    if (got[i] != want[i])
      return "first difference at byte " + std::to_string(i) + " of " + std::to_string(want.size()) +
             " (got " + std::to_string(got[i]) + ", want " + std::to_string(want[i]) + ")";
  if (got.size() != want.size())
    return "sizes differ: got " + std::to_string(got.size()) + " bytes, want " + std::to_string(want.size());
  return "equal";
}

}  // namespace xensnd::e2e
