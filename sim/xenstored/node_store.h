// The XenStore tree with C xenstored's access rules. A transaction works on an overlay of the
// main store: it starts empty and takes each node from the main store when it first touches
// it (as in C xenstored, a node the transaction has not touched yet is read fresh), so an
// open transaction costs what it touched, not a copy of the store. Its AccessLog records
// every node it looked at or changed; committing fails (EAGAIN) when any of those changed in
// the main store meanwhile.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/xenstored/node_permissions.h"

namespace simxen::xs {

struct Node {
  std::string value;                  // binary-safe
  PermList perms;                     // never empty
  std::vector<std::string> children;  // in creation order, as xenstored lists them
  uint64_t generation = 0;            // changes whenever value, perms or children change
};

struct Caller {
  uint32_t domid = 0;
  bool privileged = false;
};

// A node change that may fire watches: `exact` ones (children removed with their parent)
// fire only watches on that very path, the others also fire watches above the path.
struct ChangeEvent {
  std::string path;
  bool exact = false;
  PermList perms;         // the node's permissions when it changed
  PermList old_perms;     // before a SET_PERMS (else empty)
  PermList parent_perms;  // the parent's (empty for "/")
};

struct AccessLog {
  std::map<std::string, uint64_t> seen;  // generation at first touch; 0: did not exist
  std::set<std::string> changed;
};

class NodeStore {
 public:
  NodeStore();  // "/" and "/tool/xenstored", owned by dom0, as xenstored starts
  // A transaction's overlay of `base` (which must outlive it), recording into `log` what it
  // touches.
  NodeStore(const NodeStore& base, AccessLog* log);
  NodeStore(const NodeStore&) = delete;
  NodeStore& operator=(const NodeStore&) = delete;

  // Each returns 0 or an errno value as xenstored would reply; paths are absolute & valid.
  int read(const std::string& path, const Caller& caller, std::string* value);
  int directory(const std::string& path, const Caller& caller, std::vector<std::string>* children,
                uint64_t* generation);
  int get_perms(const std::string& path, const Caller& caller, PermList* perms);
  int write(const std::string& path, std::string value, const Caller& caller,
            std::vector<ChangeEvent>* events);
  int mkdir(const std::string& path, const Caller& caller, std::vector<ChangeEvent>* events);
  int remove(const std::string& path, const Caller& caller, std::vector<ChangeEvent>* events);
  int set_perms(const std::string& path, PermList perms, const Caller& caller,
                std::vector<ChangeEvent>* events);

  // Applies a transaction's overlay, or returns EAGAIN if something it touched changed here.
  int commit(const NodeStore& overlay, const AccessLog& log);

  // Whether `caller` may see an event on `event` (xenstored's watch_permitted).
  static bool event_visible(const ChangeEvent& event, const Caller& caller);

  // The nodes this store holds: the whole tree, or for an overlay those it touched.
  size_t node_count() const { return nodes_.size(); }

 private:
  Node* lookup(const std::string& path);
  // The node as this store sees it, without recording a touch.
  const Node* peek(const std::string& path) const;
  size_t owned_by(uint32_t domid) const;
  Node& modify(Node& node, const std::string& path);
  Node* get_node(const std::string& path, const Caller& caller, unsigned need, int* error);
  int error_from_parents(const std::string& path, const Caller& caller, unsigned need, int error);
  Node* create(const std::string& path, const Caller& caller, size_t value_size, int* error);
  ChangeEvent event_for(const std::string& path, bool exact);

  std::map<std::string, Node> nodes_;
  uint64_t next_generation_ = 1;
  AccessLog* log_ = nullptr;
  const NodeStore* base_ = nullptr;
};

}  // namespace simxen::xs
