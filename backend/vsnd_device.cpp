#include "backend/vsnd_device.h"
#include "backend/xenbus_states.h"

#include <unistd.h>

#include <charconv>

#include "protocol/card_config.h"
#include "protocol/errors.h"

namespace xensnd::backend {

std::optional<XenbusState> parse_xenbus_state(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  int value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < XenbusStateUnknown ||
      value > XenbusStateReconfigured)
    return std::nullopt;
  return static_cast<XenbusState>(value);
}

namespace {

// A transport node: a decimal unsigned 32-bit number, nothing else.
uint32_t read_transport_number(xenio::XenStore& store, const std::string& path) {
  std::optional<std::string> text = store.read(path);
  if (!text) throw ConfigError(path + " is missing (all four transport nodes are mandatory)");
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (text->empty() || ec != std::errc() || end != text->data() + text->size())
    throw ConfigError(path + " is '" + *text + "', not an unsigned number");
  return value;
}

}  // namespace

VsndDevice::VsndDevice(xenio::XenStore& store, const BackendOptions& options, Log& log, xenio::DomainId frontend,
                       uint32_t device_id, std::string backend_path, int wake_fd)
    : store_(store),
      options_(options),
      log_(log),
      frontend_(frontend),
      device_id_(device_id),
      backend_path_(std::move(backend_path)),
      wake_fd_(wake_fd) {
  name_ = "vsnd " + std::to_string(frontend) + "/" + std::to_string(device_id);
  frontend_path_ = store_.read(backend_path_ + "/frontend").value_or("");
  const std::string expected_prefix = store_.domain_path(frontend) + "/";
  if (frontend_path_.rfind(expected_prefix, 0) != 0) {
    log_.error(name_, ": ", backend_path_, "/frontend is '", frontend_path_, "', not below ", expected_prefix,
               ": device ignored");
    failed_ = true;
  }
  log_.info(name_, ": found, frontend at ", frontend_path_);
}

VsndDevice::~VsndDevice() { disconnect(); }

std::vector<std::string> VsndDevice::watched_paths() const {
  std::vector<std::string> paths{backend_path_};
  if (!frontend_path_.empty()) paths.push_back(frontend_path_ + "/state");
  return paths;
}

void VsndDevice::write_state(XenbusState state) {
  // Only where the toolstack created the node, checked in the same transaction: a device
  // the toolstack is removing is never recreated by a late write.
  const std::string path = backend_path_ + "/state";
  bool exists = xenio::run_transaction(store_, [&](xenio::XenStore::Transaction t) {
    if (!store_.read(path, t)) return false;
    store_.write(path, state_text(state), t);
    return true;
  });
  if (!exists) {
    gone_ = true;
    return;
  }
  state_ = state;
  log_.debug(name_, ": backend state ", static_cast<int>(state));
}

