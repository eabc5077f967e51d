// One sndif stream of a connected card, as the plugin sees it: synchronous control requests
// (HW_PARAM_QUERY, OPEN, CLOSE, TRIGGER, volume), pipelined READ/WRITE, and the play/capture
// position from XENSND_EVT_CUR_POS. Pure C++: Xen is reached only through xenio/.
//
// Threading: a Stream is used by one thread at a time (the plugin calls it under the PCM's
// lock). It never starts threads and never touches XenStore.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "protocol/card_config.h"

namespace xensnd {

enum class Trigger : uint8_t { kStart, kPause, kStop, kResume };

struct Interval {
  uint32_t min = 0;
  uint32_t max = 0;
  bool empty() const { return min > max; }
  bool operator==(const Interval&) const = default;
};

// HW_PARAM_QUERY's payload. formats is a bit mask of (1 << XENSND_PCM_FORMAT_*); buffer and
// period are in frames (OPEN's sizes are bytes).
struct HwParamRanges {
  uint64_t formats = 0;
  Interval rates;
  Interval channels;
  Interval buffer_frames;
  Interval period_frames;
  bool operator==(const HwParamRanges&) const = default;
};

// OPEN's parameters. Sizes in bytes, as sndif.h says.
struct StreamParams {
  uint8_t format = 0;  // XENSND_PCM_FORMAT_*
  uint8_t channels = 0;
  uint32_t rate = 0;
  uint32_t buffer_bytes = 0;
  uint32_t period_bytes = 0;  // CUR_POS events every period_bytes; 0 = none
  // Bytes after the audio, inside OPEN's buffer_sz, where volume requests exchange their
  // values (sndif.h: "part of the buffer ... can be used ... for volume control"): the audio
  // part mirrors the application's ring and is never free. 0 = no volume requests in this
  // open. A whole number of frames; see volume_control_bytes().
  uint32_t control_bytes = 0;
  // Bytes after the control area that hold the format's silence (the caller fills them
  // through silence_area() after open): send_silence() plays them without touching the
  // application's ring (the plugin's START lead, plugin/README.md). 0 = none. Whole frames.
  uint32_t silence_bytes = 0;
};

// The control area volume requests of `channels` channels need, in whole frames of `format`.
uint32_t volume_control_bytes(uint8_t format, uint32_t channels);

class Stream {
 public:
  using Clock = std::chrono::steady_clock;
  virtual ~Stream() = default;

  virtual const StreamConfig& config() const = 0;  // the effective (inherited) configuration

  // --- Control requests: send, wait for the matching response (bounded), return. ---
  // Asks the backend what it supports within `request`; the answer is intersected with the
  // request. nullopt when the backend does not implement the query (-ENOTSUPP/-ENOSYS):
  // the configuration's ranges are then all there is. Throws RequestFailedError(EINVAL)
  // when the intersection is empty.
  virtual std::optional<HwParamRanges> query_hw_params(const HwParamRanges& request) = 0;
  // Allocates and grants the buffer (page directory included) and sends OPEN. A CLOSE still
  // unanswered is waited for first (bounded).
  virtual void open(const StreamParams& params) = 0;
  // Sends CLOSE (the backend may drain first) without waiting for its answer: an in-order
  // backend gives it only after every READ/WRITE before it. The buffer's grants are revoked
  // when the answer comes, at the next open(), or when the stream goes. Safe to call when
  // not open and after the backend went away.
  virtual void close() = 0;
  virtual bool is_open() const = 0;
  // Follows the backend's state: a START after START without STOP is refused here. Every
  // trigger but STOP waits for its answer; STOP is sent and not awaited (the backend is
  // stopped before it serves anything sent later).
  virtual void trigger(Trigger trigger) = 0;

  // --- The shared buffer, valid between open() and close(). ---
  // The audio part only (StreamParams::buffer_bytes), never the control area.
  virtual std::span<std::byte> buffer() = 0;
  // The silence area (StreamParams::silence_bytes; empty without one), for the caller to fill
  // with its format's silence before the first send_silence().
  virtual std::span<std::byte> silence_area() = 0;

  // --- Volume (SET_VOLUME, GET_VOLUME, MUTE, UNMUTE), between open() and close() of an open
  // with a control area. One value per channel of the open stream; volumes in sndif's unit,
  // steps of 0.001 dB with 0 = 0 dB. Throw RequestFailedError: EBADFD without an open control
  // area, EINVAL for a wrong channel count, or the backend's status (snd_be answers EINVAL:
  // it has no volume). ---
  virtual std::vector<int32_t> get_volume() = 0;
  virtual void set_volume(std::span<const int32_t> millidb) = 0;
  // MUTE for the channels that are true, UNMUTE for the others (one request each, as needed).
  virtual void set_mute(const std::vector<bool>& muted) = 0;

