// The software Xen daemon's single-threaded event loop: every socket of every simulated
// domain is served here, so no state needs locking.
#pragma once

#include <functional>
#include <memory>

namespace simxen {

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Calls `on_ready` whenever `fd` is readable (or hung up). Replaces an earlier callback.
  void add(int fd, std::function<void()> on_ready);
  // Also calls `on_writable` while `fd` accepts output (a connection with queued replies);
  // nullptr stops asking. Only for an fd added with add(). Replaces an earlier callback.
  void set_writable(int fd, std::function<void()> on_writable);
  // Safe to call from inside a callback, also for the fd being served.
  void remove(int fd);
  // Serves until stop() (from a callback or a signal handler's self-pipe).
  void run();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace simxen
