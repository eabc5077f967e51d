// One process at a time owns a vsnd card.
//
// The claim is an open-file-description lock (fcntl F_OFD_SETLK) on byte <device id> of the
// platform's device-lock node (xenio::Platform::device_lock_path(): /dev/xen/gntalloc on Xen,
// the software Xen's per-domain lock file next to its sockets). So:
//  * only a process that can open that node read-write — one that may drive the card's grants
//    at all — can hold it; anyone else gets the open's EACCES, not the card;
//  * it is one lock per inode, whatever network (or other) namespace the claimant is in;
//  * the kernel drops it when the last descriptor of the claim closes, however the process
//    ends; a non-blocking F_OFD_SETLK answers a refused claimant at once.
//
// Naming the holder is a separate best-effort: the owner also listens (non-blocking, never
// accepting from the audio path) on an abstract unix socket named after the lock node and the
// device; a refused claimant connects without blocking and reads the listener's pid with
// SO_PEERCRED. A full queue, another network namespace or a squatter on the name only cost
// the pid in the message ("another process"), never a wait.
#pragma once

#include <string>

#include "xenio/unique_fd.h"

namespace xensnd::plugin {

class CardOwnership {
 public:
  CardOwnership() = default;

  // Claims device `device_id` by locking `lock_path`. Throws FrontendError: EBUSY naming the
  // holder (pid and command when it can tell) when another claim holds it; the open's errno
  // (EACCES, ENOENT...) naming `lock_path` when this process may not claim at all.
  static CardOwnership claim(unsigned device_id, const std::string& lock_path);

  // Drops the claim. In a forked child this only drops the child's reference.
  void release() noexcept;
  bool held() const { return lock_.get() >= 0; }

  // Accepts and closes the connections refused claimants made to learn our pid, so they do not
  // pile up in the naming socket's queue (whose length the kernel bounds anyway). Never blocks.
  void answer_holder_queries() noexcept;

 private:
  CardOwnership(xenio::UniqueFd lock, xenio::UniqueFd holder_socket)
      : lock_(std::move(lock)), holder_socket_(std::move(holder_socket)) {}
  xenio::UniqueFd lock_;
  xenio::UniqueFd holder_socket_;
};

// The abstract socket name that names the holder of `device_id`'s claim on the lock node
// with this device and inode number (exposed for tests).
std::string holder_socket_name(unsigned device_id, unsigned long long lock_device, unsigned long long lock_inode);

}  // namespace xensnd::plugin
