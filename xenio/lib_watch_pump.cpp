// The Xen library headers declare no C linkage of their own.
extern "C" {
#include <xenstore.h>
}

#include "xenio/lib_watch_pump.h"

#include <poll.h>
#include <sys/eventfd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <system_error>

namespace xenio {
namespace {

// Distinct events held before further ones of a queued token are dropped: far more than
// the handful of watches a card registers, small enough that a flood of distinct paths
// below a watched directory costs kilobytes.
constexpr size_t kMaxQueuedEvents = 256;
// Events moved per hold of the lock, so that a flood never keeps a caller of next() waiting
// for long; next() itself takes as many before answering, so that what it returns does not
// depend on how far the thread got.
constexpr int kEventsPerTake = 256;

UniqueFd make_eventfd(const char* purpose) {
  UniqueFd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (fd.get() < 0) throw_errno(std::string("eventfd for ") + purpose);
  return fd;
}

}  // namespace

LibWatchPump::LibWatchPump()
    : ready_fd_(make_eventfd("XenStore watch events")),
      stop_fd_(make_eventfd("stopping the XenStore watch pump")),
      queue_(kMaxQueuedEvents) {}

LibWatchPump::~LibWatchPump() {
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  // An eventfd write of 1 cannot fail short of a counter overflow, which one write never reaches.
  [[maybe_unused]] ssize_t n = ::write(stop_fd_.get(), &one, sizeof one);
  thread_.join();
}

void LibWatchPump::start(xs_handle* handle) {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  handle_ = handle;
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::system_error& e) {
    throw XenError(e.code().value(), "start the XenStore watch reader thread");
  }
}

std::optional<XenStoreWatchEvent> LibWatchPump::next() {
  std::lock_guard lock(mutex_);
  take_locked(kEventsPerTake);
  std::optional<XenStoreWatchEvent> event = queue_.pop();
  if (!event && error_) {
    XenError error = *error_;
    update_ready_fd_locked();
    throw error;
  }
  update_ready_fd_locked();
  return event;
}

void LibWatchPump::run() {
  const int library_fd = xs_fileno(handle_);
  if (library_fd < 0) {
    std::lock_guard lock(mutex_);
    error_ = XenError(errno ? errno : EIO, "XenStore watch pipe");
    update_ready_fd_locked();
    return;
  }
  while (true) {
    pollfd fds[2] = {{library_fd, POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      std::lock_guard lock(mutex_);
      error_ = XenError(errno, "poll on the XenStore watch pipe");
      update_ready_fd_locked();
      return;
    }
    if (fds[1].revents) return;
    std::lock_guard lock(mutex_);
    take_locked(kEventsPerTake);
    update_ready_fd_locked();
    // After an error the pipe may stay readable with nothing to take: stop rather than spin.
    if (error_) return;
  }
}

void LibWatchPump::take_locked(int limit) {
  if (error_ || handle_ == nullptr) return;
  for (int i = 0; i < limit; ++i) {
    errno = 0;
    std::unique_ptr<char*, decltype(&std::free)> event(xs_check_watch(handle_), &std::free);
    if (!event) {
      if (errno != EAGAIN && errno != 0) error_ = XenError(errno, "XenStore watch event");
      return;
    }
    queue_.push(XenStoreWatchEvent{event.get()[XS_WATCH_PATH], event.get()[XS_WATCH_TOKEN]});
  }
}

void LibWatchPump::update_ready_fd_locked() {
  const bool ready = !queue_.empty() || error_.has_value();
  if (ready == ready_signalled_) return;
  uint64_t value = 1;
  // Neither can fail: the counter is only ever 0 or 1, and reading happens only when it is 1.
  [[maybe_unused]] ssize_t n =
      ready ? ::write(ready_fd_.get(), &value, sizeof value) : ::read(ready_fd_.get(), &value, sizeof value);
  ready_signalled_ = ready;
}

}  // namespace xenio
