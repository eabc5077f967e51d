// A byte ring for one producer thread and one consumer thread, lock-free, so that a
// real-time producer (xensnd-pw-client's data thread) never waits for the consumer.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace xensnd::e2e {

class ByteRing {
 public:
  explicit ByteRing(size_t capacity) : bytes_(capacity) {}
  // false (nothing copied) when `size` bytes do not fit.
  bool push(const uint8_t* data, size_t size) {
    const size_t head = head_.load(std::memory_order_relaxed);
    const size_t tail = tail_.load(std::memory_order_acquire);
    if (bytes_.size() - (head - tail) < size) return false;
    for (size_t done = 0; done < size;) {
      const size_t at = (head + done) % bytes_.size();
      const size_t n = std::min(size - done, bytes_.size() - at);
      std::memcpy(bytes_.data() + at, data + done, n);
      done += n;
    }
    head_.store(head + size, std::memory_order_release);
    return true;
  }
  // Hands every byte pushed so far to `sink(data, size)`, in order.
  template <typename Sink>
  void drain(Sink&& sink) {
    const size_t head = head_.load(std::memory_order_acquire);
    size_t tail = tail_.load(std::memory_order_relaxed);
    while (tail != head) {
      const size_t at = tail % bytes_.size();
      const size_t n = std::min(head - tail, bytes_.size() - at);
      sink(bytes_.data() + at, n);
      tail += n;
    }
    tail_.store(tail, std::memory_order_release);
  }

 private:
  std::vector<uint8_t> bytes_;
  std::atomic<size_t> head_{0}, tail_{0};
};

}  // namespace xensnd::e2e
