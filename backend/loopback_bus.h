// What a card's playback streams played, for capture streams of the same card that record it
// ("loopback:P/S"). Playback and capture run on different ring threads, hence the lock.
#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <span>
#include <utility>

namespace xensnd::backend {

class LoopbackBus {
 public:
  using StreamKey = std::pair<size_t, size_t>;  // PCM index, stream index

  // At most this much unheard audio is kept per playback stream; older bytes are dropped.
  static constexpr size_t kMaxBufferedBytes = 4u << 20;

  void publish(StreamKey stream, std::span<const std::byte> frames);
  // Bytes buffered for `stream` not yet taken.
  size_t available(StreamKey stream);
  // Takes up to out.size() bytes; returns how many.
  size_t take(StreamKey stream, std::span<std::byte> out);
  // Whether `stream` is running with frames still to play: what it owes the bus comes when
  // its thread next runs, however late the scheduler lets it (set by the playback device).
  void set_owing(StreamKey stream, bool owing);
  bool owing(StreamKey stream);

 private:
  std::mutex mutex_;
  std::map<StreamKey, std::deque<std::byte>> buffers_;
  std::map<StreamKey, bool> owing_;
};

}  // namespace xensnd::backend
