// Serves one stream's requests synchronously, as snd_be's command handler: each request is
// a private copy, validated, executed against the PcmDevice, and answered with a status.
// Requests that wait for the device (WRITE without room, READ without data, CLOSE draining)
// keep the device running and its positions reported while they wait.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "backend/endpoint_spec.h"
#include "backend/log.h"
#include "backend/loopback_bus.h"
#include "backend/options.h"
#include "backend/pcm_device.h"
#include "protocol/card_config.h"
#include "protocol/sndif_abi.h"
#include "xenio/grant_sharing.h"

namespace xensnd::backend {

// What the handler needs from the thread that runs it.
class StreamServices {
 public:
  virtual ~StreamServices() = default;
  // Sleeps until `deadline_ns` (CLOCK_MONOTONIC); false when the stream is being shut down.
  virtual bool wait_until(int64_t deadline_ns) = 0;
  // Sends XENSND_EVT_CUR_POS.
  virtual void report_position(uint64_t position) = 0;
  // Maps the PCM buffer through the page directory (throws on failure).
  virtual std::unique_ptr<xenio::MappedPages> map_buffer(xenio::GrantRef directory, uint32_t buffer_bytes) = 0;
};

class RequestHandler {
 public:
  // `open_counter` numbers the stream's OPENs across reconnections (for sink file names).
  RequestHandler(const StreamConfig& config, StreamIdentity identity, uint32_t& open_counter,
                 const BackendOptions& options, LoopbackBus& loopback, StreamServices& services, Log& log);
  ~RequestHandler();

  // The response, or nullopt when the stream was shut down while the request waited.
  std::optional<xensnd_resp> handle(const xensnd_req& request);
  // Plays/records what is due now and reports crossed period boundaries.
  void advance(int64_t now_ns);
  // Waits until `deadline_ns` while the device keeps running; false when shut down.
  bool run_until(int64_t deadline_ns);
  std::optional<int64_t> next_deadline() const;
  const PcmDevice* device() const { return device_.get(); }

 private:
  int32_t open(const xensnd_open_req& request);
  int32_t close();
  int32_t write(const xensnd_rw_req& request);
  int32_t read(const xensnd_rw_req& request);
  int32_t trigger(const xensnd_trigger_req& request);
  int32_t volume(uint8_t operation, const xensnd_rw_req& request);
  bool wait_for_device();  // one step of waiting inside a request

  StreamConfig config_;
  StreamIdentity identity_;
  uint32_t& open_counter_;
  const BackendOptions& options_;
  LoopbackBus& loopback_;
  StreamServices& services_;
  Log& log_;
  std::string name_;
  bool reporting_ = true;  // off while CLOSE drains: the frontend no longer expects positions
  std::unique_ptr<xenio::MappedPages> buffer_;
  std::unique_ptr<PcmDevice> device_;
};

}  // namespace xensnd::backend
