// One stream's transport and its thread, as snd_be: a request ring served synchronously,
// an event page for CUR_POS, the two event channels (on a libxenevtchn handle of its own)
// and the RequestHandler. Responses follow ring.h's hold-off protocol exactly like libxenbe:
// the frontend is notified only when RING_PUSH_RESPONSES_AND_CHECK_NOTIFY asks for it.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include "backend/event_page_writer.h"
#include "backend/fault_plan.h"
#include "backend/log.h"
#include "backend/loopback_bus.h"
#include "backend/options.h"
#include "backend/request_handler.h"
#include "protocol/card_config.h"
#include "protocol/sndif_abi.h"
#include "xenio/event_channels.h"
#include "xenio/grant_sharing.h"

namespace xensnd::backend {

// The frontend's per-stream XenStore nodes (all four mandatory).
struct StreamTransport {
  xenio::GrantRef ring_ref = 0;
  xenio::EventPort event_channel = 0;
  xenio::GrantRef event_ring_ref = 0;
  xenio::EventPort event_event_channel = 0;
};

struct StreamWorkerSetup {
  StreamConfig config;
  StreamTransport transport;
  StreamIdentity identity;
  const BackendOptions* options = nullptr;
  LoopbackBus* loopback = nullptr;
  Log* log = nullptr;
  uint32_t* open_counter = nullptr;       // owned by the device, survives reconnections
  std::function<void()> request_closing;  // the set-closing fault; called from the thread
};

class StreamWorker final : public StreamServices {
 public:
  // Binds the event channels and maps the ring and event page (throws xenio::XenError);
  // then start() runs the thread.
  explicit StreamWorker(StreamWorkerSetup setup);
  ~StreamWorker() override;  // stops and joins the thread, then releases the Xen resources
  StreamWorker(const StreamWorker&) = delete;
  StreamWorker& operator=(const StreamWorker&) = delete;

  void start();

 private:
  void run();
  void serve_requests();
  void answer(const xensnd_req& request);
  void drain_event_channel();
  // StreamServices
  bool wait_until(int64_t deadline_ns) override;
  void report_position(uint64_t position) override;
  std::unique_ptr<xenio::MappedPages> map_buffer(xenio::GrantRef directory, uint32_t buffer_bytes) override;

  StreamWorkerSetup setup_;
  Log& log_;
  std::string name_;
  std::unique_ptr<xenio::EventChannels> channels_;
  std::unique_ptr<xenio::GrantMapper> mapper_;
  xenio::BoundPort request_port_;
  xenio::BoundPort event_port_;
  std::unique_ptr<xenio::MappedPages> ring_page_;
  std::unique_ptr<xenio::MappedPages> event_page_;
  xen_sndif_back_ring_t ring_{};
  std::unique_ptr<EventPageWriter> events_;
  StreamFaults faults_;
  std::unique_ptr<RequestHandler> handler_;
  int stop_fd_ = -1;  // eventfd: readable once the worker must stop
  bool stopping_ = false;
  bool broken_ = false;  // the frontend broke the ring protocol: nothing more is served
  bool events_stopped_ = false;
  uint64_t last_position_ = 0;
  std::thread thread_;
};

}  // namespace xensnd::backend
