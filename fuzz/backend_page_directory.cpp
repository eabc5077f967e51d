// The reference backend's page-directory walk (map_pcm_buffer) over directory pages a
// frontend wrote as it liked: chains that loop, end early (a 0 next or entry), name
// references that were never granted, for buffers of up to kMaxDirectoryPages directory
// pages (and the page count of every buffer_sz up to 4 GiB).
//
// Why the walk is capped at kMaxDirectoryPages (32) directory pages (~128 MiB) rather than
// 4 GiB (1025 pages, a million references): map_pcm_buffer's loop is linear and the same
// for every directory page (copy the page, take min(wanted, 1023) entries, follow the next
// reference); nothing in it depends on the size but the count of iterations and the last
// page's partial length. 32 directory pages are more than the 12 distinct pages a chain
// can be made of, so chains still loop and revisit pages, and every boundary (k * 1023
// references, +-1, k <= 32) stays reachable. The only arithmetic on the full 32-bit size,
// buffer_page_count(), is checked on the value the input gave before it is folded into
// the cap. The uncapped walk cost milliseconds per input (a million references pushed,
// compared and looked up) and kept the target at a few hundred inputs a second.
//
// Checked against an independent walk: the buffer mapped is exactly the references the
// directory names, in order, ceil(buffer_sz / 4096) of them, writable; only the directory
// pages the buffer needs are read (read-only), however long or looping the chain; a chain
// that ends early is a PageDirectoryError and an unknown reference a XenError, nothing else.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstring>
#include <optional>

#include "backend/page_directory.h"
#include "fuzz/frontend_pages.h"
#include "fuzz/fuzz_check.h"
#include "protocol/sndif_abi.h"

namespace {
constexpr uint32_t kMaxDirectoryPages = 32;
constexpr uint32_t kMaxBufferBytes = kMaxDirectoryPages * xensnd::abi::kRefsPerDirectoryPage * 4096;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  xensnd::fuzz::FrontendPages pages;
  constexpr xenio::GrantRef kFirst = 8;
  uint32_t count = in.ConsumeIntegralInRange<uint32_t>(1, 12);
  uint32_t buffer_bytes = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint32_t>(0, 40 * 4096)
                                           : in.ConsumeIntegral<uint32_t>();
  // The page count of any 32-bit size (no overflow near 4 GiB), then the size folded into
  // the cap (see the top of this file).
  FUZZ_CHECK(uint64_t{xensnd::backend::buffer_page_count(buffer_bytes)} ==
             (uint64_t{buffer_bytes} + 4095) / 4096);
  if (buffer_bytes > kMaxBufferBytes) buffer_bytes %= kMaxBufferBytes + 1;
  xenio::GrantRef directory = in.ConsumeIntegralInRange<int>(0, 7) == 0 ? in.ConsumeIntegral<uint32_t>()
                                                                       : kFirst + in.ConsumeIntegralInRange<uint32_t>(0, count - 1);
  xensnd::fuzz::fill_pages(in, pages, kFirst, count);

  // The walk as sndif.h describes it.
  const uint64_t wanted = xensnd::backend::buffer_page_count(buffer_bytes);
  std::vector<xenio::GrantRef> expected;
  std::vector<xenio::GrantRef> directory_pages;
  enum class Outcome { kMapped, kEndsEarly, kUnknownGrant } outcome = Outcome::kMapped;
  if (wanted == 0) outcome = Outcome::kEndsEarly;
  for (xenio::GrantRef next = directory; outcome == Outcome::kMapped && expected.size() < wanted;) {
    if (next == 0) {
      outcome = Outcome::kEndsEarly;
      break;
    }
    directory_pages.push_back(next);
    if (!pages.has(next)) {
      outcome = Outcome::kUnknownGrant;
      break;
    }
    const auto& page = pages.page(next);
    uint32_t entries[xenio::kXenPageSize / 4];
    std::memcpy(entries, page.data(), sizeof entries);
    next = entries[0];
    for (size_t i = 0; i < xensnd::abi::kRefsPerDirectoryPage && expected.size() < wanted; ++i) {
      if (entries[1 + i] == 0) {
        outcome = Outcome::kEndsEarly;
        break;
      }
      expected.push_back(entries[1 + i]);
    }
  }
  if (outcome == Outcome::kMapped)
    for (xenio::GrantRef ref : expected)
      if (!pages.has(ref)) outcome = Outcome::kUnknownGrant;

  try {
    auto mapped = xensnd::backend::map_pcm_buffer(pages, 1, directory, buffer_bytes);
    FUZZ_CHECK(outcome == Outcome::kMapped);
    FUZZ_CHECK(mapped->page_count() == wanted);
    FUZZ_CHECK(!pages.maps.empty() && pages.maps.back().writable && pages.maps.back().refs == expected);
    FUZZ_CHECK(pages.maps.size() == directory_pages.size() + 1);
  } catch (const xensnd::backend::PageDirectoryError& e) {
    FUZZ_CHECK(outcome == Outcome::kEndsEarly);
    FUZZ_CHECK(*e.what() != '\0');
  } catch (const xenio::XenError&) {
    FUZZ_CHECK(outcome == Outcome::kUnknownGrant);
  }
  // Directory pages: read-only, one map each, never more than the buffer needs.
  size_t directory_maps = 0;
  for (const auto& map : pages.maps)
    if (!map.writable) {
      FUZZ_CHECK(map.refs.size() == 1);
      FUZZ_CHECK(directory_maps < directory_pages.size() && map.refs[0] == directory_pages[directory_maps]);
      ++directory_maps;
    }
  FUZZ_CHECK(directory_maps <= (wanted + xensnd::abi::kRefsPerDirectoryPage - 1) / xensnd::abi::kRefsPerDirectoryPage);
  return 0;
}
