// Granting pages of our memory to another domain (libxengnttab's xengntshr_* side), and
// mapping pages another domain granted to us (xengnttab_* side, used by backends).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "xenio/xenstore.h"  // DomainId

namespace xenio {

using GrantRef = uint32_t;
inline constexpr size_t kXenPageSize = 4096;  // XEN_PAGE_SIZE: grants are always 4 KiB

// Pages we allocated and granted. The grants are revoked and the memory freed when this
// object is destroyed.
class SharedPages {
 public:
  virtual ~SharedPages() = default;
  virtual std::byte* data() const = 0;
  virtual size_t page_count() const = 0;
  // One grant reference per page, in page order.
  virtual const std::vector<GrantRef>& refs() const = 0;
  size_t size_bytes() const { return page_count() * kXenPageSize; }
};

class GrantSharer {
 public:
  virtual ~GrantSharer() = default;
  // Allocates `page_count` zeroed, contiguous pages and grants each to `peer`.
  virtual std::unique_ptr<SharedPages> share(DomainId peer, size_t page_count, bool writable) = 0;
};

// Pages of another domain mapped into our address space, unmapped on destruction.
class MappedPages {
 public:
  virtual ~MappedPages() = default;
  virtual std::byte* data() const = 0;
  virtual size_t page_count() const = 0;
  size_t size_bytes() const { return page_count() * kXenPageSize; }
};

class GrantMapper {
 public:
  virtual ~GrantMapper() = default;
  // Maps the pages `refs` granted by `granter` as one contiguous range.
  virtual std::unique_ptr<MappedPages> map(DomainId granter, std::span<const GrantRef> refs,
                                           bool writable) = 0;
};

// Real libxengnttab. Errors name the device node (/dev/xen/gntalloc, /dev/xen/gntdev).
std::unique_ptr<GrantSharer> open_grant_sharer();
std::unique_ptr<GrantMapper> open_grant_mapper();

}  // namespace xenio
