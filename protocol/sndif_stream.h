// The Stream of a connected card: one request ring, one event page, their two event
// channels (on a handle of its own, so poll_fd() wakes only for this stream) and, between
// open() and close(), the shared PCM buffer.
#pragma once

#include <chrono>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "protocol/errors.h"
#include "protocol/event_page.h"
#include "protocol/position_tracker.h"
#include "protocol/request_ring.h"
#include "protocol/shared_buffer.h"
#include "protocol/stream.h"
#include "protocol/xenbus_frontend.h"
#include "xenio/platform.h"

namespace xensnd {

struct StreamTimeouts {
  // How long any request may take (the Linux driver uses 3 s).
  std::chrono::milliseconds response{3000};
};

class SndifStream final : public Stream {
 public:
  // Grants the ring and event pages to `backend` and allocates both event channels.
  SndifStream(const StreamConfig& config, xenio::Platform& platform, xenio::DomainId backend,
              StreamTimeouts timeouts);
  ~SndifStream() override;

  // What the card publishes for this stream.
  StreamTransport transport() const;

  const StreamConfig& config() const override { return config_; }
  std::optional<HwParamRanges> query_hw_params(const HwParamRanges& request) override;
  void open(const StreamParams& params) override;
  void close() override;
  // close(), then waits (bounded) for the answer to it or to an earlier close(): the card's
  // teardown releases nothing the backend may still use. Never throws; a backend that does
  // not answer is marked disconnected.
  void close_and_wait() noexcept;
  bool is_open() const override { return buffer_.has_value(); }
  void trigger(Trigger trigger) override;
  std::span<std::byte> buffer() override;
  std::span<std::byte> silence_area() override;
  std::vector<int32_t> get_volume() override;  // these three: stream_volume.cpp
  void set_volume(std::span<const int32_t> millidb) override;
  void set_mute(const std::vector<bool>& muted) override;
  size_t free_slots() const override;
  size_t in_flight() const override { return data_requests_.size(); }
  using Stream::send_read;
  using Stream::send_silence;
  using Stream::send_write;
  void send_write(uint32_t offset, uint32_t length, Clock::time_point now) override;
  void send_read(uint32_t offset, uint32_t length, Clock::time_point now) override;
  void send_silence(uint32_t length, Clock::time_point now) override;
  uint64_t completed_write_bytes() const override { return completed_write_bytes_; }
  uint64_t completed_read_bytes() const override { return completed_read_bytes_; }
  int poll_fd() const override;
  void process() override;
  using Stream::process_keeping_notifications;
  void process_keeping_notifications(Clock::time_point now) override;
  size_t take_notifications() override;
  uint64_t notifications_taken() const override { return notifications_taken_; }
  bool has_unconsumed_notified() const override;
  void wait(std::chrono::milliseconds timeout) override;
  bool arm_response_notification() override;
  uint64_t position_bytes() const override { return positions_.position(); }
  std::chrono::steady_clock::time_point position_time() const override { return position_time_; }
  uint64_t event_overruns() const override { return events_.overruns(); }
  uint64_t positions_ahead() const override { return positions_ahead_; }
  uint64_t position_rebases() const override { return position_rebases_; }
  std::string last_position_anomaly() const override { return last_position_anomaly_; }
  bool disconnected() const override { return disconnected_; }
  std::string disconnect_reason() const override { return disconnect_reason_; }
  void mark_disconnected(const std::string& reason) override;

  // Where the backend is in START..STOP, as far as its answers tell (a STOP is not awaited:
  // see trigger()).
  enum class RunState { kStopped, kRunning, kPaused };
  RunState run_state() const { return run_state_; }
  // The buffer's duration at the opened rate.
  std::chrono::milliseconds buffer_duration() const;
  // How long the backend may take on a WRITE, READ or CLOSE once it can start on it: the
  // response timeout plus the buffer's duration (its device may hold a whole buffer before
  // taking more), the latter capped so a huge buffer at a low rate cannot make a dead
  // backend take minutes to detect.
  static constexpr std::chrono::milliseconds kMaxBufferAllowance{4000};
  std::chrono::milliseconds data_allowance() const;

