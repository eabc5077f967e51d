// A stream of a card as this process shares it between its PCM and its CTL (mixer). alsa-lib
// lets an application drive the mixer from another thread than the PCM (PulseAudio does), and
// a Stream is for one thread at a time: every call here takes the stream's lock. It also makes
// room for volume requests: sndif exchanges their values in the buffer OPEN shares, whose audio
// part mirrors the application's ring and is never free, so every OPEN gets a control area
// after the audio (StreamParams::control_bytes), and config() offers a buffer limit smaller by
// that much. After every OPEN the mixer's wanted values are sent again (the backend starts each
// OPEN at its defaults).
//
// Lock order: a PCM holds its own lock, then this one; the CTL takes only this one. A PCM
// waiting inside the stream (drain, a full ring) keeps the CTL waiting as long (bounded by the
// response timeouts).
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <utility>

#include "plugin/ctl_stream_mixer.h"
#include "protocol/stream.h"

namespace xensnd::plugin {

class SharedStream final : public Stream {
 public:
  using Warn = std::function<void(const std::string&)>;
  SharedStream(Stream& inner, Warn warn);

  // The mixer and the inner stream, under the lock. `open_channels` is the open stream's
  // channel count when volume requests can be sent now, else 0. A volume request waits for
  // its answer and takes the stream's notifications meanwhile, including one the PCM may
  // hold as its poller's readiness (XensndPcm): the PCM's wake hook then wakes its poller,
  // which looks again.
  template <typename F>
  auto with_mixer(F&& f) {
    std::lock_guard lock(mutex_);
    struct WakeIfTaken {
      SharedStream& self;
      uint64_t before;
      ~WakeIfTaken() {
        if (self.wake_pcm_ && self.inner_.notifications_taken() != before) self.wake_pcm_();
      }
    } wake{*this, inner_.notifications_taken()};
    return std::forward<F>(f)(mixer_, inner_, open_channels_);
  }
  // Set by the PCM using this stream (empty to unset). Called with the stream's lock held:
  // it must not take the PCM's lock (the PCM takes its own, then this one).
  void set_wake_pcm(std::function<void()> hook) {
    std::lock_guard lock(mutex_);
    wake_pcm_ = std::move(hook);
  }

  // --- Stream, every call under the lock ---
  const StreamConfig& config() const override { return config_; }
  std::optional<HwParamRanges> query_hw_params(const HwParamRanges& request) override;
  void open(const StreamParams& params) override;
  void close() override;
  bool is_open() const override;
  void trigger(Trigger trigger) override;
  std::span<std::byte> buffer() override;
  std::span<std::byte> silence_area() override;
  std::vector<int32_t> get_volume() override;
  void set_volume(std::span<const int32_t> millidb) override;
  void set_mute(const std::vector<bool>& muted) override;
  size_t free_slots() const override;
  size_t in_flight() const override;
  using Stream::send_read;
  using Stream::send_silence;
  using Stream::send_write;
  void send_write(uint32_t offset, uint32_t length, Clock::time_point now) override;
  void send_read(uint32_t offset, uint32_t length, Clock::time_point now) override;
  void send_silence(uint32_t length, Clock::time_point now) override;
  uint64_t completed_write_bytes() const override;
  uint64_t completed_read_bytes() const override;
  int poll_fd() const override;
  void process() override;
  using Stream::process_keeping_notifications;
  void process_keeping_notifications(Clock::time_point now) override;
  size_t take_notifications() override;
  uint64_t notifications_taken() const override;
  bool has_unconsumed_notified() const override;
  void wait(std::chrono::milliseconds timeout) override;
  bool arm_response_notification() override;
  uint64_t position_bytes() const override;
  std::chrono::steady_clock::time_point position_time() const override;
  uint64_t event_overruns() const override;
  uint64_t positions_ahead() const override;
  uint64_t position_rebases() const override;
  std::string last_position_anomaly() const override;
  bool disconnected() const override;
  std::string disconnect_reason() const override;
  void mark_disconnected(const std::string& reason) override;

 private:
  Stream& inner_;
  Warn warn_;
  StreamConfig config_;  // inner's, with the control area taken off the buffer limit
  mutable std::mutex mutex_;
  StreamMixer mixer_;           // guarded by mutex_
  uint32_t open_channels_ = 0;  // same
  std::function<void()> wake_pcm_;  // same
};

// The largest control area any OPEN of this configuration needs (its widest frame).
uint32_t volume_control_reserve(const StreamLimits& limits);

}  // namespace xensnd::plugin
