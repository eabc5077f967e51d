#include "sim/xenstored/node_store.h"

#include <algorithm>
#include <cerrno>

#include "sim/xenstored/store_path.h"

namespace simxen::xs {

namespace {

// C xenstored's default quotas for unprivileged domains (quota-nb-entry-per-domain and
// quota-max-entry-size): a guest hitting them gets ENOSPC, here as on Xen.
constexpr size_t kGuestNodeLimit = 1000;
constexpr size_t kGuestEntrySizeLimit = 2048;

// The size of the node's record in xenstored's database: header, permissions, value, children.
size_t entry_size(const Node& node) {
  size_t size = 24 + 8 * node.perms.size() + node.value.size();
  for (const auto& child : node.children) size += child.size() + 1;
  return size;
}

}  // namespace

NodeStore::NodeStore() {
  const PermList dom0_only{{0, kNone}};
  nodes_["/"] = Node{"", dom0_only, {"tool"}, next_generation_++};
  nodes_["/tool"] = Node{"", dom0_only, {"xenstored"}, next_generation_++};
  nodes_["/tool/xenstored"] = Node{"", dom0_only, {}, next_generation_++};
}

NodeStore::NodeStore(const NodeStore& base, AccessLog* log)
    : next_generation_(base.next_generation_), log_(log), base_(&base) {}

const Node* NodeStore::peek(const std::string& path) const {
  const std::map<std::string, Node>& from =
      (log_ && base_ && !log_->seen.count(path)) ? base_->nodes_ : nodes_;
  auto it = from.find(path);
  return it == from.end() ? nullptr : &it->second;
}

size_t NodeStore::owned_by(uint32_t domid) const {
  auto owns = [domid](const Node& node) { return node.perms[0].domid == domid; };
  if (!base_ || !log_) {
    size_t owned = 0;
    for (const auto& [name, node] : nodes_) owned += owns(node);
    return owned;
  }
  // The base's count, with every node the overlay touched counted as the overlay has it
  // (each node the overlay holds was touched, so it is in the log).
  size_t owned = base_->owned_by(domid);
  for (const auto& [path, generation] : log_->seen) {
    if (auto theirs = base_->nodes_.find(path); theirs != base_->nodes_.end() && owns(theirs->second)) --owned;
    if (auto ours = nodes_.find(path); ours != nodes_.end() && owns(ours->second)) ++owned;
  }
  return owned;
}

Node* NodeStore::lookup(const std::string& path) {
  if (log_ && base_ && !log_->seen.count(path)) {
    // First touch: the transaction sees the node as it is now, not as it was at the start.
    auto theirs = base_->nodes_.find(path);
    if (theirs == base_->nodes_.end())
      nodes_.erase(path);
    else
      nodes_[path] = theirs->second;
  }
  auto it = nodes_.find(path);
  Node* node = it == nodes_.end() ? nullptr : &it->second;
  if (log_) log_->seen.try_emplace(path, node ? node->generation : 0);
  return node;
}

Node& NodeStore::modify(Node& node, const std::string& path) {
  if (log_) log_->changed.insert(path);
  node.generation = next_generation_++;
  return node;
}

int NodeStore::error_from_parents(const std::string& path, const Caller& caller, unsigned need,
                                  int error) {
  // Like xenstored: a failure must not tell a domain more than the nearest existing
  // ancestor would let it see.
  std::string name = path;
  const Node* ancestor = nullptr;
  while (!ancestor && name != "/") {
    name = parent_of(name);
    ancestor = lookup(name);
  }
  if (!ancestor) return EACCES;
  return (access_for(ancestor->perms, caller.domid, caller.privileged) & need) ? error : EACCES;
}

Node* NodeStore::get_node(const std::string& path, const Caller& caller, unsigned need,
                          int* error) {
  Node* node = lookup(path);
  if (node && (access_for(node->perms, caller.domid, caller.privileged) & need) == need) return node;
  *error = error_from_parents(path, caller, need, node ? EACCES : ENOENT);
  return nullptr;
}

ChangeEvent NodeStore::event_for(const std::string& path, bool exact) {
  ChangeEvent event{path, exact, {}, {}, {}};
  if (const Node* node = peek(path)) event.perms = node->perms;
  if (path != "/")
    if (const Node* parent = peek(parent_of(path))) event.parent_perms = parent->perms;
  return event;
}

Node* NodeStore::create(const std::string& path, const Caller& caller, size_t value_size, int* error) {
  std::vector<std::string> missing{path};
  Node* parent = nullptr;
  while (!parent) {
    std::string name = parent_of(missing.back());
    parent = lookup(name);
    if (!parent) missing.push_back(name);
  }
  if (!caller.privileged) {
    size_t owned = owned_by(caller.domid);
    // Checked before anything changes, so a refused write leaves no half-made path behind.
    if (owned + missing.size() > kGuestNodeLimit ||
        entry_size(*parent) + basename_of(missing.back()).size() + 1 >= kGuestEntrySizeLimit ||
        24 + 8 * parent->perms.size() + value_size >= kGuestEntrySizeLimit) {
      *error = ENOSPC;
      return nullptr;
    }
  }
  std::string parent_name = parent_of(missing.back());
  Node* node = nullptr;
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    modify(*parent, parent_name).children.push_back(basename_of(*it));
    Node fresh;
    fresh.perms = parent->perms;  // inherited; unprivileged domains own what they create
    if (!caller.privileged) fresh.perms[0].domid = caller.domid;
    lookup(*it);
    node = &nodes_.emplace(*it, std::move(fresh)).first->second;
    modify(*node, *it);
    parent = node;
    parent_name = *it;
  }
  return node;
}

