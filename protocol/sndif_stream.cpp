// SndifStream: the request/response and event plumbing of one sndif stream.
#include "protocol/sndif_stream.h"

#include <poll.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "protocol/errors.h"
#include "protocol/hw_params.h"
#include "protocol/pcm_format.h"

namespace xensnd {
namespace {

std::string stream_name(const StreamConfig& c) {
  return "stream " + std::to_string(c.pcm_index) + "/" + std::to_string(c.stream_index) + " (" + c.unique_id + ")";
}

uint8_t wire_trigger(Trigger t) {
  switch (t) {
    case Trigger::kStart: return XENSND_OP_TRIGGER_START;
    case Trigger::kPause: return XENSND_OP_TRIGGER_PAUSE;
    case Trigger::kStop: return XENSND_OP_TRIGGER_STOP;
    case Trigger::kResume: return XENSND_OP_TRIGGER_RESUME;
  }
  return XENSND_OP_TRIGGER_STOP;
}

const char* trigger_name(Trigger t) {
  switch (t) {
    case Trigger::kStart: return "START";
    case Trigger::kPause: return "PAUSE";
    case Trigger::kStop: return "STOP";
    case Trigger::kResume: return "RESUME";
  }
  return "?";
}

}  // namespace

SndifStream::SndifStream(const StreamConfig& config, xenio::Platform& platform, xenio::DomainId backend,
                         StreamTimeouts timeouts)
    : config_(config),
      timeouts_(timeouts),
      backend_(backend),
      sharer_(platform.open_grant_sharer()),
      channels_(platform.open_event_channels()),
      ring_page_(sharer_->share(backend, 1, /*writable=*/true)),
      event_page_(sharer_->share(backend, 1, /*writable=*/true)),
      ring_port_(*channels_, channels_->bind_unbound(backend)),
      event_port_(*channels_, channels_->bind_unbound(backend)),
      ring_(ring_page_->data()),
      events_(event_page_->data()),
      positions_(config.type) {
  data_requests_.reserve(ring_.capacity());
  completions_.reserve(ring_.capacity());
  events_batch_.positions.reserve(XENSND_IN_RING_LEN);
}

SndifStream::~SndifStream() { release_buffer(); }

StreamTransport SndifStream::transport() const {
  return {config_.xenstore_path, ring_page_->refs().front(), ring_port_.port(), event_page_->refs().front(),
          event_port_.port()};
}

void SndifStream::mark_disconnected(const std::string& reason) {
  if (disconnected_) return;
  disconnected_ = true;
  disconnect_reason_ = stream_name(config_) + ": " + reason;
}

void SndifStream::fail(const std::string& reason) {
  mark_disconnected(reason);
  throw BackendGoneError(disconnect_reason_);
}

void SndifStream::require_connected() const {
  if (disconnected_) throw BackendGoneError(disconnect_reason_);
}

std::chrono::milliseconds SndifStream::buffer_duration() const {
  std::optional<uint32_t> sample = sndif_format_bytes_per_sample(params_.format);
  uint64_t bytes_per_second = uint64_t{params_.rate} * params_.channels * sample.value_or(0);
  if (bytes_per_second == 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds((uint64_t{params_.buffer_bytes} * 1000 + bytes_per_second - 1) / bytes_per_second);
}

std::chrono::milliseconds SndifStream::data_allowance() const {
  return timeouts_.response + std::min(buffer_duration(), kMaxBufferAllowance);
}

int SndifStream::poll_fd() const { return channels_->fd(); }

size_t SndifStream::free_slots() const {
  // One slot stays free for control requests (TRIGGER STOP must get through a full ring).
  size_t free = ring_.free_slots();
  return disconnected_ || free <= 1 ? 0 : free - 1;
}

std::span<std::byte> SndifStream::buffer() {
  if (!buffer_) return {};
  return buffer_->data().first(params_.buffer_bytes);
}

std::span<std::byte> SndifStream::silence_area() {
  if (!buffer_) return {};
  return buffer_->data().subspan(params_.buffer_bytes + params_.control_bytes, params_.silence_bytes);
}

void SndifStream::release_buffer() noexcept {
  buffer_.reset();
  release_closing_buffer();
}

void SndifStream::release_closing_buffer() noexcept {
  closing_buffer_.reset();
  closing_id_.reset();
}

// --- Plumbing ---

void SndifStream::block_until_event_or(Clock::time_point until) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
  if (left.count() <= 0) return;
  pollfd p{channels_->fd(), POLLIN, 0};
  int timeout = static_cast<int>(std::min<int64_t>(left.count(), 60'000));
  if (::poll(&p, 1, timeout) < 0 && errno != EINTR) fail(std::string("poll on the event channels failed: ") + std::strerror(errno));
}

void SndifStream::block_for_response_or(Clock::time_point until) {
  // Responses wake us only when rsp_event asks (pump() does not): arm it before sleeping, and
  // do not sleep when some arrived before it was armed — nothing would notify those.
  if (ring_.arm_response_notification()) return;
  block_until_event_or(until);
}

size_t SndifStream::take_notifications() {
  if (disconnected_) return 0;  // the channels may be gone; nothing is delivered any more
  try {
    // Acknowledge and unmask first: anything arriving after this wakes poll() again.
    // A delivered port stays masked until unmask(), so with both of this handle's ports
    // taken nothing else can be pending: no further read to learn that (a system call
    // per period), and a backend notifying in a tight loop cannot keep us here (unmasking
    // inside the loop would let it). Unmask re-delivers what arrived meanwhile.
    // The ring port can fire only while rsp_event is armed (RequestRing): when it is not,
    // the event port is all there is to take, and streaming costs one read a period. A port
    // left unread keeps the fd readable: a wrong guess costs a wake-up, never an event.
    const bool ring_may_fire = ring_.response_notification_armed();
    std::array<xenio::EventPort, 2> taken{};
    size_t count = 0;
    auto took = [&](xenio::EventPort p) { return std::find(taken.begin(), taken.begin() + count, p) != taken.begin() + count; };
    auto all_taken = [&] { return took(event_port_.port()) && (!ring_may_fire || took(ring_port_.port())); };
    for (int reads = 0; count < taken.size() && reads < 4 && !all_taken(); ++reads) {
      std::optional<xenio::EventPort> port = channels_->pending();
      if (!port) break;
      if (!took(*port)) taken[count++] = *port;
    }
    for (size_t i = 0; i < count; ++i) channels_->unmask(taken[i]);
    if (count > 0) ++notifications_taken_;
    return count;
  } catch (const xenio::XenError& e) {
    fail(std::string("event channel failure: ") + e.what());
  }
}

bool SndifStream::has_unconsumed_notified() const {
  if (disconnected_) return false;
  return events_.has_unread() || (ring_.response_notification_armed() && ring_.has_uncollected_responses());
}

void SndifStream::pump(bool take, Clock::time_point now) {
  if (take) take_notifications();

  // Events before responses: events queued before a STOP/PAUSE response are discarded,
  // those read while the request is pending here and the rest when its response arrives
  // (handle_completion), so no old-epoch position is read as a new one.
  EventBatch& batch = events_batch_;
  events_.read(batch);
  bool start_pending = trigger_queued({Trigger::kStart, Trigger::kResume});
  bool stop_pending = trigger_queued({Trigger::kStop, Trigger::kPause});
  if (buffer_ && !stop_pending && (run_state_ == RunState::kRunning || start_pending)) {
    for (uint64_t position : batch.positions) {
      PositionTracker::Update update = positions_.on_position(position);
      switch (update.verdict) {
        case PositionTracker::Verdict::kPlausible: break;
        case PositionTracker::Verdict::kViolation: fail("bad CUR_POS event: " + update.problem);
        case PositionTracker::Verdict::kAhead:
          ++positions_ahead_;
          last_position_anomaly_ = stream_name(config_) + ": " + update.problem;
          break;
        case PositionTracker::Verdict::kRebased:
          ++position_rebases_;
          last_position_anomaly_ = stream_name(config_) + ": " + update.problem;
          break;
      }
      position_time_ = now;
    }
  }

  try {
    ring_.collect(completions_, now);
  } catch (const BackendGoneError& e) {
    fail(e.what());
  }
  for (Completion& c : completions_) handle_completion(c);

  try {
    ring_.check_deadlines(now);
  } catch (const BackendGoneError& e) {
    fail(e.what());
  }
}

void SndifStream::handle_completion(Completion& c) {
  auto data = std::find_if(data_requests_.begin(), data_requests_.end(),
                           [&](const DataRequest& d) { return d.id == c.id; });
  if (data != data_requests_.end()) {
    uint32_t length = data->length;
    data_requests_.erase(data);
    if (c.status.errno_value != 0) {
      if (!failed_data_request_)
        failed_data_request_.emplace(c.status.errno_value, stream_name(config_) + ": " + c.status.message);
    } else if (c.operation == XENSND_OP_WRITE) {
      completed_write_bytes_ += length;
    } else {
      completed_read_bytes_ += length;
    }
    return;
  }
  if (auto trig = pending_triggers_.find(c.id); trig != pending_triggers_.end()) {
    Trigger t = trig->second;
    pending_triggers_.erase(trig);
    if (c.status.errno_value == 0) {
      switch (t) {
        case Trigger::kStart:
          run_state_ = RunState::kRunning;
          break;
        case Trigger::kResume:
          run_state_ = RunState::kRunning;
          break;
        case Trigger::kPause:
          events_.discard_all();
          run_state_ = RunState::kPaused;
          // A paused device takes no data: WRITEs/READs wait for RESUME, their clocks too
          // (unless a START or RESUME is already queued behind this answer).
          ring_.hold_data_requests(!trigger_queued({Trigger::kStart, Trigger::kResume}));
          break;
        case Trigger::kStop:
          events_.discard_all();  // (the position tracker's epoch ended when it was sent)
          run_state_ = RunState::kStopped;
          ring_.hold_data_requests(!trigger_queued({Trigger::kStart, Trigger::kResume}));
          break;
      }
    } else if (t == Trigger::kStart || t == Trigger::kResume) {
      ring_.hold_data_requests(run_state_ != RunState::kRunning);
    }
  }
  if (unawaited_.erase(c.id) > 0) {
    // Nobody waits for it (close(), a STOP): a refused STOP shows at the next START, which
    // the backend then refuses too.
    // Only the closed stream's buffer: buffer_ is never the CLOSE's to free.
    if (c.id == closing_id_) release_closing_buffer();
    return;
  }
  control_answers_.emplace(c.id, std::move(c));
}

uint16_t SndifStream::push(const xensnd_req& request, std::chrono::milliseconds timeout, Clock::time_point now) {
  RequestRing::Pushed pushed = ring_.push(request, timeout, now);
  if (pushed.notify) {
    try {
      ring_port_.notify();
    } catch (const xenio::XenError& e) {
      fail(std::string("cannot notify the backend: ") + e.what());
    }
  }
  return pushed.id;
}

uint16_t SndifStream::send_control(const xensnd_req& request, std::chrono::milliseconds timeout) {
  require_connected();
  // Data requests may have taken every slot but the reserved one... or all, if the plugin
  // ignored free_slots(): wait for one to free.
  const Clock::time_point give_up = Clock::now() + timeouts_.response;
  while (ring_.free_slots() == 0) {
    // Held data requests have no running clock: the wait for a slot is bounded here.
    if (!ring_.next_deadline() && Clock::now() >= give_up)
      fail("no request slot freed within " + std::to_string(timeouts_.response.count()) + " ms");
    block_for_response_or(ring_.next_deadline().value_or(give_up));
    pump();
  }
  // Its answer is awaited: have it notified even when the backend answers at once.
  ring_.arm_response_notification();
  uint16_t id = push(request, timeout);
  if (request.operation == XENSND_OP_TRIGGER) {
    for (Trigger t : {Trigger::kStart, Trigger::kPause, Trigger::kStop, Trigger::kResume})
      if (wire_trigger(t) == request.op.trigger.type) pending_triggers_[id] = t;
  }
  return id;
}

Completion SndifStream::call(xensnd_req request, std::chrono::milliseconds timeout) {
  const uint16_t id = send_control(request, timeout);
  while (true) {
    pump();
    if (auto it = control_answers_.find(id); it != control_answers_.end()) {
      Completion answer = std::move(it->second);
      control_answers_.erase(it);
      return answer;
    }
    block_for_response_or(ring_.next_deadline().value_or(Clock::now()));
  }
}

// --- Control requests ---

std::optional<HwParamRanges> SndifStream::query_hw_params(const HwParamRanges& request) {
  xensnd_req req{};
  req.operation = XENSND_OP_HW_PARAM_QUERY;
  req.op.hw_param = hw_params_to_wire(request);
  Completion c = call(req, timeouts_.response);
  if (c.status.errno_value == EOPNOTSUPP || c.status.errno_value == ENOSYS) return std::nullopt;
  if (c.status.errno_value != 0)
    throw RequestFailedError(c.status.errno_value, stream_name(config_) + ": " + c.status.message);
  HwParamRanges answer = hw_params_from_wire(c.response.resp.hw_param);
  HwParamRanges result = intersect(request, answer);
  if (is_empty(result))
    throw RequestFailedError(EINVAL, stream_name(config_) + ": the backend supports nothing of " +
                                         describe(request) + " (it answered " + describe(answer) + ")");
  return result;
}

void SndifStream::open(const StreamParams& params) {
  require_connected();
  close();
  finish_closing();  // the old buffer's grants go before new ones are taken
  const StreamLimits& limits = config_.limits;
  auto invalid = [&](const std::string& why) { throw RequestFailedError(EINVAL, stream_name(config_) + ": cannot open: " + why); };
  std::optional<uint32_t> sample = sndif_format_bytes_per_sample(params.format);
  if (!sample || !(limits.formats & (uint64_t{1} << params.format)))
    invalid("format " + std::to_string(params.format) + " is not offered");
  if (params.channels < limits.channels_min || params.channels > limits.channels_max)
    invalid(std::to_string(params.channels) + " channels is outside " + std::to_string(limits.channels_min) + ".." +
            std::to_string(limits.channels_max));
  if (!std::binary_search(limits.rates.begin(), limits.rates.end(), params.rate))
    invalid("rate " + std::to_string(params.rate) + " is not configured");
  uint32_t frame = *sample * params.channels;
  if (params.buffer_bytes == 0 || params.buffer_bytes > limits.buffer_bytes || params.buffer_bytes % frame)
    invalid("buffer of " + std::to_string(params.buffer_bytes) + " bytes (whole frames, at most " +
            std::to_string(limits.buffer_bytes) + ")");
  if (params.period_bytes > params.buffer_bytes || params.period_bytes % frame)
    invalid("period of " + std::to_string(params.period_bytes) + " bytes");
  if (params.control_bytes % frame || uint64_t{params.buffer_bytes} + params.control_bytes > limits.buffer_bytes)
    invalid("control area of " + std::to_string(params.control_bytes) + " bytes after the " +
            std::to_string(params.buffer_bytes) + "-byte buffer (whole frames, at most " +
            std::to_string(limits.buffer_bytes) + " in all)");
  if (params.silence_bytes % frame ||
      uint64_t{params.buffer_bytes} + params.control_bytes + params.silence_bytes > limits.buffer_bytes)
    invalid("silence area of " + std::to_string(params.silence_bytes) + " bytes after the " +
            std::to_string(params.buffer_bytes + params.control_bytes) + "-byte buffer and control area (whole frames, at most " +
            std::to_string(limits.buffer_bytes) + " in all)");
  const uint32_t shared_bytes = params.buffer_bytes + params.control_bytes + params.silence_bytes;

  try {
    buffer_.emplace(*sharer_, backend_, shared_bytes);
  } catch (const xenio::XenError& e) {
    throw FrontendError(e.errno_value(), stream_name(config_) + ": cannot share the PCM buffer: " + e.what());
  }
  params_ = params;
  xensnd_req req{};
  req.operation = XENSND_OP_OPEN;
  req.op.open.pcm_rate = params.rate;
  req.op.open.pcm_format = params.format;
  req.op.open.pcm_channels = params.channels;
  req.op.open.buffer_sz = shared_bytes;
  req.op.open.gref_directory = buffer_->directory_ref();
  req.op.open.period_sz = params.period_bytes;
  Completion c;
  try {
    c = call(req, timeouts_.response);
  } catch (...) {
    release_buffer();
    throw;
  }
  if (c.status.errno_value != 0) {
    release_buffer();
    // Say what was asked for: the backend's log is in another domain.
    throw RequestFailedError(c.status.errno_value,
                             stream_name(config_) + ": " + c.status.message + " (" +
                                 std::string(sndif_format_name(params.format)) + ", " +
                                 std::to_string(params.channels) + " channels, " + std::to_string(params.rate) +
                                 " Hz, buffer " + std::to_string(params.buffer_bytes) + " bytes, period " +
                                 std::to_string(params.period_bytes) + " bytes)");
  }
  positions_.reset();
  events_.discard_all();
  run_state_ = RunState::kStopped;
  ring_.hold_data_requests(true);  // until START
  completed_write_bytes_ = completed_read_bytes_ = 0;
  failed_data_request_.reset();
  position_time_ = Clock::now();
}

void SndifStream::close() {
  if (!buffer_) return;
  run_state_ = RunState::kStopped;
  if (disconnected_) {
    release_buffer();
    return;
  }
  xensnd_req req{};
  req.operation = XENSND_OP_CLOSE;
  try {
    // Not awaited: an in-order backend answers CLOSE only after every READ/WRITE before it,
    // up to a buffer of real time, and an application closing a stream (a sound server
    // suspending an idle source from its main thread) must not wait for that. The backend
    // still maps the buffer until it answers: the grants are kept until then (pump()), and
    // the next open() waits for the answer first. The backend may drain before answering.
    const uint16_t id = send_control(req, data_allowance());
    unawaited_.insert(id);
    closing_id_ = id;
    closing_buffer_ = std::move(buffer_);
    buffer_.reset();
  } catch (const FrontendError&) {
    // The stream is marked disconnected if the backend misbehaved; closing goes on.
    release_buffer();
  }
}

void SndifStream::close_and_wait() noexcept {
  try {
    close();
    finish_closing();
  } catch (const std::exception&) {
    // Marked disconnected (finish_closing() released the buffer), or XenStore trouble: the
    // grants go with the stream.
  }
}

void SndifStream::finish_closing() {
  if (!closing_id_) return;
  // Bounded by the ring's deadlines (pump() throws once the oldest request is overdue), and
  // by the same allowance when nothing has a running deadline.
  const Clock::time_point give_up = Clock::now() + timeouts_.response + data_allowance();
  try {
    while (closing_id_) {
      pump();
      if (!closing_id_) break;
      if (!ring_.next_deadline() && Clock::now() >= give_up)
        fail("the backend did not answer CLOSE within " + std::to_string((timeouts_.response + data_allowance()).count()) +
             " ms");
      block_for_response_or(ring_.next_deadline().value_or(give_up));
    }
  } catch (...) {
    release_buffer();
    throw;
  }
}

bool SndifStream::trigger_queued(std::initializer_list<Trigger> kinds) const {
  return std::any_of(pending_triggers_.begin(), pending_triggers_.end(), [&](const auto& p) {
    return std::find(kinds.begin(), kinds.end(), p.second) != kinds.end();
  });
}

void SndifStream::trigger(Trigger t) {
  require_connected();
  if (!buffer_) throw RequestFailedError(EBADFD, stream_name(config_) + ": TRIGGER " + trigger_name(t) + " before OPEN");
  // A STOP sent and not yet answered: the backend serves the ring in order, so it is
  // stopped by the time it sees whatever comes next.
  const RunState state = trigger_queued({Trigger::kStop}) ? RunState::kStopped : run_state_;
  bool allowed = false;
  switch (t) {
    case Trigger::kStart: allowed = state == RunState::kStopped; break;
    case Trigger::kStop:
      if (state == RunState::kStopped) return;  // nothing runs: nothing to stop
      allowed = true;
      break;
    case Trigger::kPause: allowed = state == RunState::kRunning; break;
    case Trigger::kResume: allowed = state == RunState::kPaused; break;
  }
  if (!allowed)
    throw RequestFailedError(EBADFD, stream_name(config_) + ": TRIGGER " + trigger_name(t) + " while " +
                                         (state == RunState::kRunning ? "running" :
                                          state == RunState::kPaused  ? "paused" : "stopped"));
  xensnd_req req{};
  req.operation = XENSND_OP_TRIGGER;
  req.op.trigger.type = wire_trigger(t);
  // Data requests queued before START/RESUME: their clocks start now, the backend may take them.
  if (t == Trigger::kStart || t == Trigger::kResume) ring_.hold_data_requests(false);
  if (t == Trigger::kStop) {
    // Not awaited: an in-order backend answers STOP only after every READ/WRITE before it,
    // up to a buffer of real time (snd_be answers a READ when its device delivered all of
    // it), and snd_pcm_drop() must not wait for that. What follows needs no answer first:
    // a START or CLOSE sent later is served after it. Its answer updates run_state().
    unawaited_.insert(send_control(req, timeouts_.response));
    // The epoch ends here in the ring's order: what is sent from now on belongs to the next
    // one (positions are ignored until the answer, see pump()).
    positions_.on_stop();
    return;
  }
  Completion c = call(req, timeouts_.response);
  if (c.status.errno_value != 0)
    throw RequestFailedError(c.status.errno_value, stream_name(config_) + ": TRIGGER " + trigger_name(t) + ": " +
                                                       c.status.message);
}

// --- Data requests ---

void SndifStream::send_data(uint8_t operation, uint32_t offset, uint32_t length, Clock::time_point now) {
  require_connected();
  const char* what = operation == XENSND_OP_WRITE ? "WRITE" : "READ";
  if (!buffer_) throw RequestFailedError(EBADFD, stream_name(config_) + ": " + what + " before OPEN");
  if (length == 0 || uint64_t{offset} + length > params_.buffer_bytes)  // never the control area
    throw RequestFailedError(EINVAL, stream_name(config_) + ": " + what + " of bytes " + std::to_string(offset) +
                                         "+" + std::to_string(length) + " outside the " +
                                         std::to_string(params_.buffer_bytes) + "-byte buffer");
  push_data(operation, offset, length, now);
}

void SndifStream::send_silence(uint32_t length, Clock::time_point now) {
  require_connected();
  if (!buffer_) throw RequestFailedError(EBADFD, stream_name(config_) + ": WRITE of silence before OPEN");
  const uint32_t frame = params_.channels * sndif_format_bytes_per_sample(params_.format).value_or(1);
  if (length == 0 || length > params_.silence_bytes || length % frame)
    throw RequestFailedError(EINVAL, stream_name(config_) + ": WRITE of " + std::to_string(length) +
                                         " bytes of silence from a silence area of " +
                                         std::to_string(params_.silence_bytes) + " bytes (whole frames)");
  push_data(XENSND_OP_WRITE, params_.buffer_bytes + params_.control_bytes, length, now);
}

void SndifStream::push_data(uint8_t operation, uint32_t offset, uint32_t length, Clock::time_point now) {
  const char* what = operation == XENSND_OP_WRITE ? "WRITE" : "READ";
  bool playback = config_.type == StreamType::kPlayback;
  if (playback != (operation == XENSND_OP_WRITE))
    throw RequestFailedError(EINVAL, stream_name(config_) + ": " + what + " on a " +
                                         (playback ? "playback" : "capture") + " stream");
  if (free_slots() == 0) throw RequestFailedError(EAGAIN, stream_name(config_) + ": no free request slot");
  xensnd_req req{};
  req.operation = operation;
  req.op.rw.offset = offset;
  req.op.rw.length = length;
  // A WRITE is answered once the backend's device took the data: up to a buffer's time.
  uint16_t id = push(req, data_allowance(), now);
  data_requests_.push_back({id, operation, length});
  if (playback) positions_.on_data_sent(length);
}

void SndifStream::send_write(uint32_t offset, uint32_t length, Clock::time_point now) {
  send_data(XENSND_OP_WRITE, offset, length, now);
}
void SndifStream::send_read(uint32_t offset, uint32_t length, Clock::time_point now) {
  send_data(XENSND_OP_READ, offset, length, now);
}

// --- Progress ---

void SndifStream::process() {
  require_connected();
  pump();
  throw_failed_data_request();
}

void SndifStream::process_keeping_notifications(Clock::time_point now) {
  require_connected();
  pump(/*take=*/false, now);
  throw_failed_data_request();
}

void SndifStream::throw_failed_data_request() {
  if (!failed_data_request_) return;
  RequestFailedError error = *failed_data_request_;
  failed_data_request_.reset();
  throw error;
}

void SndifStream::wait(std::chrono::milliseconds timeout) {
  require_connected();
  Clock::time_point until = Clock::now() + timeout;
  if (std::optional<Clock::time_point> deadline = ring_.next_deadline()) until = std::min(until, *deadline);
  // Whoever waits with requests outstanding waits for their answers.
  if (ring_.outstanding() > 0)
    block_for_response_or(until);
  else
    block_until_event_or(until);
  process();
}

bool SndifStream::arm_response_notification() {
  require_connected();
  return ring_.arm_response_notification();
}

}  // namespace xensnd
