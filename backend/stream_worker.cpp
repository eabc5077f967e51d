#include "backend/stream_worker.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include "backend/page_directory.h"
#include "backend/pacing_clock.h"
#include "xenio/error.h"

namespace xensnd::backend {

StreamWorker::StreamWorker(StreamWorkerSetup setup) : setup_(std::move(setup)), log_(*setup_.log) {
  const StreamIdentity& who = setup_.identity;
  name_ = "vsnd " + std::to_string(who.frontend) + "/" + std::to_string(who.device) + " stream " +
          std::to_string(who.pcm) + "/" + std::to_string(who.stream);
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) xenio::throw_errno("cannot create an eventfd for " + name_);
  try {
    const auto frontend = static_cast<xenio::DomainId>(who.frontend);
    channels_ = xenio::open_event_channels();
    mapper_ = xenio::open_grant_mapper();
    ring_page_ = mapper_->map(frontend, std::span(&setup_.transport.ring_ref, 1), true);
    event_page_ = mapper_->map(frontend, std::span(&setup_.transport.event_ring_ref, 1), true);
    request_port_ = xenio::BoundPort(*channels_, channels_->bind_interdomain(frontend, setup_.transport.event_channel));
    event_port_ =
        xenio::BoundPort(*channels_, channels_->bind_interdomain(frontend, setup_.transport.event_event_channel));
  } catch (...) {
    request_port_.reset();
    event_port_.reset();
    close(stop_fd_);
    throw;
  }
  auto* sring = reinterpret_cast<xen_sndif_sring*>(ring_page_->data());
  BACK_RING_INIT(&ring_, sring, xenio::kXenPageSize);
  events_ = std::make_unique<EventPageWriter>(event_page_->data());
  faults_ = StreamFaults(setup_.options->faults, who.pcm, who.stream);
  handler_ = std::make_unique<RequestHandler>(setup_.config, who, *setup_.open_counter, *setup_.options, *setup_.loopback, *this, log_);
  log_.info(name_, ": connected (ring ", setup_.transport.ring_ref, ", port ", request_port_.port(), ", events ",
            setup_.transport.event_ring_ref, ", port ", event_port_.port(), ")");
}

StreamWorker::~StreamWorker() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    ssize_t ignored = ::write(stop_fd_, &one, sizeof one);
    (void)ignored;
    thread_.join();
  }
  handler_.reset();  // closes the device (finalizing its sink) while the mappings still exist
  event_port_.reset();
  request_port_.reset();
  close(stop_fd_);
}

void StreamWorker::start() { thread_ = std::thread([this] { run(); }); }

void StreamWorker::run() {
  try {
    while (!stopping_) {
      drain_event_channel();
      if (!broken_) serve_requests();
      if (stopping_) break;
      std::optional<int64_t> deadline = broken_ ? std::nullopt : handler_->next_deadline();
      if (!wait_until(deadline.value_or(std::numeric_limits<int64_t>::max()))) break;
      if (!broken_) handler_->advance(monotonic_now_ns());
    }
  } catch (const std::exception& e) {
    // Never take the process down for one stream: log, and serve nothing more.
    log_.error(name_, ": stopped serving: ", e.what());
  }
}

void StreamWorker::drain_event_channel() {
  while (std::optional<xenio::EventPort> port = channels_->pending()) channels_->unmask(*port);
}

bool StreamWorker::wait_until(int64_t deadline_ns) {
  if (stopping_) return false;
  for (;;) {
    int64_t now = monotonic_now_ns();
    if (now >= deadline_ns) return true;
    int64_t wait = deadline_ns - now;
    timespec timeout{static_cast<time_t>(wait / 1'000'000'000), static_cast<long>(wait % 1'000'000'000)};
    pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {channels_->fd(), POLLIN, 0}};
    bool forever = deadline_ns == std::numeric_limits<int64_t>::max();
    int n = ppoll(fds, 2, forever ? nullptr : &timeout, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      xenio::throw_errno("cannot poll " + name_ + "'s event channel");
    }
    if (fds[0].revents) {
      stopping_ = true;
      return false;
    }
    if (fds[1].revents) {
      // A notification from the frontend: back to the caller, which looks at the ring when
      // idle, or re-checks its device and waits again when inside a request (the ring is
      // served synchronously).
      drain_event_channel();
      return true;
    }
  }
}

