// connect_card: all streams of a vsnd card connected in one xenbus handshake.
#include "protocol/card_connection.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "protocol/errors.h"
#include "protocol/shared_buffer.h"
#include "protocol/sndif_abi.h"
#include "protocol/sndif_stream.h"
#include "protocol/xenbus_frontend.h"
#include "protocol/xenstore_values.h"

namespace xensnd {
namespace {

class SndifCardConnection final : public CardConnection {
 public:
  SndifCardConnection(xenio::Platform& platform, const ConnectOptions& options)
      : options_(options), store_(platform.open_xenstore()) {
    std::string device_path = "device/vsnd/" + std::to_string(options.device_id);
    config_ = read_card_config(*store_, device_path);
    frontend_.emplace(*store_, device_path);
    for (const StreamConfig* s : config_.streams()) stream_paths_.push_back(s->xenstore_path);
    connect(platform);
  }

  ~SndifCardConnection() override {
    // One backend serves every stream of the card: once it failed on one, the others are
    // not closed through it (each CLOSE would wait out its own timeout).
    std::string failure;
    for (auto& stream : streams_) {
      if (!failure.empty()) stream->mark_disconnected(failure);
      stream->close_and_wait();
      if (failure.empty() && stream->disconnected()) failure = "not closed: " + stream->disconnect_reason();
    }
    bool backend_failed = !failure.empty();
    // A backend that stopped answering (or broke the protocol) will not release the
    // connection either: do not make the application wait for it twice.
    auto deadline = std::chrono::steady_clock::now() +
                    (backend_failed ? std::chrono::milliseconds(0) : options_.teardown_timeout);
    try {
      frontend_->begin_disconnect(deadline);
    } catch (...) {
      // XenStore trouble while closing: the grants and ports are still released below.
    }
    streams_.clear();  // revokes the grants, unbinds the ports
    frontend_->finish_disconnect(stream_paths_);
  }

  const CardConfig& config() const override { return config_; }

  Stream* stream(size_t pcm_index, size_t stream_index) override {
    for (auto& s : streams_)
      if (s->config().pcm_index == pcm_index && s->config().stream_index == stream_index) return s.get();
    return nullptr;
  }

  int watch_fd() const override { return frontend_->watch_fd(); }

  bool check_backend() override {
    // Drained even when already disconnected: a watch fd left readable would spin the
    // caller's poll().
    try {
      frontend_->drain_watch_events();
    } catch (const xenio::XenError&) {
    }
    if (!connected_) return false;
    std::string reason;
    try {
      if (!frontend_->device_still_there()) {
        reason = "the vsnd device " + config_.xenstore_path + " was removed";
      } else if (BusState state = frontend_->backend_state(); state != BusState::kConnected) {
        reason = "the backend " + frontend_->backend_path() + " left Connected (now " + bus_state_name(state) + ")";
      }
    } catch (const xenio::XenError& e) {
      reason = std::string("XenStore failed: ") + e.what();
    }
    if (!reason.empty()) {
      connected_ = false;
      for (auto& s : streams_) s->mark_disconnected(reason);
    }
    return connected_;
  }

  bool connected() const override { return connected_; }

 private:
  void warn(const std::string& message) const {
    if (options_.warn)
      options_.warn(message);
    else
      std::fprintf(stderr, "xensnd: warning: %s\n", message.c_str());
  }

  void connect(xenio::Platform& platform) {
    using Clock = std::chrono::steady_clock;
    require_xen_page_size(options_.page_size ? options_.page_size : ::sysconf(_SC_PAGESIZE));
    auto deadline = Clock::now() + options_.handshake_timeout;
    frontend_->watch();
    // The configuration was read after this process claimed the card: what its listings
    // showed of a frontend's nodes is what an earlier session left.
    frontend_->prepare(stream_paths_, deadline, [this](const std::string& m) { warn(m); },
                       config_.frontend_nodes_present);

    std::string versions_path = join_path(frontend_->backend_path(), XENSND_FIELD_BE_VERSIONS);
    VersionChoice version = negotiate_version(store_->read(versions_path), versions_path);
    if (!version.warning.empty() && options_.debug) options_.debug(version.warning);

    std::vector<StreamTransport> transports;
    StreamTimeouts timeouts{options_.response_timeout};
    try {
      for (const StreamConfig* s : config_.streams()) {
        streams_.push_back(std::make_unique<SndifStream>(*s, platform, frontend_->backend_id(), timeouts));
        transports.push_back(streams_.back()->transport());
      }
    } catch (const xenio::XenError& e) {
      streams_.clear();
      throw FrontendError(e.errno_value(), "cannot allocate the rings of " + config_.xenstore_path + ": " + e.what());
    }

    try {
      frontend_->publish(version.version, transports, BusState::kInitialised);
      frontend_->wait_for(HandshakePhase::kBackendConnected, deadline);
      if (!frontend_->write_state(BusState::kConnected))
        throw FrontendError(ENODEV, "the vsnd device " + config_.xenstore_path + " was removed while connecting");
    } catch (...) {
      // Leave the card as a later attempt expects it: our nodes gone, Closed.
      try {
        frontend_->begin_disconnect(Clock::now() + options_.teardown_timeout);
      } catch (...) {
      }
      streams_.clear();
      frontend_->finish_disconnect(stream_paths_);
      throw;
    }
    connected_ = true;
  }

  ConnectOptions options_;
  std::unique_ptr<xenio::XenStore> store_;
  CardConfig config_;
  std::optional<XenbusFrontend> frontend_;
  std::vector<std::string> stream_paths_;
  std::vector<std::unique_ptr<SndifStream>> streams_;
  bool connected_ = false;
};

}  // namespace

std::unique_ptr<CardConnection> connect_card(xenio::Platform& platform, const ConnectOptions& options) {
  try {
    return std::make_unique<SndifCardConnection>(platform, options);
  } catch (const xenio::XenError& e) {
    throw FrontendError(e.errno_value(), std::string("vsnd device ") + std::to_string(options.device_id) + ": " + e.what());
  }
}

}  // namespace xensnd
