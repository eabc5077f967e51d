#include "backend/event_page_writer.h"

#include <cstring>

namespace xensnd::backend {

EventPageWriter::EventPageWriter(void* page) : page_(static_cast<xensnd_event_page*>(page)) {
  prod_ = page_->in_prod;  // continue where a previous connection left off
}

EventPageWriter::Result EventPageWriter::push_position(uint64_t position) {
  uint32_t cons = page_->in_cons;
  xen_mb();
  // Unsigned distance: a consumer "ahead" of us wraps to a huge value and counts as full.
  if (prod_ - cons >= XENSND_IN_RING_LEN) return Result::kFull;
  push_position_unchecked(position);
  return Result::kWritten;
}

void EventPageWriter::push_position_unchecked(uint64_t position) {
  write_at(prod_, position);
  xen_wmb();  // the event is visible before the index that publishes it
  ++prod_;
  page_->in_prod = prod_;
}

void EventPageWriter::write_at(uint32_t index, uint64_t position) {
  xensnd_evt event{};
  event.id = next_id_++;
  event.type = XENSND_EVT_CUR_POS;
  event.op.cur_pos.position = position;
  auto* ring = reinterpret_cast<uint8_t*>(const_cast<xensnd_event_page*>(page_)) + XENSND_IN_RING_OFFS;
  std::memcpy(ring + (index % XENSND_IN_RING_LEN) * sizeof(xensnd_evt), &event, sizeof event);
}

}  // namespace xensnd::backend
