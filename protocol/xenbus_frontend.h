// The frontend's side of xenbus for one vsnd device, over XenStore: reading both states,
// waiting on watches, and the write discipline —
//  * the transport nodes of every stream are published in ONE transaction (retried on
//    EAGAIN) and `state` is written only after it committed;
//  * every state write is a transaction that aborts if the device directory is gone (a
//    plain write would re-create a directory the toolstack removed);
//  * our own nodes are written with paths relative to our domain.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/xenbus_state.h"
#include "xenio/event_channels.h"
#include "xenio/grant_sharing.h"
#include "xenio/xenstore.h"

namespace xensnd {

// What one stream publishes for the backend to bind and map.
struct StreamTransport {
  std::string stream_path;  // device/vsnd/<id>/<pcm>/<stream>
  xenio::GrantRef ring_ref = 0;
  xenio::EventPort ring_port = 0;
  xenio::GrantRef event_page_ref = 0;
  xenio::EventPort event_port = 0;
};

class XenbusFrontend {
 public:
  using Clock = std::chrono::steady_clock;
  using Warn = std::function<void(const std::string&)>;

  // Reads `backend` and `backend-id` below `device_path`. Throws FrontendError(ENODEV)
  // naming the node when the device or those nodes are missing or malformed.
  XenbusFrontend(xenio::XenStore& store, std::string device_path);
  ~XenbusFrontend();
  XenbusFrontend(const XenbusFrontend&) = delete;
  XenbusFrontend& operator=(const XenbusFrontend&) = delete;

  const std::string& device_path() const { return device_path_; }
  const std::string& backend_path() const { return backend_path_; }
  xenio::DomainId backend_id() const { return backend_id_; }

  BusState frontend_state();
  BusState backend_state();
  bool device_exists();

  // Watches the backend's state and the removal of our device directory (not our own writes
  // in it).
  void watch();
  int watch_fd() const;
  // Consumes every queued watch event, for at most a few milliseconds; true if there were any.
  bool drain_watch_events();
  // False once the device directory is gone. Asks XenStore only when a drained event could
  // have been its removal (any event but the backend's state; and before the first drain):
  // the removal fires the sentinel's watch, and a look that asked at every wake-up cost a
  // round trip each (five an open and close).
  bool device_still_there();

  // A state write as a transaction that aborts if the device directory is gone; returns
  // false then.
  bool write_state(BusState state);
  // Writes `version`, every stream's four transport nodes and the frontend's `state` in one
  // transaction (one commit where a transaction for the nodes and another for the state were
  // eight round trips to XenStore, and the backend sees the state and the rings it names
  // together). Throws FrontendError(ENODEV) if the device directory is gone.
  void publish(unsigned version, const std::vector<StreamTransport>& streams, BusState state);
  // Removes `version` and the transport nodes below `stream_paths`, those present, and
  // writes `state` if given, in one transaction (guarded as above); false if the device
  // directory is gone.
  bool clear_transport_nodes(const std::vector<std::string>& stream_paths, std::optional<BusState> state);

  // Waits on the watches until judge_backend_state(phase, backend) is kDone; returns that
  // backend state. Throws FrontendError on kFailed (EPROTO), device removal (ENODEV) or
  // when `deadline` passes (ETIMEDOUT), naming the state seen.
  BusState wait_for(HandshakePhase phase, Clock::time_point deadline);

  // Makes the device ready for publishing: tears down what a dead process left (stale
  // nodes removed, Closing -> Closed, backend released), goes Initialising and waits for
  // the backend's InitWait. `nodes_may_be_left`: false when listings made since this
  // process claimed the card showed no `version` and no transport node (the card's
  // configuration, CardConfig::frontend_nodes_present): after a clean close nothing is left
  // to clear, and looking costs a transaction.
  void prepare(const std::vector<std::string>& stream_paths, Clock::time_point deadline, const Warn& warn,
               bool nodes_may_be_left = true);

  // Closing, wait (until `deadline`) for the backend to release the connection. The
  // caller then releases grants and ports and calls finish_disconnect().
  void begin_disconnect(Clock::time_point deadline);
  // Removes our nodes and goes Closed. Never throws.
  void finish_disconnect(const std::vector<std::string>& stream_paths) noexcept;

 private:
  xenio::XenStore& store_;
  std::string device_path_;
  std::string backend_path_;
  xenio::DomainId backend_id_ = 0;
  bool watching_ = false;
  bool device_event_pending_ = true;  // see device_still_there()
};

}  // namespace xensnd
