#include "tests/unit/fakes/fake_xenstore.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace xensnd::testing {

namespace {
std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? std::string("/") : path.substr(0, slash);
}
bool at_or_below(const std::string& path, const std::string& top) {
  if (path == top) return true;
  if (top == "/") return true;
  return path.size() > top.size() && path.compare(0, top.size(), top) == 0 && path[top.size()] == '/';
}
}  // namespace

FakeXenStore::FakeXenStore(xenio::DomainId own_domain) : own_domain_(own_domain) {
  event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  tree_["/"] = "";
}

FakeXenStore::~FakeXenStore() { close(event_fd_); }

std::string FakeXenStore::absolute(std::string_view path) const {
  std::string p(path);
  if (p.empty() || p[0] != '/') p = "/local/domain/" + std::to_string(own_domain_) + "/" + p;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

FakeXenStore::Tree& FakeXenStore::tree_for(Transaction t) {
  if (t == kNoTransaction) return tree_;
  auto it = transactions_.find(t);
  if (it == transactions_.end()) throw xenio::XenError(ENOENT, "fake XenStore: no transaction " + std::to_string(t));
  return it->second.tree;
}

void FakeXenStore::touch(Transaction t, const std::string& path) {
  if (t == kNoTransaction) return;
  auto& touched = transactions_.at(t).touched;
  if (!touched.count(path)) {
    auto g = generation_.find(path);
    touched[path] = g == generation_.end() ? 0 : g->second;
  }
}

void FakeXenStore::set_node(Tree& tree, const std::string& path, std::string value) {
  // xenstored creates missing parents with empty values.
  for (std::string p = parent_of(path); !tree.count(p); p = parent_of(p)) tree[p] = "";
  tree[path] = std::move(value);
}

void FakeXenStore::remove_node(Tree& tree, const std::string& path) {
  for (auto it = tree.lower_bound(path); it != tree.end() && at_or_below(it->first, path);)
    it = tree.erase(it);
}

std::optional<std::string> FakeXenStore::read(std::string_view path, Transaction t) {
  std::string p = absolute(path);
  reads_.push_back(p);
  touch(t, p);
  Tree& tree = tree_for(t);
  auto it = tree.find(p);
  if (it == tree.end()) return std::nullopt;
  return it->second;
}

void FakeXenStore::write(std::string_view path, std::string_view value, Transaction t) {
  std::string p = absolute(path);
  touch(t, p);
  set_node(tree_for(t), p, std::string(value));
  std::string entry = p + "=" + std::string(value);
  if (t == kNoTransaction)
    changed(p, entry);
  else
    transactions_.at(t).changes.push_back(entry);
  run_hooks();
}

void FakeXenStore::mkdir(std::string_view path, Transaction t) {
  std::string p = absolute(path);
  if (tree_for(t).count(p)) return;
  write(path, "", t);
}

void FakeXenStore::remove(std::string_view path, Transaction t) {
  std::string p = absolute(path);
  touch(t, p);
  Tree& tree = tree_for(t);
  if (!tree.count(p)) return;
  remove_node(tree, p);
  if (t == kNoTransaction)
    changed(p, "rm " + p);
  else
    transactions_.at(t).changes.push_back("rm " + p);
  run_hooks();
}

std::optional<std::vector<std::string>> FakeXenStore::directory(std::string_view path, Transaction t) {
  std::string p = absolute(path);
  touch(t, p);
  Tree& tree = tree_for(t);
  if (!tree.count(p)) return std::nullopt;
  std::vector<std::string> children;
  std::string prefix = p == "/" ? "/" : p + "/";
  for (auto it = tree.upper_bound(p); it != tree.end() && at_or_below(it->first, p); ++it) {
    std::string rest = it->first.substr(prefix.size());
    if (rest.find('/') == std::string::npos) children.push_back(rest);
  }
  return children;
}

std::vector<xenio::XenStorePermission> FakeXenStore::permissions(std::string_view path, Transaction t) {
  if (!read(path, t)) throw xenio::XenError(ENOENT, "fake XenStore: no node " + std::string(path));
  return {{own_domain_, xenio::XenStorePermission::kNone}};
}

void FakeXenStore::set_permissions(std::string_view path, const std::vector<xenio::XenStorePermission>&,
                                   Transaction t) {
  if (!read(path, t)) throw xenio::XenError(ENOENT, "fake XenStore: no node " + std::string(path));
}

xenio::XenStore::Transaction FakeXenStore::begin_transaction() {
  Transaction t = next_transaction_++;
  transactions_[t] = TransactionState{tree_, {}, {}};
  return t;
}

bool FakeXenStore::commit_transaction(Transaction t) {
  auto it = transactions_.find(t);
  if (it == transactions_.end()) throw xenio::XenError(ENOENT, "fake XenStore: no transaction");
  TransactionState state = std::move(it->second);
  transactions_.erase(it);
  bool conflict = false;
  for (const auto& [path, seen] : state.touched) {
    auto g = generation_.find(path);
    if ((g == generation_.end() ? 0 : g->second) != seen) conflict = true;
  }
  if (conflicts_to_inject_ > 0) {
    --conflicts_to_inject_;
    conflict = true;
  }
  if (conflict) {
    ++failed_commits_;
    return false;
  }
  ++commits_;
  tree_ = std::move(state.tree);
  for (const std::string& entry : state.changes) {
    std::string path = entry.rfind("rm ", 0) == 0 ? entry.substr(3) : entry.substr(0, entry.find('='));
    changed(path, entry);
  }
  run_hooks();
  return true;
}

void FakeXenStore::abort_transaction(Transaction t) { transactions_.erase(t); }

void FakeXenStore::watch(std::string_view path, std::string_view token) {
  watches_.insert({absolute(path), std::string(token)});
  // xenstored fires every new watch once.
  events_.push_back({std::string(path), std::string(token)});
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(event_fd_, &one, sizeof one);
}

void FakeXenStore::unwatch(std::string_view path, std::string_view token) {
  watches_.erase({absolute(path), std::string(token)});
}

std::optional<xenio::XenStoreWatchEvent> FakeXenStore::next_watch_event() {
  if (events_.empty()) {
    uint64_t drained;
    [[maybe_unused]] ssize_t n = ::read(event_fd_, &drained, sizeof drained);
    return std::nullopt;
  }
  xenio::XenStoreWatchEvent event = events_.front();
  events_.pop_front();
  if (events_.empty()) {
    uint64_t drained;
    [[maybe_unused]] ssize_t n = ::read(event_fd_, &drained, sizeof drained);
  }
  return event;
}

std::string FakeXenStore::domain_path(xenio::DomainId domid) {
  return "/local/domain/" + std::to_string(domid);
}

bool FakeXenStore::exists(std::string_view path) const { return tree_.count(absolute(path)) != 0; }

std::string FakeXenStore::value(std::string_view path) const {
  auto it = tree_.find(absolute(path));
  return it == tree_.end() ? std::string() : it->second;
}

void FakeXenStore::changed(const std::string& path, const std::string& history_entry) {
  generation_[path] = ++clock_;
  // A removal or a parent's creation also changes what transactions saw below/above.
  for (auto& [p, g] : generation_)
    if (at_or_below(p, path) || at_or_below(path, p)) g = clock_;
  history_.push_back(history_entry);
  bool fired = false;
  for (const auto& [watched, token] : watches_) {
    if (at_or_below(path, watched) || at_or_below(watched, path)) {
      events_.push_back({path, token});
      fired = true;
    }
  }
  if (fired) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(event_fd_, &one, sizeof one);
  }
  pending_hooks_.push_back(path);
}

void FakeXenStore::run_hooks() {
  if (in_hook_) return;  // changes made by a hook are delivered by the outer loop
  in_hook_ = true;
  while (!pending_hooks_.empty()) {
    std::string path = pending_hooks_.front();
    pending_hooks_.pop_front();
    if (hook_) hook_(path);
  }
  in_hook_ = false;
}

}  // namespace xensnd::testing
