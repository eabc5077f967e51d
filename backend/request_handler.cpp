#include "backend/request_handler.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "backend/hw_query.h"
#include "backend/page_directory.h"
#include "backend/pacing_clock.h"
#include "backend/request_checks.h"
#include "backend/xen_status.h"

namespace xensnd::backend {
namespace {

const char* operation_name(uint8_t operation) {
  static constexpr const char* kNames[] = {"OPEN",   "CLOSE", "READ",    "WRITE",   "SET_VOLUME",
                                           "GET_VOLUME", "MUTE", "UNMUTE", "TRIGGER", "HW_PARAM_QUERY"};
  return operation < std::size(kNames) ? kNames[operation] : "unknown";
}

constexpr int64_t kForever = std::numeric_limits<int64_t>::max();
// Statuses that mean "send no response": the stream was shut down while the request waited,
// or the device stalled (--stall-after) and the request is left unanswered.
constexpr int32_t kShutDown = std::numeric_limits<int32_t>::min();
constexpr int32_t kUnanswered = std::numeric_limits<int32_t>::min() + 1;

}  // namespace

RequestHandler::RequestHandler(const StreamConfig& config, StreamIdentity identity, uint32_t& open_counter,
                               const BackendOptions& options, LoopbackBus& loopback, StreamServices& services,
                               Log& log)
    : config_(config), identity_(identity), open_counter_(open_counter), options_(options), loopback_(loopback), services_(services), log_(log) {
  name_ = "vsnd " + std::to_string(identity.frontend) + "/" + std::to_string(identity.device) + " stream " +
          std::to_string(identity.pcm) + "/" + std::to_string(identity.stream);
}

RequestHandler::~RequestHandler() {
  // Device (sink: finalizes the WAV) before the buffer it may still point into.
  device_.reset();
  buffer_.reset();
}

std::optional<xensnd_resp> RequestHandler::handle(const xensnd_req& request) {
  xensnd_resp response{};
  response.id = request.id;
  response.operation = request.operation;
  log_.debug(name_, ": request ", request.id, " ", operation_name(request.operation));
  int32_t status = kStatusOk;
  switch (request.operation) {
    case XENSND_OP_OPEN: status = open(request.op.open); break;
    case XENSND_OP_CLOSE: status = close(); break;
    case XENSND_OP_WRITE: status = write(request.op.rw); break;
    case XENSND_OP_READ: status = read(request.op.rw); break;
    case XENSND_OP_TRIGGER: status = trigger(request.op.trigger); break;
    case XENSND_OP_SET_VOLUME:
    case XENSND_OP_GET_VOLUME:
    case XENSND_OP_MUTE:
    case XENSND_OP_UNMUTE:
      status = volume(request.operation, request.op.rw);
      break;
    case XENSND_OP_HW_PARAM_QUERY: {
      auto narrowed = narrow_hw_params(config_.limits, request.op.hw_param);
      if (narrowed) {
        response.resp.hw_param = *narrowed;
      } else {
        log_.info(name_, ": HW_PARAM_QUERY has an empty intersection with the configuration");
        status = kStatusInvalid;
      }
      break;
    }
    default:
      log_.warning(name_, ": unknown operation ", int{request.operation});
      status = kStatusUnsupported;
      break;
  }
  if (status == kShutDown) return std::nullopt;
  if (status == kUnanswered) {
    log_.debug(name_, ": ", operation_name(request.operation), " (id ", request.id,
               ") left unanswered: the device is stalled");
    return std::nullopt;
  }
  response.status = status;
  if (status != kStatusOk)
    log_.info(name_, ": ", operation_name(request.operation), " (id ", request.id, ") answered ", status);
  return response;
}

int32_t RequestHandler::open(const xensnd_open_req& request) {
  if (device_) {
    log_.info(name_, ": OPEN while already open");
    return kStatusBusy;
  }
  OpenCheck check = check_open(config_.limits, request);
  if (!check.params) {
    log_.info(name_, ": OPEN refused: ", check.problem);
    return kStatusInvalid;
  }
  const PcmParams& params = *check.params;
  try {
    buffer_ = services_.map_buffer(request.gref_directory, params.buffer_bytes);
  } catch (const std::exception& e) {
    log_.warning(name_, ": OPEN cannot map the buffer: ", e.what());
    return kStatusInvalid;
  }
  identity_.open_count = ++open_counter_;
  PcmDevice::Setup setup;
  setup.params = params;
  setup.type = config_.type;
  setup.fifo_bytes = options_.device_buffer_bytes.value_or(params.buffer_bytes);
  setup.free_run = options_.free_run;
  setup.position_after_stop = options_.position_after_stop;
  setup.capture_burst_ms = options_.capture_burst_ms;
  setup.positions = options_.positions;
  setup.stall_after_ms = options_.stall_after_ms;
  setup.name = name_;
  try {
    std::unique_ptr<PlaybackSink> sink;
    std::unique_ptr<CaptureSource> source;
    if (config_.type == StreamType::kPlayback)
      sink = make_sink(options_.sink_for(identity_.pcm, identity_.stream), params, identity_, log_);
    else
      source = make_source(options_.source_for(identity_.pcm, identity_.stream), params, identity_, loopback_, log_);
    LoopbackBus* loopback = config_.type == StreamType::kPlayback ? &loopback_ : nullptr;
    device_ = std::make_unique<PcmDevice>(setup, std::move(sink), std::move(source), loopback,
                                          LoopbackBus::StreamKey{identity_.pcm, identity_.stream}, log_);
  } catch (const std::exception& e) {
    log_.error(name_, ": OPEN cannot set up the device: ", e.what());
    buffer_.reset();
    return kStatusIo;
  }
  reporting_ = true;
  log_.info(name_, ": opened ", params.rate, " Hz, format ", int{params.format}, ", ", params.channels,
            " channels, buffer ", params.buffer_bytes, " bytes, period ", params.period_bytes, " bytes");
  return kStatusOk;
}

int32_t RequestHandler::close() {
  if (!device_) {
    log_.debug(name_, ": CLOSE of a stream that is not open");
    return kStatusOk;
  }
  // As snd_be: playback drains what the device still holds before CLOSE is answered.
  reporting_ = false;
  if (device_->stalled()) {
    log_.info(name_, ": CLOSE does not drain: the device is stalled");
  } else if (config_.type == StreamType::kPlayback && device_->fifo_used() > 0) {
    if (device_->stopped()) device_->trigger(XENSND_OP_TRIGGER_START, monotonic_now_ns());
    if (device_->running()) {
      log_.debug(name_, ": CLOSE drains ", device_->fifo_used(), " bytes");
      device_->set_draining(true);
      while (device_->fifo_used() > 0 && !device_->stalled()) {
        if (!wait_for_device()) return kShutDown;
      }
    }
  }
  log_.info(name_, ": closed at position ", device_->position(), ", ", device_->underruns(), " underruns, ",
            device_->overruns(), " overruns");
  device_.reset();
  buffer_.reset();
  return kStatusOk;
}

int32_t RequestHandler::write(const xensnd_rw_req& request) {
  if (!device_ || config_.type != StreamType::kPlayback) {
    log_.info(name_, ": WRITE on a stream that is not an open playback stream");
    return kStatusInvalid;
  }
  if (!rw_range_valid(request.offset, request.length, device_->params().buffer_bytes)) {
    log_.info(name_, ": WRITE offset ", request.offset, " length ", request.length, " outside the ",
              device_->params().buffer_bytes, "-byte buffer");
    return kStatusInvalid;
  }
  if (request.length % device_->params().frame_bytes() != 0) {
    log_.info(name_, ": WRITE length ", request.length, " is not a whole number of frames");
    return kStatusInvalid;
  }
  const std::byte* data = buffer_->data() + request.offset;
  size_t left = request.length;
  bool warned = false;
  // Answered only once the device accepted everything, as snd_be's blocking ALSA write.
  while (left > 0) {
    size_t taken = device_->accept(std::span(data, left));
    data += taken;
    left -= taken;
    advance(monotonic_now_ns());  // a free-running device empties its FIFO right here
    if (left == 0) break;
    // A stalled device still takes what fits in its FIFO (as a stopped ALSA device's
    // writei returns while there is room); what needs it to move is never answered.
    if (device_->stalled()) return kUnanswered;
    if (options_.free_run && device_->running()) continue;
    if (!device_->running() && !warned) {
      warned = true;
      log_.warning(name_, ": WRITE waits for ", left, " bytes of device room, but the stream is not started: ",
                   "the frontend queued more than the device holds before TRIGGER START (snd_be deadlocks here)");
    }
    if (!wait_for_device()) return kShutDown;
  }
  return kStatusOk;
}

int32_t RequestHandler::read(const xensnd_rw_req& request) {
  if (!device_ || config_.type != StreamType::kCapture) {
    log_.info(name_, ": READ on a stream that is not an open capture stream");
    return kStatusInvalid;
  }
  if (!rw_range_valid(request.offset, request.length, device_->params().buffer_bytes) ||
      request.length % device_->params().frame_bytes() != 0) {
    log_.info(name_, ": READ offset ", request.offset, " length ", request.length, " invalid for the ",
              device_->params().buffer_bytes, "-byte buffer");
    return kStatusInvalid;
  }
  std::byte* out = buffer_->data() + request.offset;
  size_t left = request.length;
  bool warned = false;
  while (left > 0) {
    size_t got = device_->deliver(std::span(out, left));
    out += got;
    left -= got;
    if (left == 0) break;
    if (device_->stalled()) return kUnanswered;  // what was recorded before the stall is read
    if (!device_->running() && !warned) {
      warned = true;
      log_.warning(name_, ": READ waits for ", left, " bytes, but the stream is not started (snd_be blocks here)");
    }
    if (!wait_for_device()) return kShutDown;
  }
  return kStatusOk;
}

int32_t RequestHandler::trigger(const xensnd_trigger_req& request) {
  if (!device_) {
    log_.info(name_, ": TRIGGER on a stream that is not open");
    return kStatusInvalid;
  }
  int64_t now = monotonic_now_ns();
  int32_t status = device_->trigger(request.type, now);
  if (status == kStatusOk) {
    static constexpr const char* kNames[] = {"START", "PAUSE", "STOP", "RESUME"};
    log_.info(name_, ": ", kNames[request.type], " at position ", device_->position());
    advance(now);
  } else {
    log_.info(name_, ": TRIGGER ", int{request.type}, " refused in the current state");
  }
  return status;
}

int32_t RequestHandler::volume(uint8_t operation, const xensnd_rw_req& request) {
  if (!options_.volume_supported) return kStatusInvalid;  // as snd_be
  if (!device_) return kStatusInvalid;
  const PcmParams& params = device_->params();
  ChannelVolume& volume = device_->volume();
  const bool per_int32 = operation == XENSND_OP_SET_VOLUME || operation == XENSND_OP_GET_VOLUME;
  // Volumes are int32 per channel. Mute flags are uint8 per channel per sndif.h's text; its
  // diagram draws 4-byte cells, so that length is accepted too (non-zero = selected).
  const uint32_t stride = per_int32 || request.length == params.channels * 4u ? 4 : 1;
  if (!rw_range_valid(request.offset, request.length, params.buffer_bytes) ||
      request.length != params.channels * stride) {
    log_.info(name_, ": volume request offset ", request.offset, " length ", request.length, " invalid for ",
              params.channels, " channels");
    return kStatusInvalid;
  }
  std::byte* cells = buffer_->data() + request.offset;
  if (operation == XENSND_OP_GET_VOLUME) {
    for (uint32_t c = 0; c < params.channels; ++c) {
      int32_t value = volume.millidb(c);
      std::memcpy(cells + c * 4, &value, 4);
    }
    return kStatusOk;
  }
  // Copied out before use, all at once.
  std::vector<std::byte> copy(cells, cells + request.length);
  for (uint32_t c = 0; c < params.channels; ++c) {
    if (operation == XENSND_OP_SET_VOLUME) {
      int32_t value;
      std::memcpy(&value, copy.data() + c * 4, 4);
      volume.set_millidb(c, value);
    } else {
      bool selected = std::any_of(copy.begin() + c * stride, copy.begin() + (c + 1) * stride,
                                  [](std::byte b) { return b != std::byte{0}; });
      if (selected) volume.set_muted(c, operation == XENSND_OP_MUTE);
    }
  }
  if (!ChannelVolume::supports(params.format))
    log_.warning(name_, ": volume is kept but not applied to format ", int{params.format});
  return kStatusOk;
}

bool RequestHandler::wait_for_device() {
  std::optional<int64_t> deadline = device_ ? device_->next_deadline() : std::nullopt;
  if (!services_.wait_until(deadline.value_or(kForever))) return false;
  advance(monotonic_now_ns());
  return true;
}

void RequestHandler::advance(int64_t now_ns) {
  if (!device_) return;
  device_->tick(now_ns);
  std::optional<uint64_t> position = device_->take_position_report();
  if (position && reporting_) services_.report_position(*position);
}

bool RequestHandler::run_until(int64_t deadline_ns) {
  for (;;) {
    int64_t now = monotonic_now_ns();
    if (now >= deadline_ns) return true;
    std::optional<int64_t> device_deadline = next_deadline();
    if (!services_.wait_until(std::min(deadline_ns, device_deadline.value_or(kForever)))) return false;
    advance(monotonic_now_ns());
  }
}

std::optional<int64_t> RequestHandler::next_deadline() const {
  return device_ ? device_->next_deadline() : std::nullopt;
}

}  // namespace xensnd::backend
