#include "protocol/xenbus_state.h"

#include <cerrno>

#include <xen/io/xenbus.h>

#include "protocol/errors.h"
#include "protocol/sndif_abi.h"
#include "protocol/xenstore_values.h"

namespace xensnd {

static_assert(static_cast<int>(BusState::kInitWait) == XenbusStateInitWait);
static_assert(static_cast<int>(BusState::kConnected) == XenbusStateConnected);
static_assert(static_cast<int>(BusState::kClosed) == XenbusStateClosed);
static_assert(static_cast<int>(BusState::kReconfigured) == XenbusStateReconfigured);

BusState parse_bus_state(const std::optional<std::string>& node) {
  if (!node) return BusState::kUnknown;
  ParsedNumber parsed = parse_decimal(*node, static_cast<uint64_t>(BusState::kReconfigured));
  return parsed.value ? static_cast<BusState>(*parsed.value) : BusState::kUnknown;
}

std::string bus_state_name(BusState state) {
  const char* name = "Unknown";
  switch (state) {
    case BusState::kUnknown: break;
    case BusState::kInitialising: name = "Initialising"; break;
    case BusState::kInitWait: name = "InitWait"; break;
    case BusState::kInitialised: name = "Initialised"; break;
    case BusState::kConnected: name = "Connected"; break;
    case BusState::kClosing: name = "Closing"; break;
    case BusState::kClosed: name = "Closed"; break;
    case BusState::kReconfiguring: name = "Reconfiguring"; break;
    case BusState::kReconfigured: name = "Reconfigured"; break;
  }
  return std::string(name) + " (" + std::to_string(static_cast<int>(state)) + ")";
}

WaitVerdict judge_backend_state(HandshakePhase phase, BusState backend) {
  switch (phase) {
    case HandshakePhase::kBackendReleased:
      // Still serving (or tearing down) the old connection.
      if (backend == BusState::kConnected || backend == BusState::kClosing ||
          backend == BusState::kInitialised)
        return WaitVerdict::kKeepWaiting;
      return WaitVerdict::kDone;
    case HandshakePhase::kBackendInitWait:
      return backend == BusState::kInitWait ? WaitVerdict::kDone : WaitVerdict::kKeepWaiting;
    case HandshakePhase::kBackendConnected:
      if (backend == BusState::kConnected) return WaitVerdict::kDone;
      if (backend == BusState::kClosed) return WaitVerdict::kFailed;
      return WaitVerdict::kKeepWaiting;
  }
  return WaitVerdict::kFailed;
}

bool needs_stale_reset(BusState frontend, BusState backend) {
  bool frontend_active = frontend == BusState::kInitWait || frontend == BusState::kInitialised ||
                         frontend == BusState::kConnected || frontend == BusState::kReconfiguring ||
                         frontend == BusState::kReconfigured;
  bool backend_active = backend == BusState::kInitialised || backend == BusState::kConnected;
  return frontend_active || backend_active;
}

VersionChoice negotiate_version(const std::optional<std::string>& backend_versions,
                                std::string_view versions_path) {
  constexpr unsigned kOurs = XENSND_PROTOCOL_VERSION;
  if (!backend_versions)
    return {kOurs, std::string(versions_path) + " is missing: assuming sndif protocol " +
                       std::to_string(kOurs) + " (as snd_be, which publishes none)"};
  for (std::string_view item : split_list(*backend_versions)) {
    ParsedNumber parsed = parse_decimal(item, 1000000);
    if (parsed.value && *parsed.value == kOurs) return {kOurs, {}};
  }
  throw FrontendError(EPROTO, "the backend does not speak sndif protocol " + std::to_string(kOurs) +
                                  ": " + std::string(versions_path) + " is '" + *backend_versions + "'");
}

}  // namespace xensnd
