// The backend side of one vsnd device's xenbus life cycle, as snd_be runs it:
//   startup 5 -> 6 -> 1 (optional), InitWait once the frontend initialises;
//   frontend Initialised/Connected -> read the card and the four transport nodes of every
//   stream, bind, map, start one StreamWorker per stream -> Connected;
//   frontend Closing/Closed -> stop the streams, 5 -> 6 -> InitWait (ready to reconnect);
//   frontend back to Initialising while connected -> stop the streams, InitWait.
// A device whose configuration or transport is wrong stays Closed, as with snd_be.
// Runs on the main thread only; the workers call back only through request_closing().
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <xen/io/xenbus.h>

#include "backend/log.h"
#include "backend/loopback_bus.h"
#include "backend/options.h"
#include "backend/stream_worker.h"
#include "xenio/xenstore.h"

namespace xensnd::backend {

// Each stream costs a thread, two event channels and two mapped pages: a card declaring more
// streams than this is refused (it stays Closed, with a log line saying why) rather than
// making the backend start a thread per declared stream without limit.
inline constexpr size_t kMaxStreamsPerCard = 32;

class VsndDevice {
 public:
  // `wake` is an eventfd the main loop polls; a worker's set-closing fault writes to it.
  VsndDevice(xenio::XenStore& store, const BackendOptions& options, Log& log, xenio::DomainId frontend,
             uint32_t device_id, std::string backend_path, int wake_fd);
  ~VsndDevice();
  VsndDevice(const VsndDevice&) = delete;
  VsndDevice& operator=(const VsndDevice&) = delete;

  // Re-reads both states and takes the next step. Called on every watch event and wake-up.
  void update();
  // The toolstack removed the backend directory: the device is to be destroyed.
  bool gone() const { return gone_; }
  // XenStore paths whose changes must reach update().
  std::vector<std::string> watched_paths() const;

 private:
  void write_state(XenbusState state);
  bool connect();
  void disconnect();

  xenio::XenStore& store_;
  const BackendOptions& options_;
  Log& log_;
  xenio::DomainId frontend_;
  uint32_t device_id_;
  std::string backend_path_;
  std::string frontend_path_;
  std::string name_;
  int wake_fd_;
  bool started_ = false;
  bool failed_ = false;
  bool gone_ = false;
  bool removing_ = false;  // online = 0
  XenbusState state_ = XenbusStateUnknown;  // what we last wrote
  std::atomic<bool> closing_requested_{false};
  LoopbackBus loopback_;
  std::vector<std::unique_ptr<StreamWorker>> workers_;
  // OPENs per stream (PCM, stream) since the backend started; written only by the
  // stream's worker while it runs, by nobody else.
  std::map<std::pair<size_t, size_t>, uint32_t> open_counts_;
};

}  // namespace xensnd::backend
