// Test helper: a minimal sndif frontend written directly with xenio and ring.h's macros (not
// the product's protocol/ frontend), so the backend is tested against the wire protocol
// itself. Every wait is bounded by a timeout and driven by event channels or XenStore
// watches, never by sleeping.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "protocol/sndif_abi.h"
#include "xenio/event_channels.h"
#include "xenio/grant_sharing.h"
#include "xenio/xenstore.h"

namespace backendtest {

using namespace std::chrono_literals;

class ScriptedFrontend {
 public:
  // Opens the real Xen libraries as the current process' domain (XENSTORED_PATH must point
  // at `self`'s socket). `streams`: how many streams the card has, in index order.
  ScriptedFrontend(xenio::DomainId self, xenio::DomainId backend, unsigned devid, size_t streams);
  ~ScriptedFrontend();

  std::string frontend_path() const { return frontend_path_; }
  std::string backend_path() const { return backend_path_; }
  // The transport nodes' path of stream `index` ("<dev>/<pcm>/<stream>"); index == the
  // order of the card's streams, PCM by PCM; tests use one PCM, so stream == index.
  std::string stream_path(size_t index) const;

  // Allocates every stream's ring, event page and ports and writes the four transport nodes
  // (except those named in `skip`, e.g. "0/evt-ring-ref"), then state Initialised.
  void publish(const std::set<std::string>& skip = {});
  void set_state(int state);
  // Writes a node below the device directory (the card configuration is ours to spoil).
  void write_node(const std::string& relative, const std::string& value);
  std::optional<int> backend_state();
  // Waits (on a XenStore watch) until the backend's state is `state`.
  bool wait_backend_state(int state, std::chrono::milliseconds timeout = 5s);
  // Forgets the transport (the backend must have unmapped it) so publish() can run again.
  void drop_transport();

  // Shares a `bytes` PCM buffer with its page directory; returns the directory's grant.
  grant_ref_t share_buffer(size_t stream, uint32_t bytes);
  std::byte* buffer(size_t stream);

  // Puts a request on the ring (its id is assigned here) and notifies if ring.h says so.
  uint16_t send(size_t stream, xensnd_req request);
  std::optional<xensnd_resp> wait_response(size_t stream, std::chrono::milliseconds timeout = 5s);
  // send + wait_response; throws when no response comes.
  xensnd_resp call(size_t stream, const xensnd_req& request, std::chrono::milliseconds timeout = 5s);

  // Events the backend wrote and we have not consumed yet (consumes them).
  std::vector<xensnd_evt> take_events(size_t stream);
  std::optional<xensnd_evt> wait_event(size_t stream, std::chrono::milliseconds timeout = 5s);
  // Waits until at least `count` events are unconsumed (without consuming them).
  bool wait_events_pending(size_t stream, uint32_t count, std::chrono::milliseconds timeout = 5s);
  // The raw indices of the event page, for overflow checks.
  uint32_t event_prod(size_t stream);
  uint32_t event_cons(size_t stream);

  // Sets the shared ring's rsp_event, as a frontend that does (not) keep it current would.
  void set_rsp_event(size_t stream, RING_IDX value);
  RING_IDX rsp_cons(size_t stream) { return streams_.at(stream).ring.rsp_cons; }
  // The backend's published response index (read from the shared ring).
  RING_IDX shared_rsp_prod(size_t stream);
  // Whether any of our event channels is notified within `timeout` (acknowledges it).
  bool notified_within(std::chrono::milliseconds timeout);

  // Publishes a req_prod `ahead` entries beyond what was really produced, and notifies: a
  // broken or hostile frontend.
  void publish_bogus_req_prod(size_t stream, RING_IDX ahead);

  // Request builders.
  static xensnd_req open_request(uint32_t rate, uint8_t format, uint8_t channels, uint32_t buffer_bytes,
                                 uint32_t period_bytes, grant_ref_t directory);
  static xensnd_req rw_request(uint8_t operation, uint32_t offset, uint32_t length);
  static xensnd_req trigger_request(uint8_t type);
  static xensnd_req simple_request(uint8_t operation);

 private:
  struct Stream {
    std::unique_ptr<xenio::SharedPages> ring_page;
    std::unique_ptr<xenio::SharedPages> event_page;
    xenio::BoundPort request_port;
    xenio::BoundPort event_port;
    xen_sndif_front_ring_t ring{};
    uint32_t event_cons = 0;
    std::unique_ptr<xenio::SharedPages> buffer;
    std::unique_ptr<xenio::SharedPages> directory;
  };
  // Waits for any event channel notification (or a watch event when `watch` is set).
  bool wait_notification(std::chrono::steady_clock::time_point deadline, bool watch = false);
  xensnd_event_page* event_page(size_t stream);

  xenio::DomainId self_, backend_;
  std::string frontend_path_, backend_path_;
  std::unique_ptr<xenio::XenStore> store_;
  std::unique_ptr<xenio::GrantSharer> sharer_;
  std::unique_ptr<xenio::EventChannels> channels_;
  std::vector<Stream> streams_;
  uint16_t next_id_ = 1;
};

}  // namespace backendtest
