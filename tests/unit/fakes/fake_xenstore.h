// An in-memory XenStore with xenstored's semantics where protocol/ depends on them:
// relative paths under /local/domain/<own id>, parents created on write, transactions that
// fail with a conflict when a node they touched changed outside them, watches that fire on
// registration and on every change at or below the watched path, a pollable watch fd.
// Tests can inject commit conflicts and react to writes (a scripted backend).
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <deque>

#include "xenio/xenstore.h"

namespace xensnd::testing {

// Orders paths like std::less<> (and looks them up by string_view), comparing byte by byte
// instead of with memcmp(): the fuzzer hooks every memcmp() (FakeXenStore's map lookups were
// a sixth of the FakeXenStore-based targets' time), and the store is the harness, not what
// they test (the fakes are built without coverage tracing for the same reason).
struct PathLess {
  using is_transparent = void;
  // Eight bytes at a time (paths share long prefixes); a word read big-endian orders like
  // its bytes compared as unsigned chars, as memcmp() does.
  static int compare(std::string_view a, std::string_view b) {
    size_t n = a.size() < b.size() ? a.size() : b.size();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t x, y;
      std::memcpy(&x, a.data() + i, 8);
      std::memcpy(&y, b.data() + i, 8);
      if (x != y) return __builtin_bswap64(x) < __builtin_bswap64(y) ? -1 : 1;
    }
    for (; i < n; ++i)
      if (a[i] != b[i]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]) ? -1 : 1;
    return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
  }
  bool operator()(std::string_view a, std::string_view b) const { return compare(a, b) < 0; }
};

class FakeXenStore final : public xenio::XenStore {
 public:
  explicit FakeXenStore(xenio::DomainId own_domain = 1);
  ~FakeXenStore() override;

  // --- xenio::XenStore ---
  std::optional<std::string> read(std::string_view path, Transaction t = kNoTransaction) override;
  void write(std::string_view path, std::string_view value, Transaction t = kNoTransaction) override;
  void mkdir(std::string_view path, Transaction t = kNoTransaction) override;
  void remove(std::string_view path, Transaction t = kNoTransaction) override;
  std::optional<std::vector<std::string>> directory(std::string_view path, Transaction t = kNoTransaction) override;
  std::vector<xenio::XenStorePermission> permissions(std::string_view path, Transaction t = kNoTransaction) override;
  void set_permissions(std::string_view path, const std::vector<xenio::XenStorePermission>& perms,
                       Transaction t = kNoTransaction) override;
  Transaction begin_transaction() override;
  bool commit_transaction(Transaction t = kNoTransaction) override;
  void abort_transaction(Transaction t = kNoTransaction) override;
  void watch(std::string_view path, std::string_view token) override;
  void unwatch(std::string_view path, std::string_view token) override;
  int watch_fd() const override { return event_fd_; }
  std::optional<xenio::XenStoreWatchEvent> next_watch_event() override;
  std::string domain_path(xenio::DomainId domid) override;

  // --- test controls ---
  std::string absolute(std::string_view path) const;
  bool exists(std::string_view path) const;
  // The value, or "" when missing (for terse assertions).
  std::string value(std::string_view path) const;
  // The next `count` commits report a conflict (EAGAIN) and are discarded.
  void fail_next_commits(int count) { conflicts_to_inject_ = count; }
  int commits() const { return commits_; }
  int failed_commits() const { return failed_commits_; }
  // Called after every change that became visible (a plain write or a committed
  // transaction), with the absolute path. The hook may change the store itself.
  using ChangeHook = std::function<void(const std::string& path)>;
  void set_change_hook(ChangeHook hook) { hook_ = std::move(hook); }
  // Every visible write, in order: "path=value" or "rm path".
  const std::vector<std::string>& history() const { return history_; }
  // Every read from now on, in order, as absolute paths (each is a round trip to a real
  // xenstored). Off unless asked: the fuzz targets read through this store per input.
  void record_reads() { recording_reads_ = true; }
  const std::vector<std::string>& reads() const { return reads_; }
  // remove() calls, of present and absent nodes alike: each is a round trip to a real xenstored.
  int remove_requests() const { return remove_requests_; }
  // directory() calls, inside transactions or not.
  int directory_requests() const { return directory_requests_; }
  size_t active_watches() const { return watches_.size(); }
  size_t open_transactions() const { return transactions_.size(); }

 private:
  // Ordered by path (directory listings and subtrees are ranges); PathLess looks paths up
  // by string_view, without a copy.
  using Tree = std::map<std::string, std::string, PathLess>;  // absolute path -> value, every node
  // What a transaction changed, on top of the live tree (like xenstored since Xen 4.9, no
  // copy of the whole store per transaction: that copy was most of the fuzz targets' time).
  // A removal lists every node it removed (nullopt), so a lookup needs only its own path.
  struct OverlayNode {
    std::optional<std::string> value;  // nullopt: removed in the transaction
    bool implicit = false;             // a parent created by a write: never overwrites on commit
  };
  using Overlay = std::map<std::string, OverlayNode, PathLess>;
  struct Change {
    std::string path;   // absolute
    std::string entry;  // as in history()
  };
  struct TransactionState {
    Overlay overlay;
    std::map<std::string, uint64_t, PathLess> touched;  // path -> generation seen
    std::vector<Change> changes;  // for history and watches on commit
  };

  TransactionState* transaction(Transaction t);  // nullptr for kNoTransaction
  // The node's value as `t` sees it (the live tree for kNoTransaction), nullptr when absent.
  const std::string* find(TransactionState* t, std::string_view path) const;
  void touch(Transaction t, const std::string& path);
  void set_node(TransactionState* t, const std::string& path, std::string value);
  void remove_node(TransactionState* t, const std::string& path);
  void changed(std::string path, std::string history_entry);
  void run_hooks();

  xenio::DomainId own_domain_;
  std::string own_prefix_;  // "/local/domain/<own id>/", for relative paths
  Tree tree_;
  std::vector<std::string> reads_;
  bool recording_reads_ = false;
  std::map<std::string, uint64_t, PathLess> generation_;  // last change of each path
  uint64_t clock_ = 0;
  std::map<Transaction, TransactionState> transactions_;
  Transaction next_transaction_ = 1;
  struct WatchLess {
    bool operator()(const std::pair<std::string, std::string>& a, const std::pair<std::string, std::string>& b) const {
      int c = PathLess::compare(a.first, b.first);
      return c != 0 ? c < 0 : PathLess::compare(a.second, b.second) < 0;
    }
  };
  std::set<std::pair<std::string, std::string>, WatchLess> watches_;
  std::deque<xenio::XenStoreWatchEvent> events_;
  int event_fd_ = -1;
  int conflicts_to_inject_ = 0;
  int commits_ = 0;
  int remove_requests_ = 0;
  int directory_requests_ = 0;
  int failed_commits_ = 0;
  ChangeHook hook_;
  std::deque<std::string> pending_hooks_;
  bool in_hook_ = false;
  std::vector<std::string> history_;
};

}  // namespace xensnd::testing
