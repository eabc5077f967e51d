// A frontend's granted pages as the reference backend sees them through GrantMapper: a few
// numbered 4 KiB pages whose contents come from the fuzz input. A mapping of small ranges is
// a private copy (what the backend reads); a large range is not materialised (its memory
// is never touched by the page-directory walk, and the fuzzer must not allocate gigabytes).
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <vector>

#include "xenio/error.h"
#include "xenio/grant_sharing.h"

namespace xensnd::fuzz {

class FrontendPages final : public xenio::GrantMapper {
 public:
  static constexpr size_t kMaterialisedPages = 256;

  std::vector<std::byte>& page(xenio::GrantRef ref) {
    auto& p = pages_[ref];
    p.resize(xenio::kXenPageSize);
    return p;
  }
  // Remembers the last reference found: a buffer's references mostly repeat (fill_pages),
  // and pages are never removed, so a reference once found stays granted.
  bool has(xenio::GrantRef ref) const {
    if (found_valid_ && ref == found_) return true;
    if (pages_.count(ref) == 0) return false;
    found_ = ref;
    found_valid_ = true;
    return true;
  }

  std::unique_ptr<xenio::MappedPages> map(xenio::DomainId, std::span<const xenio::GrantRef> refs,
                                          bool writable) override {
    maps.push_back({std::vector<xenio::GrantRef>(refs.begin(), refs.end()), writable});
    auto mapped = std::make_unique<Mapped>();
    mapped->pages = refs.size();
    for (xenio::GrantRef ref : refs)
      if (!has(ref)) throw xenio::XenError(EINVAL, "no grant " + std::to_string(ref));
    if (refs.size() <= kMaterialisedPages) {
      mapped->bytes.resize(refs.size() * xenio::kXenPageSize);
      for (size_t i = 0; i < refs.size(); ++i)
        std::memcpy(mapped->bytes.data() + i * xenio::kXenPageSize, pages_.at(refs[i]).data(), xenio::kXenPageSize);
    }
    return mapped;
  }

  struct Map {
    std::vector<xenio::GrantRef> refs;
    bool writable;
  };
  std::vector<Map> maps;

 private:
  struct Mapped final : xenio::MappedPages {
    std::vector<std::byte> bytes;
    size_t pages = 0;
    std::byte* data() const override { return bytes.empty() ? nullptr : const_cast<std::byte*>(bytes.data()); }
    size_t page_count() const override { return pages; }
  };
  std::map<xenio::GrantRef, std::vector<std::byte>> pages_;
  mutable xenio::GrantRef found_ = 0;
  mutable bool found_valid_ = false;
};

// Fills `pages` with directory-like pages: references mostly among `first..first+count`, a
// next-page reference, zeros now and then.
inline void fill_pages(FuzzedDataProvider& in, FrontendPages& pages, xenio::GrantRef first, uint32_t count) {
  for (uint32_t n = 0; n < count; ++n) {
    auto& page = pages.page(first + n);
    auto ref = [&]() -> uint32_t {
      switch (in.ConsumeIntegralInRange<int>(0, 7)) {
        case 0: return 0;
        case 1: return in.ConsumeIntegral<uint32_t>();
        default: return first + in.ConsumeIntegralInRange<uint32_t>(0, count);
      }
    };
    uint32_t entries = in.ConsumeIntegralInRange<uint32_t>(0, 12);
    uint32_t next = ref();
    std::memcpy(page.data(), &next, 4);
    for (uint32_t i = 0; i < entries; ++i) {
      uint32_t r = ref();
      std::memcpy(page.data() + 4 + 4 * i, &r, 4);
    }
    // The rest of the page repeats its first entry: a long chain needs no long input.
    // (Copied in doubling blocks: a loop per entry was a quarter of the target's time.)
    const size_t total = xenio::kXenPageSize / 4;
    const size_t start = 1 + entries;  // the first repeated slot
    if (start < total) {
      uint32_t first_entry;
      std::memcpy(&first_entry, page.data() + 4, 4);
      std::memcpy(page.data() + 4 * start, &first_entry, 4);
      for (size_t filled = start + 1; filled < total;) {
        size_t n = std::min(filled - start, total - filled);  // [start, filled) is all first_entry
        std::memcpy(page.data() + 4 * filled, page.data() + 4 * start, 4 * n);
        filled += n;
      }
    }
  }
}

}  // namespace xensnd::fuzz
