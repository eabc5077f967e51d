#include "protocol/xenbus_frontend.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "protocol/errors.h"
#include "protocol/sndif_abi.h"
#include "protocol/xenstore_values.h"

namespace xensnd {
namespace {

constexpr const char* kWatchToken = "xensnd-frontend";

bool has_child(const std::vector<std::string>& children, std::string_view name) {
  return std::find(children.begin(), children.end(), name) != children.end();
}

// The node of our device that tells of its removal: `backend`, which the toolstack writes
// once and we never do. xenstored fires a watch on every node a removal deletes, so the
// device directory going fires it; a watch on the directory itself also fired on each of our
// own writes there (the state, each published node: about 25 events an open and close, each
// waking libxenstore's reader thread, our pump thread and a look at both states).
std::string removal_sentinel(const std::string& device_path) { return join_path(device_path, "backend"); }

}  // namespace

XenbusFrontend::XenbusFrontend(xenio::XenStore& store, std::string device_path)
    : store_(store), device_path_(std::move(device_path)) {
  std::string backend_node = join_path(device_path_, "backend");
  std::optional<std::string> backend = store_.read(backend_node);
  // The device's own listing only to tell the two errors apart: at an open the
  // configuration was just read from it, and each request is a round trip.
  if (!backend && !store_.directory(device_path_))
    throw FrontendError(ENODEV, "no vsnd device at " + device_path_ + " (is vsnd= set for this domain?)");
  if (!backend || backend->empty() || (*backend)[0] != '/')
    throw FrontendError(ENODEV, backend_node + " is missing or not an absolute path");
  backend_path_ = *backend;
  std::string id_node = join_path(device_path_, "backend-id");
  std::optional<std::string> id = store_.read(id_node);
  ParsedNumber parsed = id ? parse_decimal(*id, 0x7fef) : ParsedNumber{std::nullopt, "missing"};
  if (!parsed.value) throw FrontendError(ENODEV, id_node + ": " + parsed.problem);
  backend_id_ = static_cast<xenio::DomainId>(*parsed.value);
}

XenbusFrontend::~XenbusFrontend() {
  if (!watching_) return;
  try {
    store_.unwatch(join_path(backend_path_, "state"), kWatchToken);
    store_.unwatch(removal_sentinel(device_path_), kWatchToken);
  } catch (...) {
    // The connection to XenStore is going away with us; nothing to release.
  }
}

BusState XenbusFrontend::frontend_state() { return parse_bus_state(store_.read(join_path(device_path_, "state"))); }
BusState XenbusFrontend::backend_state() { return parse_bus_state(store_.read(join_path(backend_path_, "state"))); }
bool XenbusFrontend::device_exists() { return store_.directory(device_path_).has_value(); }

bool XenbusFrontend::device_still_there() {
  if (!device_event_pending_) return true;
  if (!device_exists()) return false;
  device_event_pending_ = false;
  return true;
}

void XenbusFrontend::watch() {
  store_.watch(join_path(backend_path_, "state"), kWatchToken);
  store_.watch(removal_sentinel(device_path_), kWatchToken);
  watching_ = true;
}

int XenbusFrontend::watch_fd() const { return store_.watch_fd(); }

bool XenbusFrontend::drain_watch_events() {
  // Events are only hints to look again, and the other side writes as often as it likes.
  // xenio keeps them coalesced (one per path and token, however many writes: see
  // xenio/lib_watch_pump.h), so a look takes everything queued; the time limit only keeps
  // a flood arriving while we look from holding the caller (what is left keeps watch_fd()
  // readable for the next look).
  constexpr auto kMaxDrainTime = std::chrono::milliseconds(5);
  constexpr int kEventsPerClockCheck = 64;
  const auto deadline = Clock::now() + kMaxDrainTime;
  bool any = false;
  const std::string backend_state_path = join_path(backend_path_, "state");
  while (true) {
    for (int i = 0; i < kEventsPerClockCheck; ++i) {
      std::optional<xenio::XenStoreWatchEvent> event = store_.next_watch_event();
      if (!event) return any;
      any = true;
      if (event->path != backend_state_path) device_event_pending_ = true;
    }
    if (Clock::now() >= deadline) return any;
  }
}

bool XenbusFrontend::write_state(BusState state) {
  return xenio::run_transaction(store_, [&](xenio::XenStore::Transaction t) {
    if (!store_.directory(device_path_, t)) return false;
    store_.write(join_path(device_path_, "state"), std::to_string(static_cast<int>(state)), t);
    return true;
  });
}

void XenbusFrontend::publish(unsigned version, const std::vector<StreamTransport>& streams, BusState state) {
  bool written = xenio::run_transaction(store_, [&](xenio::XenStore::Transaction t) {
    if (!store_.directory(device_path_, t)) return false;
    store_.write(join_path(device_path_, XENSND_FIELD_FE_VERSION), std::to_string(version), t);
    for (const StreamTransport& s : streams) {
      store_.write(join_path(s.stream_path, XENSND_FIELD_RING_REF), std::to_string(s.ring_ref), t);
      store_.write(join_path(s.stream_path, XENSND_FIELD_EVT_CHNL), std::to_string(s.ring_port), t);
      store_.write(join_path(s.stream_path, XENSND_FIELD_EVT_RING_REF), std::to_string(s.event_page_ref), t);
      store_.write(join_path(s.stream_path, XENSND_FIELD_EVT_EVT_CHNL), std::to_string(s.event_port), t);
    }
    store_.write(join_path(device_path_, "state"), std::to_string(static_cast<int>(state)), t);
    return true;
  });
  if (!written) throw FrontendError(ENODEV, "the vsnd device " + device_path_ + " was removed while connecting");
}

bool XenbusFrontend::clear_transport_nodes(const std::vector<std::string>& stream_paths,
                                           std::optional<BusState> state) {
  // One transaction with the state write that follows: as two, it cost three round trips to
  // XenStore more (on real Xen through the hypervisor to dom0). Only the nodes that are
  // there are removed: a listing of a stream's directory is one request, removing its four
  // nodes blindly was four, and at open there are usually none.
  return xenio::run_transaction(store_, [&](xenio::XenStore::Transaction t) {
    const std::optional<std::vector<std::string>> device = store_.directory(device_path_, t);
    if (!device) return false;
    if (has_child(*device, XENSND_FIELD_FE_VERSION)) store_.remove(join_path(device_path_, XENSND_FIELD_FE_VERSION), t);
    for (const std::string& path : stream_paths) {
      const std::optional<std::vector<std::string>> stream = store_.directory(path, t);
      if (!stream) continue;
      for (const char* node : abi::kStreamTransportNodes)
        if (has_child(*stream, node)) store_.remove(join_path(path, node), t);
    }
    if (state) store_.write(join_path(device_path_, "state"), std::to_string(static_cast<int>(*state)), t);
    return true;
  });
}

BusState XenbusFrontend::wait_for(HandshakePhase phase, Clock::time_point deadline) {
  while (true) {
    drain_watch_events();
    if (!device_still_there())
      throw FrontendError(ENODEV, "the vsnd device " + device_path_ + " was removed");
    BusState backend = backend_state();
    switch (judge_backend_state(phase, backend)) {
      case WaitVerdict::kDone:
        return backend;
      case WaitVerdict::kFailed:
        throw FrontendError(EPROTO, "the backend " + backend_path_ + " went " + bus_state_name(backend) +
                                        " instead of connecting: it refused the published rings "
                                        "(see the backend's log)");
      case WaitVerdict::kKeepWaiting:
        break;
    }
    auto now = Clock::now();
    if (now >= deadline) {
      const char* wanted = phase == HandshakePhase::kBackendInitWait    ? "InitWait"
                           : phase == HandshakePhase::kBackendConnected ? "Connected"
                                                                         : "it to release the old connection";
      throw FrontendError(ETIMEDOUT, "the backend " + backend_path_ + " stayed " + bus_state_name(backend) +
                                         " while waiting for " + wanted + " (is the backend running?)");
    }
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    pollfd p{store_.watch_fd(), POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) {
      int error = errno;
      throw FrontendError(error, "poll on the XenStore watch of " + device_path_ + " failed: " + std::strerror(error));
    }
  }
}

void XenbusFrontend::prepare(const std::vector<std::string>& stream_paths, Clock::time_point deadline,
                             const Warn& warn, bool nodes_may_be_left) {
  BusState frontend = frontend_state();
  BusState backend = backend_state();
  auto removed = [&] { return FrontendError(ENODEV, "the vsnd device " + device_path_ + " was removed"); };
  if (needs_stale_reset(frontend, backend)) {
    if (warn)
      warn("vsnd device " + device_path_ + " was left " + bus_state_name(frontend) + " (backend " +
           bus_state_name(backend) + ") by an earlier frontend: resetting it");
    if (!clear_transport_nodes(stream_paths, BusState::kClosing)) throw removed();
    wait_for(HandshakePhase::kBackendReleased, deadline);
    if (!write_state(BusState::kClosed)) throw removed();
    wait_for(HandshakePhase::kBackendReleased, deadline);
    if (!write_state(BusState::kInitialising)) throw removed();
  } else {
    // Nodes a cleanly closed session might have left must not be read as ours. The state is
    // written only when it changes: a write fires the backend's watch.
    std::optional<BusState> next;
    if (frontend != BusState::kInitialising) next = BusState::kInitialising;
    if (nodes_may_be_left) {
      if (!clear_transport_nodes(stream_paths, next)) throw removed();
    } else if (next && !write_state(*next)) {
      throw removed();
    }
  }
  wait_for(HandshakePhase::kBackendInitWait, deadline);
}

void XenbusFrontend::begin_disconnect(Clock::time_point deadline) {
  if (!write_state(BusState::kClosing)) return;
  try {
    wait_for(HandshakePhase::kBackendReleased, deadline);
  } catch (const FrontendError&) {
    // A backend that does not react (or is gone) must not keep us from closing.
  }
}

void XenbusFrontend::finish_disconnect(const std::vector<std::string>& stream_paths) noexcept {
  try {
    clear_transport_nodes(stream_paths, BusState::kClosed);
  } catch (...) {
    // Teardown runs from destructors: XenStore failing here leaves nothing we could fix.
  }
}

}  // namespace xensnd
