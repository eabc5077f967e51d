#include "tests/unit/fakes/fake_grants.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "xenio/error.h"

namespace xensnd::testing {

std::byte* FakeGrantTable::lookup(xenio::GrantRef ref, xenio::DomainId peer) const {
  std::lock_guard lock(mutex_);
  auto it = grants_.find(ref);
  return it == grants_.end() || it->second.peer != peer ? nullptr : it->second.page;
}

std::optional<FakeGrantTable::Grant> FakeGrantTable::grant(xenio::GrantRef ref) const {
  std::lock_guard lock(mutex_);
  auto it = grants_.find(ref);
  if (it == grants_.end()) return std::nullopt;
  return it->second;
}

size_t FakeGrantTable::live_grants() const {
  std::lock_guard lock(mutex_);
  return grants_.size();
}

xenio::GrantRef FakeGrantTable::add(std::byte* page, xenio::DomainId peer, bool writable) {
  std::lock_guard lock(mutex_);
  xenio::GrantRef ref = next_++;
  grants_[ref] = {page, peer, writable};
  return ref;
}

void FakeGrantTable::remove(xenio::GrantRef ref) {
  std::lock_guard lock(mutex_);
  grants_.erase(ref);
}

bool FakeGrantTable::would_exceed(size_t more) const {
  std::lock_guard lock(mutex_);
  return grants_.size() + more > limit_;
}

namespace {

class FakeSharedPages final : public xenio::SharedPages {
 public:
  FakeSharedPages(FakeGrantTable& table, xenio::DomainId peer, size_t count, bool writable)
      : table_(table), count_(count) {
    data_ = static_cast<std::byte*>(std::aligned_alloc(xenio::kXenPageSize, count * xenio::kXenPageSize));
    std::memset(data_, 0, count * xenio::kXenPageSize);
    for (size_t i = 0; i < count; ++i) refs_.push_back(table_.add(data_ + i * xenio::kXenPageSize, peer, writable));
  }
  ~FakeSharedPages() override {
    for (xenio::GrantRef ref : refs_) table_.remove(ref);
    std::free(data_);
  }
  std::byte* data() const override { return data_; }
  size_t page_count() const override { return count_; }
  const std::vector<xenio::GrantRef>& refs() const override { return refs_; }

 private:
  FakeGrantTable& table_;
  size_t count_;
  std::byte* data_;
  std::vector<xenio::GrantRef> refs_;
};

}  // namespace

std::unique_ptr<xenio::SharedPages> FakeGrantSharer::share(xenio::DomainId peer, size_t page_count, bool writable) {
  if (page_count == 0 || table_.would_exceed(page_count))
    throw xenio::XenError(ENOSPC, "fake gntalloc: cannot grant " + std::to_string(page_count) + " pages");
  return std::make_unique<FakeSharedPages>(table_, peer, page_count, writable);
}

}  // namespace xensnd::testing
