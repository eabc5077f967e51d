// Empties libxenstore's watch queue as events arrive, whether or not anybody asks for them.
//
// libxenstore's reader thread appends every watch event to a list that only xs_read_watch /
// xs_check_watch shorten. A PCM that is open but idle asks for none, and a backend that
// rewrites its `state` node in a loop then grows that list without bound (and dropping
// the list by re-registering with XS_UNWATCH_FILTER leaks the events' bodies in 4.17). The
// pump's thread takes each event as it comes into a CoalescingWatchQueue, which holds one
// per (path, token), so memory stays flat however long nobody looks. Its eventfd stands in
// for xs_fileno(): readable exactly while events (or an error) wait in the queue.
#pragma once

#include <mutex>
#include <optional>
#include <thread>

#include "xenio/coalescing_watch_queue.h"
#include "xenio/error.h"
#include "xenio/unique_fd.h"
#include "xenio/xenstore.h"

struct xs_handle;

namespace xenio {

class LibWatchPump {
 public:
  // No thread runs until start().
  LibWatchPump();
  ~LibWatchPump();
  LibWatchPump(const LibWatchPump&) = delete;
  LibWatchPump& operator=(const LibWatchPump&) = delete;

  // Starts the thread on `handle` (once; later calls do nothing). Called when a watch is
  // registered: a connection used only for reads and writes never gets one. The handle must
  // outlive the pump.
  void start(xs_handle* handle);
  int fd() const { return ready_fd_.get(); }
  // The oldest queued event; nullopt when none. Throws the XenError the pump met reading
  // libxenstore's queue (a lost connection), once the events before it were taken.
  std::optional<XenStoreWatchEvent> next();

 private:
  void run();
  // Moves up to `limit` events from libxenstore's list into queue_; records a read error.
  void take_locked(int limit);
  void update_ready_fd_locked();

  xs_handle* handle_ = nullptr;  // set once by start(), under mutex_
  UniqueFd ready_fd_;
  UniqueFd stop_fd_;
  std::mutex mutex_;
  CoalescingWatchQueue queue_;
  std::optional<XenError> error_;
  bool ready_signalled_ = false;
  std::thread thread_;
};

}  // namespace xenio
