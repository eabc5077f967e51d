// Maps a stream's PCM buffer from the page directory OPEN names (sndif.h's
// xensnd_page_directory chain). The walk is bounded by buffer_sz: it reads exactly as many
// directory pages and references as the buffer needs, so a looping or endless chain from the
// frontend cannot make it run away.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>

#include "xenio/grant_sharing.h"

namespace xensnd::backend {

class PageDirectoryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Pages of the buffer (rounded up) for `buffer_bytes`.
inline uint32_t buffer_page_count(uint32_t buffer_bytes) {
  return static_cast<uint32_t>((uint64_t{buffer_bytes} + xenio::kXenPageSize - 1) / xenio::kXenPageSize);
}

// Reads the directory granted by `frontend` starting at `directory_ref` and maps the whole
// buffer read-write as one contiguous range. Throws PageDirectoryError when the chain ends
// early (a 0 reference) and xenio::XenError when a grant cannot be mapped.
std::unique_ptr<xenio::MappedPages> map_pcm_buffer(xenio::GrantMapper& mapper, xenio::DomainId frontend,
                                                   xenio::GrantRef directory_ref, uint32_t buffer_bytes);

}  // namespace xensnd::backend
