// The xenbus states and the frontend's decisions about them, as pure logic: what a backend
// state means in each phase of the handshake, and protocol version negotiation.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace xensnd {

// Values of enum xenbus_state (<xen/io/xenbus.h>).
enum class BusState : int {
  kUnknown = 0,
  kInitialising = 1,
  kInitWait = 2,
  kInitialised = 3,
  kConnected = 4,
  kClosing = 5,
  kClosed = 6,
  kReconfiguring = 7,
  kReconfigured = 8,
};

// A `state` node's value; a missing or malformed node reads as kUnknown.
BusState parse_bus_state(const std::optional<std::string>& node);
std::string bus_state_name(BusState state);  // "InitWait (2)"

// What the frontend waits for, and what a backend state means meanwhile.
enum class HandshakePhase {
  // After a stale connection was torn down (we wrote Closing/Closed): until the backend
  // has left Connected/Closing and can take a new frontend.
  kBackendReleased,
  // We are Initialising: until the backend is InitWait. snd_be passes through Closing,
  // Closed and Initialising at start; all of that is waited out (bounded by the timeout).
  kBackendInitWait,
  // We published and are Initialised: until the backend is Connected. A backend going
  // Closed here refused what we published (snd_be stays Closed until restarted).
  kBackendConnected,
};
enum class WaitVerdict { kKeepWaiting, kDone, kFailed };
WaitVerdict judge_backend_state(HandshakePhase phase, BusState backend);

// Whether a card must be torn down before it can be connected: a previous frontend left
// it Initialised/Connected (and died), or the backend still serves an old connection.
bool needs_stale_reset(BusState frontend, BusState backend);

// Protocol version from the backend's `versions` list. A backend that publishes none (as
// snd_be) is taken as protocol 2 with a warning. Throws FrontendError(EPROTO) when the
// list does not contain 2.
struct VersionChoice {
  unsigned version = 0;
  std::string warning;  // empty unless something deserved a warning
};
VersionChoice negotiate_version(const std::optional<std::string>& backend_versions,
                                std::string_view versions_path);

}  // namespace xensnd
