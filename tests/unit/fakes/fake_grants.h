// Grants in one process: a table of every shared page by grant reference, so a fake
// backend can "map" what the frontend granted. Refs start at 8 as on real Xen (0-7 are
// reserved), so a ref of 0 can never be mistaken for a page.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <optional>

#include "xenio/grant_sharing.h"

namespace xensnd::testing {

class FakeGrantTable {
 public:
  struct Grant {
    std::byte* page;
    xenio::DomainId peer;
    bool writable;
  };
  // The page a grant gives access to, or nullptr when `ref` is not granted to `peer`.
  std::byte* lookup(xenio::GrantRef ref, xenio::DomainId peer) const;
  std::optional<Grant> grant(xenio::GrantRef ref) const;
  size_t live_grants() const;
  // The next share() fails with ENOSPC once `pages` more pages would exceed this.
  void set_limit(size_t pages) { limit_ = pages; }

  // For FakeGrantSharer.
  xenio::GrantRef add(std::byte* page, xenio::DomainId peer, bool writable);
  void remove(xenio::GrantRef ref);
  bool would_exceed(size_t more) const;

 private:
  mutable std::mutex mutex_;
  std::map<xenio::GrantRef, Grant> grants_;
  xenio::GrantRef next_ = 8;
  size_t limit_ = 1024;  // gntalloc's default
};

class FakeGrantSharer final : public xenio::GrantSharer {
 public:
  explicit FakeGrantSharer(FakeGrantTable& table) : table_(table) {}
  std::unique_ptr<xenio::SharedPages> share(xenio::DomainId peer, size_t page_count, bool writable) override;

 private:
  FakeGrantTable& table_;
};

}  // namespace xensnd::testing
