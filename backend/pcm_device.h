// The sound card behind one stream: a FIFO between the shared buffer and the sink/source,
// drained (playback) or filled (capture) at the stream's rate by a PacingClock. It knows
// nothing of Xen: the request handler feeds it and asks it for positions to report.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "backend/audio_endpoint.h"
#include "backend/channel_volume.h"
#include "backend/log.h"
#include "backend/loopback_bus.h"
#include "backend/options.h"
#include "backend/pacing_clock.h"
#include "backend/pcm_params.h"
#include "protocol/card_config.h"

namespace xensnd::backend {

class PcmDevice {
 public:
  struct Setup {
    PcmParams params;
    StreamType type = StreamType::kPlayback;
    uint32_t fifo_bytes = 0;  // rounded down to whole frames, at least one period
    bool free_run = false;
    PositionAfterStop position_after_stop = PositionAfterStop::kRestart;
    // Peer behaviours (see options.h): capture reaching the FIFO in bursts, positions from
    // audio timestamps, a device that stalls some time after its first START.
    uint32_t capture_burst_ms = 0;
    PositionSource positions = PositionSource::kPlayed;
    std::optional<uint32_t> stall_after_ms;
    std::string name;  // for log lines, e.g. "vsnd 1/0 stream 0/0"
  };
  // For playback `sink` is used and `source` may be null; for capture the reverse.
  // `loopback` (may be null) receives what a playback stream plays, under `loopback_key`.
  PcmDevice(const Setup& setup, std::unique_ptr<PlaybackSink> sink, std::unique_ptr<CaptureSource> source,
            LoopbackBus* loopback, LoopbackBus::StreamKey loopback_key, Log& log);
  ~PcmDevice();
  PcmDevice(const PcmDevice&) = delete;
  PcmDevice& operator=(const PcmDevice&) = delete;

  const PcmParams& params() const { return setup_.params; }
  ChannelVolume& volume() { return volume_; }

  // Playback: copies as much of `frames` as the FIFO has room for; returns the bytes taken.
  size_t accept(std::span<const std::byte> frames);
  // Capture: moves up to out.size() recorded bytes out of the FIFO; returns how many.
  size_t deliver(std::span<std::byte> out);
  size_t fifo_used() const { return fifo_.size(); }
  size_t fifo_room() const { return fifo_capacity_ - fifo_.size(); }

  // XENSND_OP_TRIGGER_*: a Xen status (0, -EINVAL for the wrong state, -EBUSY for START twice).
  int32_t trigger(uint8_t type, int64_t now_ns);
  bool running() const { return state_ == State::kRunning; }
  // While CLOSE drains, running dry is the end of the stream, not an underrun.
  void set_draining(bool draining) { draining_ = draining; }
  bool stopped() const { return state_ == State::kStopped; }
  // The stall behaviour has begun: nothing plays or records any more.
  bool stalled() const { return stalled_; }

  // Advances the device to `now_ns`: plays/records the frames due.
  void tick(int64_t now_ns);
  // The position to report if a period boundary was crossed since the last report.
  std::optional<uint64_t> take_position_report();
  // When tick() next has something to do (a period boundary, the FIFO running dry), or
  // nullopt when nothing happens without a request.
  std::optional<int64_t> next_deadline() const;

  // What the device played/recorded (CUR_POS with the default position source).
  uint64_t position() const { return position_; }
  // The position CUR_POS reports, by the configured source.
  uint64_t reported_position() const;
  // Underruns: the device ran dry and then got data again (running dry and then being
  // stopped, paused or closed is the end of a drained stream).
  uint64_t underruns() const { return underruns_; }
  uint64_t overruns() const { return overruns_; }

 private:
  enum class State { kStopped, kRunning, kPaused };
  // How soon a capture waiting for its loopback's late playback thread looks again.
  static constexpr int64_t kAwaitSourceNs = 1'000'000;
  int32_t apply_trigger(uint8_t type, int64_t now_ns);
  void update_owing();
  void play_due(int64_t now_ns);
  void record_due(int64_t now_ns);
  void advance_position(uint64_t bytes);
  void record_into(std::deque<std::byte>& into, int64_t until_ns);
  void release_burst();
  void resume_clock(int64_t now_ns);
  // Positions are reported by a per-period timer (as snd_be does) rather than when the
  // played count crosses a period boundary: with audio-timestamp positions, and once stalled.
  bool timer_reports() const { return setup_.positions == PositionSource::kAudioTimestamp || stalled_; }
  int64_t period_ns() const;

  Setup setup_;
  std::unique_ptr<PlaybackSink> sink_;
  std::unique_ptr<CaptureSource> source_;
  LoopbackBus* loopback_;
  LoopbackBus::StreamKey loopback_key_;
  Log& log_;
  ChannelVolume volume_;
  PacingClock clock_;
  size_t fifo_capacity_;
  std::deque<std::byte> fifo_;
  State state_ = State::kStopped;
  bool starved_ = false;
  bool ran_dry_ = false;     // ran out of data while running; an underrun once data follows
  uint64_t ran_dry_at_ = 0;  // position_ then
  bool draining_ = false;  // playback running with an empty FIFO: waiting for data
  uint64_t position_ = 0;          // running byte count (CUR_POS)
  uint64_t reported_periods_ = 0;  // position_ / period at the last report
  bool report_pending_ = false;
  uint64_t underruns_ = 0;
  uint64_t overruns_ = 0;
  bool sink_failed_ = false;
  // Capture bursts: recorded frames wait here until the next burst time.
  std::deque<std::byte> held_;
  int64_t next_burst_ns_ = 0;
  // Audio-timestamp positions (counted since OPEN, never reset by STOP/START).
  uint64_t written_total_ = 0;  // bytes the device accepted
  uint64_t underrun_base_ = 0;  // written_total_ when the device last recovered from underrun
  // Stall: when it begins (set at the first START), whether it has.
  std::optional<int64_t> stall_at_ns_;
  bool stalled_ = false;
  int64_t next_timer_report_ns_ = 0;
  // Capture: the source had fewer frames ready than were due (a late loopback playback).
  bool awaiting_source_ = false;
  int64_t awaiting_since_ns_ = 0;
};

}  // namespace xensnd::backend
