#include "backend/page_directory.h"

#include <cstring>
#include <string>
#include <vector>

#include "protocol/sndif_abi.h"

namespace xensnd::backend {

std::unique_ptr<xenio::MappedPages> map_pcm_buffer(xenio::GrantMapper& mapper, xenio::DomainId frontend,
                                                   xenio::GrantRef directory_ref, uint32_t buffer_bytes) {
  const uint32_t pages = buffer_page_count(buffer_bytes);
  if (pages == 0) throw PageDirectoryError("buffer_sz is 0");
  std::vector<xenio::GrantRef> refs;
  refs.reserve(pages);
  xenio::GrantRef next = directory_ref;
  size_t directory_pages = 0;
  while (refs.size() < pages) {
    if (next == 0)
      throw PageDirectoryError("page directory ends after " + std::to_string(refs.size()) + " of " +
                               std::to_string(pages) + " buffer pages");
    xenio::GrantRef this_page = next;
    // Copied out before use: the frontend can change its page while we read it.
    xensnd_page_directory* shared = nullptr;
    std::vector<grant_ref_t> copy(abi::kXenPageSize / sizeof(grant_ref_t));
    {
      auto mapped = mapper.map(frontend, std::span(&this_page, 1), false);
      shared = reinterpret_cast<xensnd_page_directory*>(mapped->data());
      std::memcpy(copy.data(), shared, abi::kXenPageSize);
    }
    ++directory_pages;
    next = copy[0];  // gref_dir_next_page
    size_t wanted = pages - refs.size();
    size_t here = wanted < abi::kRefsPerDirectoryPage ? wanted : abi::kRefsPerDirectoryPage;
    for (size_t i = 0; i < here; ++i) {
      grant_ref_t ref = copy[1 + i];
      if (ref == 0)
        throw PageDirectoryError("page directory page " + std::to_string(directory_pages) +
                                 " (grant " + std::to_string(this_page) + ") ends after " +
                                 std::to_string(refs.size()) + " of " + std::to_string(pages) +
                                 " buffer pages");
      refs.push_back(ref);
    }
  }
  return mapper.map(frontend, refs, true);
}

}  // namespace xensnd::backend
