#include "xenio/coalescing_watch_queue.h"

namespace xenio {

bool CoalescingWatchQueue::push(XenStoreWatchEvent event) {
  if (queued_.contains({event.path, event.token})) return false;
  if (events_.size() >= max_events_ && queued_tokens_.contains(event.token)) return false;
  queued_.emplace(event.path, event.token);
  queued_tokens_.insert(event.token);
  events_.push_back(std::move(event));
  return true;
}

std::optional<XenStoreWatchEvent> CoalescingWatchQueue::pop() {
  if (events_.empty()) return std::nullopt;
  XenStoreWatchEvent event = std::move(events_.front());
  events_.pop_front();
  queued_.erase({event.path, event.token});
  queued_tokens_.erase(queued_tokens_.find(event.token));
  return event;
}

}  // namespace xenio
