// The watch events of one XenStore connection, held without growing with a flood.
//
// A watch event only says "look again at or below this path"; a second identical event
// queued behind the first tells the reader nothing new. So an event equal to one already
// queued is dropped, and the queue holds at most one event per (path, token) pair. Paths
// below a watched directory are many, so past `max_events` an event is also dropped when
// one of the same token is already queued (that one makes the reader look at the whole
// watch); a token's first event is always kept, so nobody misses a change.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "xenio/xenstore.h"

namespace xenio {

class CoalescingWatchQueue {
 public:
  explicit CoalescingWatchQueue(size_t max_events) : max_events_(max_events) {}

  // False when the event was dropped as redundant.
  bool push(XenStoreWatchEvent event);
  std::optional<XenStoreWatchEvent> pop();
  bool empty() const { return events_.empty(); }
  size_t size() const { return events_.size(); }

 private:
  size_t max_events_;
  std::deque<XenStoreWatchEvent> events_;
  std::set<std::pair<std::string, std::string>> queued_;  // (path, token) of events_
  std::multiset<std::string> queued_tokens_;
};

}  // namespace xenio
