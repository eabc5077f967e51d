// Writes XENSND_EVT_* events into the frontend's event page (the in-ring after the
// xensnd_event_page header). Our producer index is kept privately; the frontend's in_cons
// is read once per event and never trusted beyond deciding whether there is room.
#pragma once

#include <cstdint>

#include "protocol/sndif_abi.h"

namespace xensnd::backend {

class EventPageWriter {
 public:
  // `page` is the mapped 4096-byte event page; production continues from its in_prod.
  explicit EventPageWriter(void* page);

  enum class Result { kWritten, kFull };
  // Writes one CUR_POS event unless the ring is full (or in_cons is nonsense).
  Result push_position(uint64_t position);
  // Fault injection: writes without looking at in_cons, overwriting unread events.
  void push_position_unchecked(uint64_t position);
  uint32_t produced() const { return prod_; }

 private:
  void write_at(uint32_t index, uint64_t position);

  volatile xensnd_event_page* page_;
  uint32_t prod_ = 0;
  uint16_t next_id_ = 0;
};

}  // namespace xensnd::backend
