// The mixer of one sndif stream as the CTL shows it: the wanted volume (0.001 dB steps) and
// mute of each channel, whether the backend takes volume requests, and how a wanted value
// reaches the backend. sndif carries volume values in the buffer OPEN shares, so the backend
// can be told only while the stream is open: a change while it is closed is kept here and sent
// after the next OPEN (the reference backend starts every OPEN at 0 dB, unmuted).
//
// Threading: none of its own; SharedStream calls it under the stream's lock. ALSA-free.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/stream.h"

namespace xensnd::plugin {

class StreamMixer {
 public:
  enum class Support { kUnknown, kYes, kNo };

  // `channels`: how many values the controls have (the stream's channels-max).
  explicit StreamMixer(uint32_t channels);

  uint32_t channels() const { return static_cast<uint32_t>(millidb_.size()); }
  Support support() const { return support_; }
  // Why the backend's volume is unavailable (set with Support::kNo).
  const std::string& refusal() const { return refusal_; }
  const std::vector<int32_t>& millidb() const { return millidb_; }
  const std::vector<bool>& muted() const { return muted_; }

  // Finds out whether the backend takes volume requests, with GET_VOLUME (which also gives
  // the starting values). A closed stream is opened for the question with `probe` parameters
  // and closed again. A backend that refuses is remembered (kNo); BackendGoneError passes.
  void probe(Stream& stream, const std::optional<StreamParams>& probe);

  // Set the wanted values; sent at once when the stream is open with a control area of
  // `open_channels` channels (0: not open, or no control area). Return whether anything
  // changed (ALSA's write_integer result). Throw RequestFailedError when the backend refuses
  // (nothing is changed then).
  bool write_volume(Stream& stream, uint32_t open_channels, const std::vector<int32_t>& millidb);
  bool write_muted(Stream& stream, uint32_t open_channels, const std::vector<bool>& muted);

  // After an OPEN with a control area: sends what was changed here (nothing when no control
  // was ever written). Returns a warning when the backend refused.
  std::optional<std::string> apply_after_open(Stream& stream, uint32_t open_channels);

 private:
  std::vector<int32_t> millidb_;
  std::vector<bool> muted_;
  Support support_ = Support::kUnknown;
  std::string refusal_;
  bool written_ = false;  // a control was written: the backend's own values no longer count
};

// Parameters for a probing OPEN of a closed stream: its first format with a fixed frame size,
// channels-min, its lowest rate, a one-page buffer of two periods, the control area after it.
// nullopt when the configuration offers nothing usable.
std::optional<StreamParams> volume_probe_params(const StreamConfig& config);

}  // namespace xensnd::plugin
