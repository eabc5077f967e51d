#include "tests/unit/fakes/fake_xenstore.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

namespace xensnd::testing {

namespace {
// Views, not copies: the store walks up from a path on every write and change.
std::string_view parent_of(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string_view::npos ? std::string_view("/") : path.substr(0, slash);
}
bool equal(std::string_view a, std::string_view b) { return PathLess::compare(a, b) == 0; }
bool at_or_below(std::string_view path, std::string_view top) {
  if (equal(top, "/")) return true;
  if (path.size() < top.size() || !equal(path.substr(0, top.size()), top)) return false;
  return path.size() == top.size() || path[top.size()] == '/';
}
// The entries of a path-ordered map strictly below `path`: those starting with "<path>/",
// which sort together, up to "<path>0" ('0' follows '/'). A walk on from `path` while
// at_or_below() holds would stop early at a sibling such as "<path> " or "<path>!", which
// sort between "<path>" and "<path>/" (the fuzz targets write such names).
template <typename Map>
auto below(Map& map, std::string_view path) {
  thread_local std::string key;  // reused: no allocation per call
  key.assign(path == "/" ? std::string_view() : path);
  key += '/';
  auto first = map.lower_bound(key);
  if (first != map.end() && equal(first->first, path)) ++first;  // "/" itself
  key.back() = '0';
  return std::pair{first, map.lower_bound(key)};
}
}  // namespace

FakeXenStore::FakeXenStore(xenio::DomainId own_domain)
    : own_domain_(own_domain), own_prefix_("/local/domain/" + std::to_string(own_domain) + "/") {
  event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  tree_["/"] = "";
}

FakeXenStore::~FakeXenStore() { close(event_fd_); }

std::string FakeXenStore::absolute(std::string_view path) const {
  // Built in one allocation: every call of the interface starts here.
  std::string p;
  bool relative = path.empty() || path[0] != '/';
  p.reserve((relative ? own_prefix_.size() : 0) + path.size());
  if (relative) p = own_prefix_;
  p += path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

FakeXenStore::TransactionState* FakeXenStore::transaction(Transaction t) {
  if (t == kNoTransaction) return nullptr;
  auto it = transactions_.find(t);
  if (it == transactions_.end()) throw xenio::XenError(ENOENT, "fake XenStore: no transaction " + std::to_string(t));
  return &it->second;
}

const std::string* FakeXenStore::find(TransactionState* t, std::string_view path) const {
  if (t) {
    auto o = t->overlay.find(path);
    if (o != t->overlay.end()) return o->second.value ? &*o->second.value : nullptr;
  }
  auto it = tree_.find(path);
  return it == tree_.end() ? nullptr : &it->second;
}

void FakeXenStore::touch(Transaction t, const std::string& path) {
  TransactionState* state = transaction(t);
  if (!state) return;
  auto [seen, first_touch] = state->touched.try_emplace(path, 0);
  if (first_touch) {
    auto g = generation_.find(path);
    seen->second = g == generation_.end() ? 0 : g->second;
  }
}

void FakeXenStore::set_node(TransactionState* t, const std::string& path, std::string value) {
  // xenstored creates missing parents with empty values.
  if (!t) {
    for (std::string_view p = parent_of(path); !tree_.contains(p); p = parent_of(p)) tree_.emplace(p, "");
    tree_.insert_or_assign(path, std::move(value));
    return;
  }
  // A parent absent from the live tree too is implicit; one this transaction removed is
  // re-created (empty) on commit.
  for (std::string_view p = parent_of(path); !find(t, p); p = parent_of(p)) {
    auto [node, implicit] = t->overlay.try_emplace(std::string(p));
    node->second = {std::string(), implicit};
  }
  t->overlay.insert_or_assign(path, OverlayNode{std::move(value), false});
}

void FakeXenStore::remove_node(TransactionState* t, const std::string& path) {
  if (!t) {
    if (auto it = tree_.find(path); it != tree_.end()) tree_.erase(it);
    auto [first, last] = below(tree_, path);
    tree_.erase(first, last);
    return;
  }
  // Every node at or below `path` the transaction sees, live or its own, is marked removed.
  t->overlay.insert_or_assign(path, OverlayNode{std::nullopt, false});
  for (auto [it, last] = below(tree_, path); it != last; ++it)
    t->overlay.insert_or_assign(it->first, OverlayNode{std::nullopt, false});
  for (auto [it, last] = below(t->overlay, path); it != last; ++it) it->second = {std::nullopt, false};
}

std::optional<std::string> FakeXenStore::read(std::string_view path, Transaction t) {
  std::string p = absolute(path);
  if (recording_reads_) reads_.push_back(p);
  touch(t, p);
  const std::string* value = find(transaction(t), p);
  if (!value) return std::nullopt;
  return *value;
}

void FakeXenStore::write(std::string_view path, std::string_view value, Transaction t) {
  std::string p = absolute(path);
  touch(t, p);
  TransactionState* state = transaction(t);
  set_node(state, p, std::string(value));
  std::string entry;
  entry.reserve(p.size() + 1 + value.size());
  entry.append(p).append(1, '=').append(value);
  if (!state)
    changed(std::move(p), std::move(entry));
  else
    state->changes.push_back({std::move(p), std::move(entry)});
  run_hooks();
}

void FakeXenStore::mkdir(std::string_view path, Transaction t) {
  std::string p = absolute(path);
  if (find(transaction(t), p)) return;
  write(path, "", t);
}

void FakeXenStore::remove(std::string_view path, Transaction t) {
  ++remove_requests_;
  std::string p = absolute(path);
  touch(t, p);
  TransactionState* state = transaction(t);
  if (!find(state, p)) return;
  remove_node(state, p);
  std::string entry = "rm " + p;
  if (!state)
    changed(std::move(p), std::move(entry));
  else
    state->changes.push_back({std::move(p), std::move(entry)});
  run_hooks();
}

std::optional<std::vector<std::string>> FakeXenStore::directory(std::string_view path, Transaction t) {
  ++directory_requests_;
  std::string p = absolute(path);
  touch(t, p);
  TransactionState* state = transaction(t);
  if (!find(state, p)) return std::nullopt;
  std::vector<std::string> children;
  const size_t skip = p == "/" ? 1 : p.size() + 1;
  auto add_child = [&](const std::string& node) {
    if (node.find('/', skip) == std::string::npos) children.push_back(node.substr(skip));
  };
  for (auto [it, last] = below(tree_, p); it != last; ++it)
    if (!state || !state->overlay.count(it->first)) add_child(it->first);
  if (state) {
    for (auto [it, last] = below(state->overlay, p); it != last; ++it)
      if (it->second.value) add_child(it->first);
    std::sort(children.begin(), children.end());  // as one ordered tree would list them
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
  transactions_[t] = TransactionState{};
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
  // Parents first (a path sorts before the paths below it).
  for (auto& [path, node] : state.overlay) {
    if (!node.value) {
      remove_node(nullptr, path);
      continue;
    }
    for (std::string_view p = parent_of(path); !tree_.contains(p); p = parent_of(p)) tree_.emplace(p, "");
    if (node.implicit)
      tree_.emplace(path, "");  // a node created outside meanwhile keeps its value
    else
      tree_[path] = std::move(*node.value);
  }
  for (Change& change : state.changes) changed(std::move(change.path), std::move(change.entry));
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

void FakeXenStore::changed(std::string path, std::string history_entry) {
  generation_.insert_or_assign(path, ++clock_);
  // A removal or a parent's creation also changes what transactions saw below/above: the
  // ancestors and descendants that have a generation (looked up, not a scan of them all).
  for (std::string_view p = path; !equal(p, "/");) {
    p = parent_of(p);
    if (auto g = generation_.find(p); g != generation_.end()) g->second = clock_;
  }
  for (auto [it, last] = below(generation_, path); it != last; ++it) it->second = clock_;
  history_.push_back(std::move(history_entry));
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
  pending_hooks_.push_back(std::move(path));
}

void FakeXenStore::run_hooks() {
  if (in_hook_) return;  // changes made by a hook are delivered by the outer loop
  in_hook_ = true;
  while (!pending_hooks_.empty()) {
    std::string path = std::move(pending_hooks_.front());
    pending_hooks_.pop_front();
    if (hook_) hook_(path);
  }
  in_hook_ = false;
}

}  // namespace xensnd::testing
