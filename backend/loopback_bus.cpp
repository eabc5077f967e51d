#include "backend/loopback_bus.h"

#include <algorithm>

namespace xensnd::backend {

void LoopbackBus::publish(StreamKey stream, std::span<const std::byte> frames) {
  std::lock_guard lock(mutex_);
  auto& buffer = buffers_[stream];
  buffer.insert(buffer.end(), frames.begin(), frames.end());
  if (buffer.size() > kMaxBufferedBytes) buffer.erase(buffer.begin(), buffer.end() - kMaxBufferedBytes);
}

size_t LoopbackBus::available(StreamKey stream) {
  std::lock_guard lock(mutex_);
  auto it = buffers_.find(stream);
  return it == buffers_.end() ? 0 : it->second.size();
}

size_t LoopbackBus::take(StreamKey stream, std::span<std::byte> out) {
  std::lock_guard lock(mutex_);
  auto it = buffers_.find(stream);
  if (it == buffers_.end()) return 0;
  size_t n = std::min(out.size(), it->second.size());
  std::copy_n(it->second.begin(), n, out.begin());
  it->second.erase(it->second.begin(), it->second.begin() + static_cast<std::ptrdiff_t>(n));
  return n;
}

void LoopbackBus::set_owing(StreamKey stream, bool owing) {
  std::lock_guard lock(mutex_);
  owing_[stream] = owing;
}

bool LoopbackBus::owing(StreamKey stream) {
  std::lock_guard lock(mutex_);
  auto it = owing_.find(stream);
  return it != owing_.end() && it->second;
}

}  // namespace xensnd::backend
