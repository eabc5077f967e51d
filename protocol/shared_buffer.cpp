#include "protocol/shared_buffer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "protocol/errors.h"
#include "protocol/sndif_abi.h"

namespace xensnd {

static_assert(xenio::kXenPageSize == abi::kXenPageSize);

size_t page_directory_pages(size_t data_pages) {
  return (data_pages + abi::kRefsPerDirectoryPage - 1) / abi::kRefsPerDirectoryPage;
}

void require_xen_page_size(long guest_page_size) {
  if (guest_page_size != static_cast<long>(abi::kXenPageSize))
    throw FrontendError(ENOTSUP, "this guest uses " + std::to_string(guest_page_size) +
                                     "-byte pages; xensnd supports only 4096-byte pages, the size "
                                     "of a Xen grant");
}

SharedBuffer::SharedBuffer(xenio::GrantSharer& sharer, xenio::DomainId backend, uint32_t bytes)
    : bytes_(bytes) {
  if (bytes == 0) throw FrontendError(EINVAL, "a stream buffer of 0 bytes");
  size_t pages = (size_t{bytes} + abi::kXenPageSize - 1) / abi::kXenPageSize;
  data_ = sharer.share(backend, pages, /*writable=*/true);
  directory_ = sharer.share(backend, page_directory_pages(pages), /*writable=*/true);

  const std::vector<xenio::GrantRef>& data_refs = data_->refs();
  const std::vector<xenio::GrantRef>& dir_refs = directory_->refs();
  for (size_t d = 0; d < dir_refs.size(); ++d) {
    std::byte* page = directory_->data() + d * abi::kXenPageSize;
    grant_ref_t next = d + 1 < dir_refs.size() ? dir_refs[d + 1] : 0;
    std::memcpy(page + offsetof(xensnd_page_directory, gref_dir_next_page), &next, sizeof next);
    // gref is declared [1] but fills the page: address it through the page, not the member.
    size_t first = d * abi::kRefsPerDirectoryPage;
    size_t count = std::min(abi::kRefsPerDirectoryPage, data_refs.size() - first);
    for (size_t i = 0; i < count; ++i) {
      grant_ref_t ref = data_refs[first + i];
      std::memcpy(page + offsetof(xensnd_page_directory, gref) + i * sizeof ref, &ref, sizeof ref);
    }
  }
}

}  // namespace xensnd
