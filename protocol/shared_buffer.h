// A stream's PCM buffer shared with the backend, with the sndif page directory describing
// it: directory pages chained through gref_dir_next_page (the last one 0), each holding up
// to 1023 grant references of buffer pages. Every page, directory pages included, is
// granted read-write (snd_be maps them read-write). A generic helper: it knows nothing of
// sound beyond the directory layout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "xenio/grant_sharing.h"

namespace xensnd {

// Directory pages needed for `data_pages` buffer pages.
size_t page_directory_pages(size_t data_pages);

// Grants are 4 KiB whatever the guest's page size; this frontend allocates buffers in
// guest pages, so a guest with other pages is refused clearly. Throws FrontendError.
void require_xen_page_size(long guest_page_size);

class SharedBuffer {
 public:
  // Shares ceil(bytes / 4 KiB) zeroed pages and the directory describing them.
  // Throws FrontendError(EINVAL) for 0 bytes; xenio::XenError when granting fails.
  SharedBuffer(xenio::GrantSharer& sharer, xenio::DomainId backend, uint32_t bytes);

  std::span<std::byte> data() const { return {data_->data(), bytes_}; }
  // OPEN's gref_directory: the first directory page.
  xenio::GrantRef directory_ref() const { return directory_->refs().front(); }
  size_t data_pages() const { return data_->page_count(); }
  size_t directory_pages() const { return directory_->page_count(); }

 private:
  uint32_t bytes_;
  std::unique_ptr<xenio::SharedPages> data_;
  std::unique_ptr<xenio::SharedPages> directory_;
};

}  // namespace xensnd
