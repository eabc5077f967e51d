#include "protocol/event_page.h"

#include <atomic>
#include <cstring>

namespace xensnd {

EventPageReader::EventPageReader(void* page) : page_(static_cast<xensnd_event_page*>(page)) {
  cons_ = std::atomic_ref<uint32_t>(page_->in_cons).load(std::memory_order_relaxed);
}

void EventPageReader::publish_consumed(uint32_t index) {
  cons_ = index;
  // Our reads of the slots must be done before the backend may reuse them.
  xen_mb();
  std::atomic_ref<uint32_t>(page_->in_cons).store(index, std::memory_order_relaxed);
}

EventBatch EventPageReader::read() {
  EventBatch batch;
  uint32_t prod = std::atomic_ref<uint32_t>(page_->in_prod).load(std::memory_order_relaxed);
  xen_rmb();  // the events up to prod, not older slot contents
  uint32_t unread = prod - cons_;
  if (unread == 0) return batch;
  uint32_t first = cons_;
  if (unread > XENSND_IN_RING_LEN) {
    // Lapped: the older slots were overwritten. Look only at the last ring's worth and
    // keep the newest position.
    ++overruns_;
    batch.overrun = true;
    first = prod - XENSND_IN_RING_LEN;
  }
  for (uint32_t i = first; i != prod; ++i) {
    xensnd_evt event;
    std::memcpy(&event, &XENSND_IN_RING_REF(page_, i), sizeof event);
    if (event.type != XENSND_EVT_CUR_POS) {
      ++batch.ignored;
      continue;
    }
    batch.positions.push_back(event.op.cur_pos.position);
  }
  if (batch.overrun && batch.positions.size() > 1) batch.positions.erase(batch.positions.begin(), batch.positions.end() - 1);
  publish_consumed(prod);
  return batch;
}

void EventPageReader::discard_all() {
  uint32_t prod = std::atomic_ref<uint32_t>(page_->in_prod).load(std::memory_order_relaxed);
  publish_consumed(prod);
}

}  // namespace xensnd
