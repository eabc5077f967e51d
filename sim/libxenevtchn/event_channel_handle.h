// The state behind a xenevtchn_handle. Events never go through the service: each port's
// state is a PortWord (sim/hypervisor/port_state.h) in its owner's memfd, and each handle's
// pollable fd is an EFD_SEMAPHORE eventfd counting the ports delivered to it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "sim/hypervisor/port_state.h"
#include "sim/hypervisor/unique_fd.h"

namespace simxen::evtchn {

// Another handle's eventfd and port words, mapped once however many of our ports reach it.
struct PeerHandle {
  UniqueFd eventfd;
  port_state::Word* slots = nullptr;
  ~PeerHandle();
};

struct PeerEnd {
  std::shared_ptr<PeerHandle> handle;
  uint32_t slot = 0;
  uint32_t generation = 0;
};

struct LocalPort {
  uint32_t slot = 0;
  uint32_t generation = 0;
  std::optional<PeerEnd> peer;  // unknown until bound, or learnt from a push
};

}  // namespace simxen::evtchn

struct xenevtchn_handle {
  simxen::UniqueFd sock;
  simxen::UniqueFd eventfd;  // what xenevtchn_fd() returns
  simxen::port_state::Word* slots = nullptr;
  pid_t owner = 0;  // the process that opened it; a forked child may only close it
  std::mutex lock;  // the socket and the tables below; never held while blocking for events
  std::map<uint32_t, simxen::evtchn::LocalPort> ports;
  std::map<uint64_t, std::weak_ptr<simxen::evtchn::PeerHandle>> peers;
  std::optional<uint32_t> restricted_to;  // xenevtchn_restrict
  uint32_t last_pending = 0;      // round robin between ports in xenevtchn_pending
  uint32_t stray_wakeups = 0;     // eventfd counts whose port was unbound before consumed
  ~xenevtchn_handle();
};
