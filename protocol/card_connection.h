// A vsnd card connected as a sndif frontend: every stream of the card gets its request ring,
// event page and event channels (snd_be binds all of them or none), published in one XenStore
// transaction, then the xenbus handshake runs to Connected.
//
// Threading: XenStore is used only here, by one thread at a time (the plugin serialises all
// card connections behind one lock); streams never touch XenStore.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "protocol/card_config.h"
#include "protocol/stream.h"
#include "xenio/platform.h"

namespace xensnd {

struct ConnectOptions {
  // The vsnd device id: the card lives at device/vsnd/<device_id>.
  unsigned device_id = 0;
  // How long the xenbus handshake (and a stale-state reset) may take.
  std::chrono::milliseconds handshake_timeout{5000};
  // How long a control request may wait for its response (the Linux driver uses 3 s).
  std::chrono::milliseconds response_timeout{3000};
  // How long the destructor waits for the backend to release the connection after
  // Closing before it goes Closed anyway (a dead backend must not hang an application).
  std::chrono::milliseconds teardown_timeout{2000};
  // Receives warnings (a stale card reset). Unset: printed to stderr.
  std::function<void(const std::string&)> warn;
  // Receives what is normal in production but worth knowing when debugging (no `versions`
  // node: snd_be never publishes one). Unset: dropped.
  std::function<void(const std::string&)> debug;
  // The guest's page size; 0 = sysconf(_SC_PAGESIZE). Anything but 4096 is refused.
  long page_size = 0;
};

class CardConnection {
 public:
  virtual ~CardConnection() = default;  // disconnects: Closing -> Closed, removes our nodes

  virtual const CardConfig& config() const = 0;
  // The stream with these indices; nullptr if the card has none.
  virtual Stream* stream(size_t pcm_index, size_t stream_index) = 0;

  // Readable when the backend's state or the device directory may have changed.
  virtual int watch_fd() const = 0;
  // Consumes watch events; if the backend left Connected or the device was removed, marks
  // every stream disconnected. Returns connected().
  virtual bool check_backend() = 0;
  virtual bool connected() const = 0;
};

// Connects to device/vsnd/<device_id> of this domain. A card left in state Connected by a
// process that died is reset first (our stale nodes removed, Closing -> Closed, backend back
// to InitWait). Throws FrontendError with a message naming what failed.
std::unique_ptr<CardConnection> connect_card(xenio::Platform& platform, const ConnectOptions& options);

}  // namespace xensnd
