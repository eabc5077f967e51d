// The frontend side of a stream's request ring (the xen_sndif shared ring page), with the
// hold-off protocol of ring.h: requests are pushed with RING_PUSH_REQUESTS_AND_CHECK_NOTIFY
// (notify only when the backend asked for it). A backend like snd_be notifies a response only
// when `rsp_event` asks for it, and collect() does not ask: while streaming, the CUR_POS event
// wakes the application once a period and the WRITE answers are picked up then, without a
// wake-up (and system calls) of their own. Whoever is about to sleep until a response comes
// must arm_response_notification() first (RING_FINAL_CHECK_FOR_RESPONSES), and collect
// instead of sleeping when it says responses are already there.
//
// Every request gets a fresh id. A response must match an outstanding request by id and
// operation, and rsp_prod may not run past what was requested; anything else is a protocol
// violation (BackendGoneError), never trusted.
//
// Deadlines measure the backend's silence, not queueing: a backend like snd_be serves one
// ring strictly in order, in one thread, and a request waits for every one before it. So
// only the oldest outstanding request has a running clock; it starts when that request
// became the oldest (pushed onto an empty ring, or the one before it completed). Data
// requests (READ/WRITE) can also be held by the stream's state: a backend keeps WRITEs and
// READs until START or RESUME, so while the stream says "held" (stopped or paused) an oldest
// data request has no running clock, until a control request queued behind it (START,
// RESUME, STOP, CLOSE...) asks the backend to move again.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "protocol/response_status.h"
#include "protocol/sndif_abi.h"

namespace xensnd {

struct Completion {
  uint16_t id = 0;
  uint8_t operation = 0;
  int32_t raw_status = 0;
  MappedStatus status;  // errno_value 0 on success
  xensnd_resp response{};  // a copy, safe from the backend
};

class RequestRing {
 public:
  using Clock = std::chrono::steady_clock;

  // `page` is the granted 4 KiB ring page; it is initialised here (SHARED_RING_INIT).
  explicit RequestRing(void* page);
  RequestRing(const RequestRing&) = delete;
  RequestRing& operator=(const RequestRing&) = delete;

  size_t capacity() const;
  size_t outstanding() const { return outstanding_.size(); }
  size_t free_slots() const { return capacity() - outstanding(); }

  struct Pushed {
    uint16_t id;
    bool notify;  // the backend asked to be notified (req_event)
  };
  // Gives `request` a fresh id, queues and publishes it; the backend may take `allowance` to
  // answer once it can start on it (see above). Requires free_slots() > 0.
  Pushed push(xensnd_req request, Clock::duration allowance, Clock::time_point now = Clock::now());

  // Consumes every response the backend produced, without asking to be notified of the next
  // (rsp_event is left alone). Throws BackendGoneError on a protocol violation (the ring is
  // then unusable).
  std::vector<Completion> collect();
  // The same into `done` (cleared first), reusing its storage: no allocation per period.
  // `now` is when the completions are seen (the next request's clock starts there).
  void collect(std::vector<Completion>& done, Clock::time_point now = Clock::now());
  // Sets rsp_event so that the backend notifies the next response. Returns true when
  // responses were already waiting: no notification comes for those, so the caller must
  // collect() (and arm again) instead of sleeping.
  bool arm_response_notification();
  // rsp_event is armed for a response not yet consumed: the backend may notify (or may have).
  bool response_notification_armed() const;
  // The backend published responses not collected yet (one look at rsp_prod, not validated).
  bool has_uncollected_responses() const;

  bool is_outstanding(uint16_t id) const { return find(id) != outstanding_.end(); }
  // The deadline of the oldest outstanding request, if its clock runs.
  std::optional<Clock::time_point> next_deadline() const;
  // Throws BackendGoneError naming the oldest request when it is overdue.
  void check_deadlines(Clock::time_point now) const;
  // Whether the backend holds data requests (stream stopped or paused: it takes no data
  // until START/RESUME). Releasing starts the oldest data request's clock at `now`.
  void hold_data_requests(bool held, Clock::time_point now = Clock::now());

 private:
  struct Outstanding {
    uint16_t id;
    uint8_t operation;
    Clock::duration allowance;
  };
  // The oldest request's clock runs: not a data request the backend holds, unless a control
  // request behind it asks the backend to move.
  bool front_clock_runs() const;
  void front_clock_maybe_started(bool was_running, Clock::time_point now);

  xen_sndif_front_ring_t ring_{};
  uint16_t next_id_ = 0;
  // In push order (the order an in-order backend serves them). At most capacity() entries,
  // reserved up front: pushing and answering requests never allocates, and a linear search
  // over 32 entries beats a tree.
  std::vector<Outstanding> outstanding_;
  Clock::time_point front_since_{};  // when the oldest's clock (last) started
  bool data_held_ = false;
  std::vector<Outstanding>::const_iterator find(uint16_t id) const;
  std::vector<Outstanding>::iterator find(uint16_t id);
};

}  // namespace xensnd
