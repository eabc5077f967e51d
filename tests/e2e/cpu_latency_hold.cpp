#include "tests/e2e/cpu_latency_hold.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

namespace xensnd::e2e {

CpuLatencyHold::CpuLatencyHold() {
  constexpr const char* kQos = "/dev/cpu_dma_latency";
  xenio::UniqueFd fd(::open(kQos, O_WRONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    why_ = std::string("cannot open ") + kQos + ": " + std::strerror(errno);
    return;
  }
  // The kernel takes the request as a binary 32-bit number of microseconds.
  const int32_t microseconds = 0;
  if (::write(fd.get(), &microseconds, sizeof microseconds) != static_cast<ssize_t>(sizeof microseconds)) {
    why_ = std::string("cannot write to ") + kQos + ": " + std::strerror(errno);
    return;
  }
  fd_ = std::move(fd);
}

}  // namespace xensnd::e2e
