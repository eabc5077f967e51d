#include "protocol/event_page.h"

#include <array>
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
  read(batch);
  return batch;
}

void EventPageReader::read(EventBatch& batch) {
  batch.positions.clear();
  batch.ignored = 0;
  batch.overrun = false;
  uint32_t prod = std::atomic_ref<uint32_t>(page_->in_prod).load(std::memory_order_relaxed);
  xen_rmb();  // the events up to prod, not older slot contents
  uint32_t unread = prod - cons_;
  if (unread == 0) return;
  uint32_t first = cons_;
  if (unread > XENSND_IN_RING_LEN) {
    // Lapped: the older slots were overwritten. Look only at the last ring's worth and
    // keep the newest position.
    ++overruns_;
    batch.overrun = true;
    first = prod - XENSND_IN_RING_LEN;
  }
  // Copy the slots out first, then look at in_prod again: the backend does not wait for
  // in_cons, and its event number N goes into the slot of N - XENSND_IN_RING_LEN before
  // in_prod says so. A slot is trustworthy only if no event that may have been (or be
  // being) written since shares it: index i is safe while i + XENSND_IN_RING_LEN > the
  // backend's next event, in_prod as read after the copy.
  std::array<xensnd_evt, XENSND_IN_RING_LEN> copies;
  uint32_t copied = prod - first;
  for (uint32_t n = 0; n < copied; ++n)
    std::memcpy(&copies[n], &XENSND_IN_RING_REF(page_, first + n), sizeof copies[n]);
  xen_rmb();  // the copies are complete before in_prod is read again
  uint32_t prod_after = std::atomic_ref<uint32_t>(page_->in_prod).load(std::memory_order_relaxed);
  bool lost = false;
  for (uint32_t n = 0; n < copied; ++n) {
    uint32_t ahead = prod_after - (first + n);  // how far the backend's next event is
    if (ahead >= XENSND_IN_RING_LEN) {
      // Possibly overwritten. Only an overrun if the backend moved on while we copied:
      // a full ring at rest just loses its oldest position to the newer ones.
      lost = lost || prod_after != prod;
      continue;
    }
    const xensnd_evt& event = copies[n];
    if (event.type != XENSND_EVT_CUR_POS) {
      ++batch.ignored;
      continue;
    }
    batch.positions.push_back(event.op.cur_pos.position);
  }
  if (lost && !batch.overrun) {
    ++overruns_;
    batch.overrun = true;
  }
  if (batch.overrun && batch.positions.size() > 1) batch.positions.erase(batch.positions.begin(), batch.positions.end() - 1);
  publish_consumed(prod);
}

bool EventPageReader::has_unread() const {
  return std::atomic_ref<uint32_t>(page_->in_prod).load(std::memory_order_relaxed) != cons_;
}

void EventPageReader::discard_all() {
  uint32_t prod = std::atomic_ref<uint32_t>(page_->in_prod).load(std::memory_order_relaxed);
  publish_consumed(prod);
}

}  // namespace xensnd
