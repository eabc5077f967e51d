// The reading side of a stream's event page (xensnd_event_page + XENSND_IN_RING_LEN
// events). The backend owns in_prod; we own in_cons. Each event is copied out of shared
// memory before it is looked at; unknown event types are skipped.
//
// More than XENSND_IN_RING_LEN unread events is an overrun, not an attack: a stopped or
// starved application lets the backend lap the ring. The overrun is counted, only the
// newest position is taken, and reading goes on from in_prod.
#pragma once

#include <cstdint>
#include <vector>

#include "protocol/sndif_abi.h"

namespace xensnd {

struct EventBatch {
  std::vector<uint64_t> positions;  // XENSND_EVT_CUR_POS positions, oldest first
  uint32_t ignored = 0;             // events of unknown types
  bool overrun = false;
};

class EventPageReader {
 public:
  // `page` is the granted 4 KiB event page, zeroed (in_cons = in_prod = 0).
  explicit EventPageReader(void* page);
  EventPageReader(const EventPageReader&) = delete;
  EventPageReader& operator=(const EventPageReader&) = delete;

  // Consumes every event published so far.
  EventBatch read();
  // The same into `batch`, reusing its storage (no allocation once it has grown).
  void read(EventBatch& batch);
  // Drops every event published so far (those queued before a STOP or PAUSE response).
  void discard_all();
  uint64_t overruns() const { return overruns_; }
  // The backend published events not read yet (one look at in_prod, not validated).
  bool has_unread() const;

 private:
  void publish_consumed(uint32_t index);

  xensnd_event_page* page_;
  uint32_t cons_ = 0;  // our copy: in_cons in shared memory is only ever written
  uint64_t overruns_ = 0;
};

}  // namespace xensnd