int NodeStore::read(const std::string& path, const Caller& caller, std::string* value) {
  int error = 0;
  Node* node = get_node(path, caller, kRead, &error);
  if (!node) return error;
  *value = node->value;
  return 0;
}

int NodeStore::directory(const std::string& path, const Caller& caller,
                         std::vector<std::string>* children, uint64_t* generation) {
  int error = 0;
  Node* node = get_node(path, caller, kRead, &error);
  if (!node) return error;
  *children = node->children;
  if (generation) *generation = node->generation;
  return 0;
}

int NodeStore::get_perms(const std::string& path, const Caller& caller, PermList* perms) {
  int error = 0;
  Node* node = get_node(path, caller, kRead, &error);
  if (!node) return error;
  *perms = node->perms;
  return 0;
}

int NodeStore::write(const std::string& path, std::string value, const Caller& caller,
                     std::vector<ChangeEvent>* events) {
  int error = 0;
  Node* node = get_node(path, caller, kWrite, &error);
  if (!node) {
    if (error != ENOENT) return error;
    node = create(path, caller, value.size(), &error);
    if (!node) return error;
  }
  if (!caller.privileged) {
    Node resized = *node;
    resized.value = value;
    if (entry_size(resized) >= kGuestEntrySizeLimit) return ENOSPC;
  }
  modify(*node, path).value = std::move(value);
  events->push_back(event_for(path, false));
  return 0;
}

int NodeStore::mkdir(const std::string& path, const Caller& caller,
                     std::vector<ChangeEvent>* events) {
  int error = 0;
  if (get_node(path, caller, kWrite, &error)) return 0;  // already there: fine
  if (error != ENOENT) return error;
  if (!create(path, caller, 0, &error)) return error;
  events->push_back(event_for(path, false));
  return 0;
}

int NodeStore::remove(const std::string& path, const Caller& caller,
                      std::vector<ChangeEvent>* events) {
  int error = 0;
  Node* node = get_node(path, caller, kWrite, &error);
  if (!node) {
    // Removing what is not there is fine when its parent exists.
    if (error == ENOENT && path != "/" && lookup(parent_of(path))) return 0;
    return error;
  }
  if (path == "/") return EINVAL;
  // Children first, each firing only watches on itself; the top node fires as a write does.
  std::vector<std::string> doomed;
  std::vector<std::string> pending{path};
  while (!pending.empty()) {
    std::string name = pending.back();
    pending.pop_back();
    doomed.push_back(name);
    if (Node* n = lookup(name))
      for (const auto& child : n->children) pending.push_back(child_path(name, child));
  }
  std::reverse(doomed.begin(), doomed.end());
  for (const auto& name : doomed) {
    events->push_back(event_for(name, name != path));
    if (log_) log_->changed.insert(name);
    nodes_.erase(name);
  }
  std::string parent_name = parent_of(path);
  if (Node* parent = lookup(parent_name)) {
    auto& kids = modify(*parent, parent_name).children;
    kids.erase(std::remove(kids.begin(), kids.end(), basename_of(path)), kids.end());
  }
  return 0;
}

int NodeStore::set_perms(const std::string& path, PermList perms, const Caller& caller,
                         std::vector<ChangeEvent>* events) {
  int error = 0;
  Node* node = get_node(path, caller, kWrite, &error);
  if (!node) return error;
  // Only the owner (or a privileged domain) may change permissions, and a guest may not
  // give its node away.
  if (!caller.privileged && node->perms[0].domid != caller.domid) return EACCES;
  if (!caller.privileged && perms[0].domid != node->perms[0].domid) return EPERM;
  PermList old = node->perms;
  modify(*node, path).perms = std::move(perms);
  ChangeEvent event = event_for(path, false);
  event.old_perms = std::move(old);
  events->push_back(std::move(event));
  return 0;
}

int NodeStore::commit(const NodeStore& overlay, const AccessLog& log) {
  for (const auto& [path, generation] : log.seen) {
    auto it = nodes_.find(path);
    uint64_t now = it == nodes_.end() ? 0 : it->second.generation;
    if (now != generation) return EAGAIN;
  }
  for (const auto& path : log.changed) {
    auto theirs = overlay.nodes_.find(path);
    if (theirs == overlay.nodes_.end()) {
      nodes_.erase(path);
    } else {
      Node& ours = nodes_[path];
      ours = theirs->second;
      ours.generation = next_generation_++;
    }
  }
  return 0;
}

bool NodeStore::event_visible(const ChangeEvent& event, const Caller& caller) {
  if (event.path.front() == '@') return caller.privileged;
  auto readable = [&](const PermList& perms) {
    return !perms.empty() && (access_for(perms, caller.domid, caller.privileged) & kRead);
  };
  return readable(event.perms) || readable(event.old_perms) || readable(event.parent_perms);
}

}  // namespace simxen::xs