  // --- Pipelined data requests. ---
  // Ring slots free for send_write/send_read right now.
  virtual size_t free_slots() const = 0;
  // Requests that the backend has not answered yet.
  virtual size_t in_flight() const = 0;
  // Queues a WRITE/READ of buffer bytes [offset, offset+length); requires free_slots() > 0.
  // Playback data must be in buffer() before the call; capture data is valid once the read
  // completed (completed_read_bytes() grew past it).
  // `now`: the caller's clock reading, when it has one (a callback reads the clock once: in
  // guests whose clock has no vDSO, as on x86 PV Xen, each reading is a system call and a
  // hypercall); the overloads without it read the clock.
  virtual void send_write(uint32_t offset, uint32_t length, Clock::time_point now) = 0;
  virtual void send_read(uint32_t offset, uint32_t length, Clock::time_point now) = 0;
  void send_write(uint32_t offset, uint32_t length) { send_write(offset, length, Clock::now()); }
  void send_read(uint32_t offset, uint32_t length) { send_read(offset, length, Clock::now()); }
  // Queues a WRITE of the first `length` bytes of the silence area (whole frames, at most
  // silence_bytes; playback only); counted in completed_write_bytes() and positions like any.
  virtual void send_silence(uint32_t length, Clock::time_point now) = 0;
  void send_silence(uint32_t length) { send_silence(length, Clock::now()); }
  // Totals of bytes whose WRITE/READ the backend answered successfully since open().
  virtual uint64_t completed_write_bytes() const = 0;
  virtual uint64_t completed_read_bytes() const = 0;

  // --- Events and progress. ---
  // One fd for poll(): readable when responses or events may be waiting.
  virtual int poll_fd() const = 0;
  // Consumes every pending response and event without blocking. Throws BackendGoneError on a
  // protocol violation or an overdue response, RequestFailedError when a data request failed.
  // It does not ask the backend to notify the next response: while streaming, the once-a-period
  // CUR_POS event wakes poll_fd() and the answers are consumed then (one wake-up a period).
  virtual void process() = 0;
  // process() that leaves the event channels' notifications pending, so poll_fd() stays
  // readable. A caller whose poller should wake again (its stream is ready) keeps that
  // readiness in poll_fd() for free, instead of in a timer it must set and reset every
  // period; it takes the notifications (take_notifications()) when the poller must sleep.
  virtual void process_keeping_notifications(Clock::time_point now) = 0;
  void process_keeping_notifications() { process_keeping_notifications(Clock::now()); }
  // Takes the pending notifications: poll_fd() is not readable until the next one arrives.
  // Returns how many ports had one. What they announced is in the pages: process after.
  virtual size_t take_notifications() = 0;
  // How many times notifications were taken, by any caller (process() and waits take them
  // too): a readiness held in poll_fd() is gone once this moved.
  virtual uint64_t notifications_taken() const = 0;
  // Something a notification announces is not consumed yet: an event, or a response while
  // its notification is armed. A look at two indices in shared memory, no system call: after
  // take_notifications(), whether one of those taken announced what was not seen yet.
  virtual bool has_unconsumed_notified() const = 0;
  // Blocks until something arrives or `timeout` passes, then process()es. With requests
  // outstanding, their answers wake it (it arms the notification itself).
  virtual void wait(std::chrono::milliseconds timeout) = 0;
  // For a caller about to sleep on poll_fd() until a response comes (a free ring slot, a READ's
  // data, a drain): asks the backend to notify the next response. Returns true when responses
  // arrived before the request took effect — no notification comes for them: process() and
  // ask again instead of sleeping.
  virtual bool arm_response_notification() = 0;

  // Bytes played/captured in the current START..STOP epoch according to the last CUR_POS,
  // and when that event was consumed (for delay interpolation).
  virtual uint64_t position_bytes() const = 0;
  virtual std::chrono::steady_clock::time_point position_time() const = 0;
  // Events lost because more than XENSND_IN_RING_LEN were unread (not fatal).
  virtual uint64_t event_overruns() const = 0;
  // Odd positions, recovered from (PositionTracker): playback positions ahead of what was
  // written (the backend's device ran dry: an underrun; the position is clamped), and
  // re-bases (backwards, or unexplainable after STOP). Counts since the stream was created,
  // and the message of the latest, naming the stream. Positions impossible too many times in
  // a row disconnect instead.
  virtual uint64_t positions_ahead() const = 0;
  virtual uint64_t position_rebases() const = 0;
  virtual std::string last_position_anomaly() const = 0;

  // Set once the backend went away or broke the protocol; every later call throws
  // BackendGoneError with this reason.
  virtual bool disconnected() const = 0;
  virtual std::string disconnect_reason() const = 0;
  // Marks the stream disconnected from outside (the card saw the backend's state change).
  virtual void mark_disconnected(const std::string& reason) = 0;
};

}  // namespace xensnd
