#include "backend/wav_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "protocol/sndif_abi.h"

namespace xensnd::backend {
namespace {

void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(v & 0xff);
  out.push_back(v >> 8);
}
void put32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back((v >> (8 * i)) & 0xff);
}
void put_tag(std::vector<uint8_t>& out, const char* tag) { out.insert(out.end(), tag, tag + 4); }
uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t get32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

std::runtime_error file_error(const std::string& path, const std::string& what) {
  return std::runtime_error(path + ": " + what);
}

void write_all(int fd, const void* data, size_t size, off_t offset, const std::string& path) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  while (size > 0) {
    ssize_t n = pwrite(fd, bytes, size, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw file_error(path, std::string("cannot write: ") + std::strerror(errno));
    }
    bytes += n;
    size -= static_cast<size_t>(n);
    offset += n;
  }
}

// KSDATAFORMAT_SUBTYPE_PCM's GUID tail, after the 2-byte format code.
constexpr uint8_t kPcmGuidTail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                      0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

}  // namespace

WavEncoding wav_encoding_for(uint8_t sndif_format, uint32_t sample_bytes) {
  uint16_t bits = static_cast<uint16_t>(sample_bytes * 8);
  switch (sndif_format) {
    case XENSND_PCM_FORMAT_U8:
    case XENSND_PCM_FORMAT_S16_LE:
    case XENSND_PCM_FORMAT_S32_LE:
      return {1, bits, bits, true};
    case XENSND_PCM_FORMAT_S24_LE:
      return {0xFFFE, 32, 24, true};
    case XENSND_PCM_FORMAT_F32_LE:
    case XENSND_PCM_FORMAT_F64_LE:
      return {3, bits, bits, true};
    case XENSND_PCM_FORMAT_A_LAW:
      return {6, 8, 8, true};
    case XENSND_PCM_FORMAT_MU_LAW:
      return {7, 8, 8, true};
    default:
      return {1, bits, bits, false};
  }
}

WavWriter::WavWriter(const std::string& path, const PcmParams& params) : path_(path) {
  WavEncoding encoding = wav_encoding_for(params.format, params.sample_bytes);
  bool extensible = encoding.format_tag == 0xFFFE;
  uint16_t block_align = static_cast<uint16_t>(params.frame_bytes());
  std::vector<uint8_t> header;
  put_tag(header, "RIFF");
  put32(header, 0);  // patched by update_sizes()
  put_tag(header, "WAVE");
  put_tag(header, "fmt ");
  put32(header, extensible ? 40 : 16);
  put16(header, encoding.format_tag);
  put16(header, static_cast<uint16_t>(params.channels));
  put32(header, params.rate);
  put32(header, params.rate * block_align);
  put16(header, block_align);
  put16(header, encoding.container_bits);
  if (extensible) {
    put16(header, 22);
    put16(header, encoding.valid_bits);
    put32(header, 0);  // channel mask: unspecified
    put16(header, 1);  // PCM
    header.insert(header.end(), std::begin(kPcmGuidTail), std::end(kPcmGuidTail));
  }
  put_tag(header, "data");
  put32(header, 0);
  header_bytes_ = static_cast<uint32_t>(header.size());

  fd_ = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw file_error(path, std::string("cannot create: ") + std::strerror(errno));
  try {
    write_all(fd_, header.data(), header.size(), 0, path_);
  } catch (...) {
    close(fd_);
    throw;
  }
}

WavWriter::~WavWriter() {
  try {
    update_sizes();
  } catch (...) {
    // The data is on disk; only the header's sizes could not be rewritten.
  }
  close(fd_);
}

void WavWriter::append(std::span<const std::byte> frames) {
  if (frames.empty()) return;
  write_all(fd_, frames.data(), frames.size(), static_cast<off_t>(header_bytes_ + data_bytes_), path_);
  data_bytes_ += frames.size();
  update_sizes();
}

void WavWriter::update_sizes() {
  // RIFF sizes are 32-bit: a longer recording keeps its data, with saturated sizes.
  uint64_t data = data_bytes_;
  uint32_t data32 = data > 0xFFFFFFFFu - header_bytes_ ? 0xFFFFFFFFu - header_bytes_ : static_cast<uint32_t>(data);
  uint8_t riff[4], chunk[4];
  uint32_t riff_size = data32 + header_bytes_ - 8;
  for (int i = 0; i < 4; ++i) {
    riff[i] = (riff_size >> (8 * i)) & 0xff;
    chunk[i] = (data32 >> (8 * i)) & 0xff;
  }
  write_all(fd_, riff, 4, 4, path_);
  write_all(fd_, chunk, 4, header_bytes_ - 4, path_);
}

WavReader::WavReader(const std::string& path) : path_(path) {
  fd_ = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw file_error(path, std::string("cannot open: ") + std::strerror(errno));
  try {
    uint8_t head[12];
    if (pread(fd_, head, 12, 0) != 12 || std::memcmp(head, "RIFF", 4) || std::memcmp(head + 8, "WAVE", 4))
      throw file_error(path, "not a RIFF/WAVE file");
    off_t offset = 12;
    bool have_format = false;
    for (;;) {
      uint8_t chunk[8];
      if (pread(fd_, chunk, 8, offset) != 8) throw file_error(path, "no data chunk");
      uint32_t size = get32(chunk + 4);
      if (!std::memcmp(chunk, "fmt ", 4)) {
        uint8_t format[40] = {};
        if (size < 16 || pread(fd_, format, size < 40 ? size : 40, offset + 8) < 16)
          throw file_error(path, "truncated fmt chunk");
        format_tag_ = get16(format);
        channels_ = get16(format + 2);
        rate_ = get32(format + 4);
        bits_ = get16(format + 14);
        if (format_tag_ == 0xFFFE && size >= 26) format_tag_ = get16(format + 24);
        have_format = true;
      } else if (!std::memcmp(chunk, "data", 4)) {
        if (!have_format) throw file_error(path, "data chunk before fmt chunk");
        data_offset_ = static_cast<uint64_t>(offset) + 8;
        off_t end = lseek(fd_, 0, SEEK_END);
        uint64_t available = end > static_cast<off_t>(data_offset_) ? static_cast<uint64_t>(end) - data_offset_ : 0;
        data_bytes_ = size < available ? size : available;
        break;
      }
      offset += 8 + size + (size & 1);
    }
    if (channels_ == 0 || bits_ == 0 || rate_ == 0) throw file_error(path, "fmt chunk has zero channels, bits or rate");
  } catch (...) {
    close(fd_);
    throw;
  }
}

WavReader::~WavReader() { close(fd_); }

size_t WavReader::read(std::span<std::byte> out) {
  uint64_t left = data_bytes_ - consumed_;
  size_t want = out.size() < left ? out.size() : static_cast<size_t>(left);
  size_t done = 0;
  while (done < want) {
    ssize_t n = pread(fd_, out.data() + done, want - done, static_cast<off_t>(data_offset_ + consumed_ + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  consumed_ += done;
  return done;
}

}  // namespace xensnd::backend