void VsndDevice::update() {
  if (gone_) return;
  if (!store_.read(backend_path_ + "/state")) {
    log_.info(name_, ": removed by the toolstack");
    disconnect();
    gone_ = true;
    return;
  }
  if (store_.read(backend_path_ + "/online") == "0") {
    // The toolstack is removing the device (libxl writes online=0 and state Closing, then
    // waits for Closed before deleting the directories).
    if (!removing_) {
      removing_ = true;
      log_.info(name_, ": the toolstack is removing the device");
      disconnect();
      write_state(XenbusStateClosed);
    }
    return;
  }
  removing_ = false;  // re-attached under the same path before we saw the removal
  if (failed_) return;
  if (!started_) {
    started_ = true;
    if (options_.publish_versions) store_.write(backend_path_ + "/versions", "2");
    if (options_.snd_be_startup) {
      write_state(XenbusStateClosing);
      write_state(XenbusStateClosed);
      write_state(XenbusStateInitialising);
    } else {
      write_state(XenbusStateInitWait);
    }
  }
  if (gone_) return;

  std::optional<XenbusState> frontend = parse_xenbus_state(store_.read(frontend_path_ + "/state"));
  if (closing_requested_.exchange(false) && state_ == XenbusStateConnected) write_state(XenbusStateClosing);

  switch (state_) {
    case XenbusStateInitialising:
      if (frontend && *frontend >= XenbusStateInitialising && *frontend <= XenbusStateConnected)
        write_state(XenbusStateInitWait);
      if (state_ != XenbusStateInitWait) break;
      [[fallthrough]];
    case XenbusStateInitWait:
      if (frontend == XenbusStateInitialised || frontend == XenbusStateConnected) {
        if (connect()) {
          write_state(XenbusStateConnected);
          log_.info(name_, ": connected");
        } else {
          write_state(XenbusStateClosed);
          failed_ = true;
          log_.error(name_, ": stays Closed until the backend restarts (as snd_be)");
        }
      }
      break;
    case XenbusStateConnected:
    case XenbusStateClosing:
      if (!frontend || *frontend == XenbusStateClosing || *frontend == XenbusStateClosed) {
        log_.info(name_, ": frontend ", frontend ? "closed" : "gone", ", disconnecting");
        disconnect();
        if (state_ != XenbusStateClosing) write_state(XenbusStateClosing);
        write_state(XenbusStateClosed);
        if (frontend) write_state(XenbusStateInitWait);
      } else if (*frontend == XenbusStateInitialising) {
        log_.info(name_, ": frontend re-initialising, reconnecting");
        disconnect();
        write_state(XenbusStateInitWait);
      }
      break;
    case XenbusStateClosed:
      if (frontend == XenbusStateInitialising) write_state(XenbusStateInitWait);
      break;
    default:
      break;
  }
}

bool VsndDevice::connect() {
  try {
    CardConfig card = read_card_config(store_, frontend_path_);
    if (card.streams().size() > kMaxStreamsPerCard)
      throw ConfigError(frontend_path_ + " declares " + std::to_string(card.streams().size()) +
                        " streams, more than the " + std::to_string(kMaxStreamsPerCard) +
                        " this backend serves per card");
    std::vector<std::unique_ptr<StreamWorker>> workers;
    for (const StreamConfig* stream : card.streams()) {
      const std::string base =
          frontend_path_ + "/" + std::to_string(stream->pcm_index) + "/" + std::to_string(stream->stream_index);
      StreamWorkerSetup setup;
      setup.config = *stream;
      setup.transport.ring_ref = read_transport_number(store_, base + "/" XENSND_FIELD_RING_REF);
      setup.transport.event_channel = read_transport_number(store_, base + "/" XENSND_FIELD_EVT_CHNL);
      setup.transport.event_ring_ref = read_transport_number(store_, base + "/" XENSND_FIELD_EVT_RING_REF);
      setup.transport.event_event_channel = read_transport_number(store_, base + "/" XENSND_FIELD_EVT_EVT_CHNL);
      setup.identity = {frontend_, device_id_, stream->pcm_index, stream->stream_index, 0};
      setup.options = &options_;
      setup.loopback = &loopback_;
      setup.log = &log_;
      setup.open_counter = &open_counts_[{stream->pcm_index, stream->stream_index}];
      setup.request_closing = [this] {
        closing_requested_ = true;
        uint64_t one = 1;
        ssize_t ignored = ::write(wake_fd_, &one, sizeof one);
        (void)ignored;
      };
      workers.push_back(std::make_unique<StreamWorker>(std::move(setup)));
    }
    if (workers.empty()) throw ConfigError(frontend_path_ + " has no streams");
    workers_ = std::move(workers);
    for (auto& worker : workers_) worker->start();
    return true;
  } catch (const std::exception& e) {
    log_.error(name_, ": cannot connect: ", e.what());
    return false;
  }
}

void VsndDevice::disconnect() {
  // Joins every ring thread; each closes its device (finalizing WAV files) and unmaps.
  workers_.clear();
}

}  // namespace xensnd::backend
