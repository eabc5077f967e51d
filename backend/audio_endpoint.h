// Where a stream's frames go (playback) and come from (capture): the "speaker" and
// "microphone" behind the paced device model.
#pragma once

#include <cstddef>
#include <span>

namespace xensnd::backend {

class PlaybackSink {
 public:
  virtual ~PlaybackSink() = default;
  // Frames the device has just played, in order. Throws std::runtime_error on failure.
  virtual void play(std::span<const std::byte> frames) = 0;
};

class CaptureSource {
 public:
  virtual ~CaptureSource() = default;
  // Fills `out` completely with the next frames (silence where the source has none).
  virtual void capture(std::span<std::byte> out) = 0;
  // How many of the next `wanted` bytes exist yet (whole frames). A source fed by another
  // thread of the backend (a loopback) says fewer while that thread owes them: the device
  // records those later rather than silence standing in for audio that is merely late.
  virtual size_t ready_bytes(size_t wanted) { return wanted; }
};

}  // namespace xensnd::backend
