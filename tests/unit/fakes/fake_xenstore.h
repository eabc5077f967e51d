// An in-memory XenStore with xenstored's semantics where protocol/ depends on them:
// relative paths under /local/domain/<own id>, parents created on write, transactions that
// fail with a conflict when a node they touched changed outside them, watches that fire on
// registration and on every change at or below the watched path, a pollable watch fd.
// Tests can inject commit conflicts and react to writes (a scripted backend).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <deque>

#include "xenio/xenstore.h"

namespace xensnd::testing {

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
  // Every read, in order, as absolute paths (each is a round trip to a real xenstored).
  const std::vector<std::string>& reads() const { return reads_; }
  size_t active_watches() const { return watches_.size(); }
  size_t open_transactions() const { return transactions_.size(); }

 private:
  using Tree = std::map<std::string, std::string>;  // absolute path -> value, every node
  struct TransactionState {
    Tree tree;                         // private copy
    std::map<std::string, uint64_t> touched;  // path -> generation seen
    std::vector<std::string> changes;  // for history and watches on commit
  };

  Tree& tree_for(Transaction t);
  void touch(Transaction t, const std::string& path);
  void set_node(Tree& tree, const std::string& path, std::string value);
  void remove_node(Tree& tree, const std::string& path);
  void changed(const std::string& path, const std::string& history_entry);
  void run_hooks();

  xenio::DomainId own_domain_;
  Tree tree_;
  std::vector<std::string> reads_;
  std::map<std::string, uint64_t> generation_;  // last change of each path
  uint64_t clock_ = 0;
  std::map<Transaction, TransactionState> transactions_;
  Transaction next_transaction_ = 1;
  std::set<std::pair<std::string, std::string>> watches_;
  std::deque<xenio::XenStoreWatchEvent> events_;
  int event_fd_ = -1;
  int conflicts_to_inject_ = 0;
  int commits_ = 0;
  int failed_commits_ = 0;
  ChangeHook hook_;
  std::deque<std::string> pending_hooks_;
  bool in_hook_ = false;
  std::vector<std::string> history_;
};

}  // namespace xensnd::testing
