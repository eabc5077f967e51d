// XenStore access: the interface protocol/ uses, so it can be tested with a fake.
#pragma once

#include <cerrno>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xenio/error.h"

namespace xenio {

using DomainId = uint16_t;

// One entry of a node's permission list (xs_permissions). The first entry names the
// owner and the access of every domain not listed.
struct XenStorePermission {
  enum Access : unsigned { kNone = 0, kRead = 1, kWrite = 2, kReadWrite = 3 };
  DomainId domain = 0;
  unsigned access = kNone;
  bool operator==(const XenStorePermission&) const = default;
};

struct XenStoreWatchEvent {
  std::string path;   // the node that changed (or the watched path on registration)
  std::string token;
};

// Paths may be absolute or relative to the caller's /local/domain/<id>. Every call throws
// XenError on failure except where noted. `transaction` 0 means no transaction.
class XenStore {
 public:
  using Transaction = uint32_t;
  static constexpr Transaction kNoTransaction = 0;

  virtual ~XenStore() = default;

  // nullopt when the node does not exist (ENOENT); other errors throw.
  virtual std::optional<std::string> read(std::string_view path, Transaction t = kNoTransaction) = 0;
  virtual void write(std::string_view path, std::string_view value, Transaction t = kNoTransaction) = 0;
  virtual void mkdir(std::string_view path, Transaction t = kNoTransaction) = 0;
  // Removing a node that does not exist is not an error.
  virtual void remove(std::string_view path, Transaction t = kNoTransaction) = 0;
  // nullopt when the node does not exist.
  virtual std::optional<std::vector<std::string>> directory(std::string_view path,
                                                            Transaction t = kNoTransaction) = 0;
  virtual std::vector<XenStorePermission> permissions(std::string_view path,
                                                      Transaction t = kNoTransaction) = 0;
  virtual void set_permissions(std::string_view path, const std::vector<XenStorePermission>& perms,
                               Transaction t = kNoTransaction) = 0;

  virtual Transaction begin_transaction() = 0;
  // Returns false when the transaction conflicted (EAGAIN) and must be retried.
  virtual bool commit_transaction(Transaction t) = 0;
  virtual void abort_transaction(Transaction t) = 0;

  // A watch fires once on registration and then on every change at or below `path`.
  virtual void watch(std::string_view path, std::string_view token) = 0;
  virtual void unwatch(std::string_view path, std::string_view token) = 0;
  // Readable when watch events may be waiting.
  virtual int watch_fd() const = 0;
  // Non-blocking: the next queued watch event, or nullopt when none is queued.
  virtual std::optional<XenStoreWatchEvent> next_watch_event() = 0;

  // /local/domain/<domid>; also for the caller's own id.
  virtual std::string domain_path(DomainId domid) = 0;
};

// Runs `body(transaction)` in a transaction, retrying the whole body while the commit
// reports a conflict (xenstored's EAGAIN). The body returns false to abort (nothing is
// written); run_transaction then returns false. Exceptions abort and propagate.
template <typename Body>
bool run_transaction(XenStore& store, Body&& body, int max_attempts = 64) {
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    XenStore::Transaction t = store.begin_transaction();
    bool keep = false;
    try {
      keep = body(t);
    } catch (...) {
      store.abort_transaction(t);
      throw;
    }
    if (!keep) {
      store.abort_transaction(t);
      return false;
    }
    if (store.commit_transaction(t)) return true;
  }
  throw XenError(EAGAIN, "XenStore transaction kept conflicting after " +
                           std::to_string(max_attempts) + " attempts");
}

// Opens the real libxenstore (xs_open: the XENSTORED_PATH socket if set, else
// /dev/xen/xenbus), with XS_UNWATCH_FILTER: unwatch() also drops that watch's queued events.
// The error names the node it tried.
std::unique_ptr<XenStore> open_xenstore();

}  // namespace xenio
