// The frontend side of a stream's request ring (the xen_sndif shared ring page), with the
// hold-off protocol of ring.h: requests are pushed with RING_PUSH_REQUESTS_AND_CHECK_NOTIFY
// (notify only when the backend asked for it). A backend like snd_be notifies a response only
// when `rsp_event` asks for it, and collect() does not ask: while streaming, the CUR_POS event
// wakes the application once a period and the WRITE answers are picked up then, without a
// wake-up (and system calls) of their own. Whoever is about to sleep until a response comes
// must arm_response_notification() first (RING_FINAL_CHECK_FOR_RESPONSES), and collect
// instead of sleeping when it says responses are already there.
//
// Every request gets a fresh id and its own deadline. A response must match an
// outstanding request by id and operation, and rsp_prod may not run past what was
// requested; anything else is a protocol violation (BackendGoneError), never trusted.
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
  // Gives `request` a fresh id, queues and publishes it. Requires free_slots() > 0.
  Pushed push(xensnd_req request, Clock::time_point deadline);

  // Consumes every response the backend produced, without asking to be notified of the next
  // (rsp_event is left alone). Throws BackendGoneError on a protocol violation (the ring is
  // then unusable).
  std::vector<Completion> collect();
  // The same into `done` (cleared first), reusing its storage: no allocation per period.
  void collect(std::vector<Completion>& done);
  // Sets rsp_event so that the backend notifies the next response. Returns true when
  // responses were already waiting: no notification comes for those, so the caller must
  // collect() (and arm again) instead of sleeping.
  bool arm_response_notification();
  // rsp_event is armed for a response not yet consumed: the backend may notify (or may have).
  bool response_notification_armed() const;

  bool is_outstanding(uint16_t id) const { return find(id) != outstanding_.end(); }
  // The earliest deadline of an outstanding request.
  std::optional<Clock::time_point> next_deadline() const;
  // Throws BackendGoneError naming the oldest overdue request, if any.
  void check_deadlines(Clock::time_point now) const;
  // Gives every outstanding request of `operation` its whole allowance again from `now`
  // (a WRITE cannot complete while the stream is paused; its time starts at RESUME).
  void restart_deadlines(Clock::time_point now, uint8_t operation);

 private:
  struct Outstanding {
    uint16_t id;
    uint8_t operation;
    Clock::time_point deadline;
    Clock::duration allowance;  // deadline - push time
  };

  xen_sndif_front_ring_t ring_{};
  uint16_t next_id_ = 0;
  // At most capacity() entries, reserved up front: pushing and answering requests never
  // allocates, and a linear search over 32 entries beats a tree.
  std::vector<Outstanding> outstanding_;
  std::vector<Outstanding>::const_iterator find(uint16_t id) const;
  std::vector<Outstanding>::iterator find(uint16_t id);
};

}  // namespace xensnd
