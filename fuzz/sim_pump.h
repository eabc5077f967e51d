// Runs the software Xen's event loop in the fuzzer's own thread until it has nothing left
// to do: every byte the fuzzer's clients wrote was read by the service (SIOCOUTQ of a unix
// socket counts what the peer has not read yet) and the loop made more passes for what that
// caused. The clients' replies are read meanwhile (so the service is never blocked on a full
// socket) and handed to `on_input`.
#pragma once

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <unistd.h>

#include <functional>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "sim/common/event_loop.h"

namespace xensnd::fuzz {

class LoopPump {
 public:
  // Called with each client fd that is readable; returns false once it saw end of file.
  using Reader = std::function<void(int fd)>;

  explicit LoopPump(simxen::EventLoop& loop) : loop_(loop) {
    // The loop serves ready fds in ascending order: a number above every fd the service
    // opens makes the tick the last callback of each pass, after all the service did.
    int fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
    FUZZ_CHECK(fd >= 0);
    tick_ = fcntl(fd, F_DUPFD_CLOEXEC, 900);
    close(fd);
    FUZZ_CHECK(tick_ >= 900);
  }
  ~LoopPump() {
    loop_.remove(tick_);
    close(tick_);
  }
  LoopPump(const LoopPump&) = delete;
  LoopPump& operator=(const LoopPump&) = delete;

  // Serves until quiet. `clients` are the fuzzer's ends; `read` drains one of them.
  // A service still busy after `max_passes` passes is spinning: that fails the target.
  void run(const std::vector<int>& clients, const Reader& read, int max_passes = 10000) {
    int passes = 0;
    int quiet = 0;
    loop_.add(tick_, [&] {
      ++passes;
      FUZZ_CHECK(passes <= max_passes);
      bool unread = false;
      for (int fd : clients) {
        read(fd);
        int queued = 0;
        if (ioctl(fd, SIOCOUTQ, &queued) == 0 && queued > 0) unread = true;
      }
      quiet = unread ? 0 : quiet + 1;
      // A connection accepted in one pass is first polled in the next: three quiet passes.
      if (quiet >= 3) loop_.stop();
    });
    loop_.run();
    loop_.remove(tick_);
  }

 private:
  simxen::EventLoop& loop_;
  int tick_ = -1;  // always readable: the loop calls back once per pass
};

}  // namespace xensnd::fuzz