 private:
  struct DataRequest {
    uint16_t id;
    uint8_t operation;
    uint32_t length;
  };

  void require_connected() const;
  // Sends a control request (waiting, bounded, for a free slot); returns its id.
  uint16_t send_control(const xensnd_req& request, std::chrono::milliseconds timeout);
  // Sends a request and waits for its answer, processing everything else meanwhile.
  Completion call(xensnd_req request, std::chrono::milliseconds timeout);
  // Waits (bounded) for the answer to a CLOSE close() sent, then releases its buffer.
  void finish_closing();
  // A TRIGGER of one of these kinds sent and not yet answered.
  bool trigger_queued(std::initializer_list<Trigger> kinds) const;
  uint16_t push(const xensnd_req& request, std::chrono::milliseconds timeout, Clock::time_point now = Clock::now());
  // A READ/WRITE of the audio part (checked against it), and any data request once its
  // range is checked.
  void send_data(uint8_t operation, uint32_t offset, uint32_t length, Clock::time_point now);
  void push_data(uint8_t operation, uint32_t offset, uint32_t length, Clock::time_point now);
  // One pass over the event channels (unless `take` is false), the event page and the ring.
  // Throws like process(). `now`: the caller's clock reading (see Stream::send_write).
  void pump(bool take = true, Clock::time_point now = Clock::now());
  void handle_completion(Completion& c);
  // A failed WRITE/READ that pump() recorded, thrown once.
  void throw_failed_data_request();
  void block_until_event_or(Clock::time_point until);
  // The same for a caller that needs a response: arms its notification first.
  void block_for_response_or(Clock::time_point until);
  // The open buffer and the one a CLOSE still waits on.
  void release_buffer() noexcept;
  // Only the buffer of the answered (or abandoned) CLOSE.
  void release_closing_buffer() noexcept;
  // A volume request on `length` bytes at the control area's start (stream_volume.cpp).
  void volume_call(uint8_t operation, uint32_t length, const char* what);
  [[noreturn]] void fail(const std::string& reason);

  StreamConfig config_;
  StreamTimeouts timeouts_;
  xenio::DomainId backend_;
  // Handles first: the pages and ports below are released through them.
  std::unique_ptr<xenio::GrantSharer> sharer_;
  std::unique_ptr<xenio::EventChannels> channels_;
  std::unique_ptr<xenio::SharedPages> ring_page_;
  std::unique_ptr<xenio::SharedPages> event_page_;
  xenio::BoundPort ring_port_;
  xenio::BoundPort event_port_;
  RequestRing ring_;
  EventPageReader events_;

  std::optional<SharedBuffer> buffer_;
  // The buffer of a CLOSE sent and not yet answered: the backend may still use it.
  std::optional<SharedBuffer> closing_buffer_;
  std::optional<uint16_t> closing_id_;
  // Requests whose answers nobody waits for (CLOSE, STOP): dropped when they come.
  std::set<uint16_t> unawaited_;
  StreamParams params_{};
  RunState run_state_ = RunState::kStopped;
  PositionTracker positions_;
  Clock::time_point position_time_{};
  // Reserved to the ring's size: the audio path does not allocate per period.
  std::vector<DataRequest> data_requests_;
  std::vector<Completion> completions_;
  EventBatch events_batch_;
  std::map<uint16_t, Trigger> pending_triggers_;
  std::map<uint16_t, Completion> control_answers_;
  uint64_t completed_write_bytes_ = 0;
  uint64_t completed_read_bytes_ = 0;
  uint64_t positions_ahead_ = 0;
  uint64_t position_rebases_ = 0;
  uint64_t notifications_taken_ = 0;
  std::string last_position_anomaly_;
  std::optional<RequestFailedError> failed_data_request_;
  bool disconnected_ = false;
  std::string disconnect_reason_;
};

}  // namespace xensnd
