// Keeps the machine's CPUs out of idle states slower to leave than a sound server's deadline
// allows, for as long as it lives: what a low-latency audio host does (tuned's
// latency-performance profile, for one), through the kernel's PM QoS interface
// (/dev/cpu_dma_latency: the request holds while the file stays open).
//
// Why the sound-server cases need it: the test machines are virtual, and a vCPU that halts
// when idle is descheduled by the host, which wakes it again when it can. On the machine of
// 2026-11-29 (haltpoll, no halt polling), with no other load, a SCHED_FIFO thread at the top
// priority woke 1.5 ms or more late 232 to 1,465 times in 30 s and the pauses covered 30 to
// 76 % of a quantum-256 run; with this request held, 2 to 22 % (tests/e2e/CMakeLists.txt).
// A guest running PipeWire at small quanta wants the same (README.md, sound servers).
#pragma once

#include <string>

#include "xenio/unique_fd.h"

namespace xensnd::e2e {

class CpuLatencyHold {
 public:
  // Asks for an exit latency of 0 (only polling idle). When the request cannot be made (not
  // root, no PM QoS), the hold is empty and why() says so: the cases then run as the machine
  // is, and the stall monitor still accounts for its pauses.
  CpuLatencyHold();
  bool held() const { return fd_.get() >= 0; }
  const std::string& why() const { return why_; }

 private:
  xenio::UniqueFd fd_;
  std::string why_;
};

}  // namespace xensnd::e2e
