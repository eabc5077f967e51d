#include "protocol/request_ring.h"

#include <algorithm>
#include <atomic>
#include <stdexcept>

#include "protocol/errors.h"

namespace xensnd {
namespace {

// The backend writes rsp_prod concurrently: read it exactly once per use.
RING_IDX load_shared(RING_IDX& index) { return std::atomic_ref<RING_IDX>(index).load(std::memory_order_relaxed); }

}  // namespace

RequestRing::RequestRing(void* page) {
  auto* shared = static_cast<xen_sndif_sring*>(page);
  SHARED_RING_INIT(shared);
  FRONT_RING_INIT(&ring_, shared, abi::kXenPageSize);
  outstanding_.reserve(capacity());
}

std::vector<RequestRing::Outstanding>::const_iterator RequestRing::find(uint16_t id) const {
  return std::find_if(outstanding_.begin(), outstanding_.end(), [id](const Outstanding& o) { return o.id == id; });
}

std::vector<RequestRing::Outstanding>::iterator RequestRing::find(uint16_t id) {
  return std::find_if(outstanding_.begin(), outstanding_.end(), [id](const Outstanding& o) { return o.id == id; });
}

size_t RequestRing::capacity() const { return RING_SIZE(&ring_); }

namespace {
bool is_data(uint8_t operation) { return operation == XENSND_OP_WRITE || operation == XENSND_OP_READ; }
}  // namespace

bool RequestRing::front_clock_runs() const {
  if (outstanding_.empty()) return false;
  if (!data_held_ || !is_data(outstanding_.front().operation)) return true;
  return std::any_of(outstanding_.begin() + 1, outstanding_.end(),
                     [](const Outstanding& o) { return !is_data(o.operation); });
}

void RequestRing::front_clock_maybe_started(bool was_running, Clock::time_point now) {
  // A clock that was stopped starts afresh: time spent held is not the backend's silence.
  if (!was_running && front_clock_runs()) front_since_ = now;
}

void RequestRing::hold_data_requests(bool held, Clock::time_point now) {
  const bool was_running = front_clock_runs();
  data_held_ = held;
  front_clock_maybe_started(was_running, now);
}

RequestRing::Pushed RequestRing::push(xensnd_req request, Clock::duration allowance, Clock::time_point now) {
  if (free_slots() == 0) throw std::logic_error("RequestRing::push on a full ring");
  const bool was_running = front_clock_runs();
  // Fresh ids: skip any still waiting for an answer (at most capacity() of them).
  while (is_outstanding(next_id_)) ++next_id_;
  request.id = next_id_++;
  xensnd_req* slot = RING_GET_REQUEST(&ring_, ring_.req_prod_pvt);
  std::memcpy(slot, &request, sizeof request);
  ++ring_.req_prod_pvt;
  outstanding_.push_back({request.id, request.operation, allowance});
  front_clock_maybe_started(was_running, now);
  int notify = 0;
  RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&ring_, notify);
  return {request.id, notify != 0};
}

std::vector<Completion> RequestRing::collect() {
  std::vector<Completion> done;
  collect(done);
  return done;
}

void RequestRing::collect(std::vector<Completion>& done, Clock::time_point now) {
  done.clear();
  const uint16_t front_before = outstanding_.empty() ? 0 : outstanding_.front().id;
  const bool had_front = !outstanding_.empty();
  // Until rsp_prod stands still; every pass consumes at least one of the outstanding
  // requests (or throws), so a backend bumping rsp_prod cannot keep us here.
  for (;;) {
    RING_IDX prod = load_shared(ring_.sring->rsp_prod);
    if (prod == ring_.rsp_cons) break;
    xen_rmb();  // see the responses up to prod, not older contents
    // Everything between rsp_cons and prod must be an answer to a request we made.
    RING_IDX available = prod - ring_.rsp_cons;
    if (available > outstanding_.size())
      throw BackendGoneError("backend broke the request ring: rsp_prod " + std::to_string(prod) +
                             " is " + std::to_string(available) + " responses past rsp_cons " +
                             std::to_string(ring_.rsp_cons) + ", but only " +
                             std::to_string(outstanding_.size()) + " requests are outstanding");
    for (; ring_.rsp_cons != prod; ++ring_.rsp_cons) {
      Completion c;
      // Copy first: the backend can change the slot while we look at it.
      std::memcpy(&c.response, RING_GET_RESPONSE(&ring_, ring_.rsp_cons), sizeof c.response);
      c.id = c.response.id;
      c.operation = c.response.operation;
      c.raw_status = c.response.status;
      auto it = find(c.id);
      if (it == outstanding_.end())
        throw BackendGoneError("backend answered an unknown request id " + std::to_string(c.id) +
                               " (" + operation_name(c.operation) + ")");
      if (it->operation != c.operation)
        throw BackendGoneError("backend answered request " + std::to_string(c.id) + " (" +
                               operation_name(it->operation) + ") as " +
                               operation_name(c.operation));
      outstanding_.erase(it);
      c.status = map_response_status(c.raw_status, c.operation);
      done.push_back(std::move(c));
    }
  }
  // The oldest completed: the backend starts on the next one now. (Answers to younger
  // requests do not restart the oldest's clock: a backend cannot starve one request by
  // answering others.)
  if (had_front && !outstanding_.empty() && outstanding_.front().id != front_before) front_since_ = now;
}

bool RequestRing::arm_response_notification() {
  // ring.h's race-free order: publish rsp_event, full barrier, look at rsp_prod again. A
  // response produced before the backend could see rsp_event is caught by the second look.
  int more = 0;
  RING_FINAL_CHECK_FOR_RESPONSES(&ring_, more);
  return more != 0;
}

bool RequestRing::response_notification_armed() const {
  // Only we write rsp_event; a backend scribbling on it can only cost a wasted read.
  RING_IDX event = std::atomic_ref<RING_IDX>(ring_.sring->rsp_event).load(std::memory_order_relaxed);
  return static_cast<int32_t>(event - ring_.rsp_cons) > 0;
}

bool RequestRing::has_uncollected_responses() const {
  return load_shared(ring_.sring->rsp_prod) != ring_.rsp_cons;
}

std::optional<RequestRing::Clock::time_point> RequestRing::next_deadline() const {
  if (!front_clock_runs()) return std::nullopt;
  return front_since_ + outstanding_.front().allowance;
}

void RequestRing::check_deadlines(Clock::time_point now) const {
  const std::optional<Clock::time_point> deadline = next_deadline();
  if (deadline && *deadline <= now) {
    const Outstanding& o = outstanding_.front();
    throw BackendGoneError("backend did not answer " + operation_name(o.operation) + " (request " +
                           std::to_string(o.id) + ") in time");
  }
}

}  // namespace xensnd