void StreamWorker::serve_requests() {
  for (;;) {
    RING_IDX produced = ring_.sring->req_prod;
    xen_rmb();  // the requests before the index that announces them
    if (produced - ring_.req_cons > RING_SIZE(&ring_)) {
      broken_ = true;
      log_.error(name_, ": the frontend's req_prod ", produced, " is more than a ring ahead of our req_cons ",
                 ring_.req_cons, ": ring protocol violated, stream no longer served");
      return;
    }
    while (ring_.req_cons != produced) {
      xensnd_req request;
      // Copied out before anything looks at it: the frontend may rewrite the slot.
      std::memcpy(&request, RING_GET_REQUEST(&ring_, ring_.req_cons), sizeof request);
      ++ring_.req_cons;
      answer(request);
      if (stopping_) return;
    }
    int more = 0;
    RING_FINAL_CHECK_FOR_REQUESTS(&ring_, more);  // re-arms req_event, as sndif.h requires
    if (!more) return;
  }
}

void StreamWorker::answer(const xensnd_req& request) {
  RequestFaults fault = faults_.on_request(request.operation);
  if (fault.exit) {
    log_.error(name_, ": fault injection: exiting abruptly on request ", request.id);
    _exit(3);
  }
  std::optional<xensnd_resp> response = handler_->handle(request);
  if (!response) return;  // shut down while the request waited
  if (fault.set_closing) {
    log_.warning(name_, ": fault injection: setting the device state to Closing");
    setup_.request_closing();
  }
  if (fault.delay_ms > 0) {
    log_.warning(name_, ": fault injection: delaying the response to request ", request.id, " by ", fault.delay_ms,
                 " ms");
    if (!handler_->run_until(monotonic_now_ns() + int64_t{fault.delay_ms} * 1'000'000)) return;
  }
  if (fault.drop) {
    log_.warning(name_, ": fault injection: dropping the response to request ", request.id);
    return;
  }
  if (fault.wrong_id) {
    response->id = static_cast<uint16_t>(request.id + 0x8000);
    log_.warning(name_, ": fault injection: answering request ", request.id, " with id ", response->id);
  }
  if (fault.wrong_operation) {
    response->operation = request.operation == XENSND_OP_HW_PARAM_QUERY ? XENSND_OP_OPEN : request.operation + 1;
    log_.warning(name_, ": fault injection: answering operation ", int{request.operation}, " as ",
                 int{response->operation});
  }
  std::memcpy(RING_GET_RESPONSE(&ring_, ring_.rsp_prod_pvt), &*response, sizeof *response);
  ++ring_.rsp_prod_pvt;
  int notify = 0;
  RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&ring_, notify);
  if (notify) request_port_.notify();
  log_.trace(name_, ": answered ", response->id, " status ", response->status, notify ? " (notified)" : "");
}

void StreamWorker::report_position(uint64_t position) {
  EventFaults fault = faults_.on_position_event();
  if (fault.exit) {
    log_.error(name_, ": fault injection: exiting abruptly at position ", position);
    _exit(3);
  }
  if (fault.set_closing) {
    log_.warning(name_, ": fault injection: setting the device state to Closing at position ", position);
    setup_.request_closing();
  }
  if (fault.suppress) {
    if (!events_stopped_) log_.warning(name_, ": fault injection: no more events from position ", position);
    events_stopped_ = true;
    return;
  }
  uint64_t reported = position;
  if (fault.backwards) {
    reported = last_position_ > 0 ? last_position_ / 2 : 0;
    if (reported == last_position_) reported = 0;
    log_.warning(name_, ": fault injection: position ", reported, " after ", last_position_);
  }
  if (fault.beyond) {
    const PcmDevice* device = handler_->device();
    uint64_t buffer = device ? device->params().buffer_bytes : 0;
    reported = last_position_ + 3 * buffer + 1;
    log_.warning(name_, ": fault injection: position jumps from ", last_position_, " to ", reported);
  }
  if (fault.flood) {
    log_.warning(name_, ": fault injection: writing ", 2 * XENSND_IN_RING_LEN, " events at once");
    for (size_t i = 0; i < 2 * XENSND_IN_RING_LEN; ++i) events_->push_position_unchecked(reported);
    event_port_.notify();
    last_position_ = reported;
    return;
  }
  if (events_->push_position(reported) == EventPageWriter::Result::kFull) {
    log_.warning(name_, ": event page full (the frontend does not consume events), position ", reported, " lost");
    return;
  }
  last_position_ = reported;
  log_.trace(name_, ": CUR_POS ", reported);
  event_port_.notify();
}

std::unique_ptr<xenio::MappedPages> StreamWorker::map_buffer(xenio::GrantRef directory, uint32_t buffer_bytes) {
  return map_pcm_buffer(*mapper_, static_cast<xenio::DomainId>(setup_.identity.frontend), directory, buffer_bytes);
}

}  // namespace xensnd::backend
