#include "backend/page_directory.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <vector>

#include "protocol/sndif_abi.h"

namespace xensnd::backend {
namespace {

// Grants as numbered 4 KiB pages; a mapping is a private copy of the pages in order.
class FakeMapper final : public xenio::GrantMapper {
 public:
  std::vector<uint8_t>& page(xenio::GrantRef ref) {
    auto& p = pages_[ref];
    p.resize(xenio::kXenPageSize);
    return p;
  }
  std::unique_ptr<xenio::MappedPages> map(xenio::DomainId granter, std::span<const xenio::GrantRef> refs,
                                          bool) override {
    ++maps;
    mapped_pages += refs.size();
    last_granter = granter;
    auto mapped = std::make_unique<Mapped>();
    for (xenio::GrantRef ref : refs) {
      auto it = pages_.find(ref);
      if (it == pages_.end()) throw xenio::XenError(EINVAL, "no grant " + std::to_string(ref));
      mapped->bytes.insert(mapped->bytes.end(), reinterpret_cast<std::byte*>(it->second.data()),
                           reinterpret_cast<std::byte*>(it->second.data()) + xenio::kXenPageSize);
    }
    return mapped;
  }
  int maps = 0;
  size_t mapped_pages = 0;
  xenio::DomainId last_granter = 0;

 private:
  struct Mapped final : xenio::MappedPages {
    std::vector<std::byte> bytes;
    std::byte* data() const override { return const_cast<std::byte*>(bytes.data()); }
    size_t page_count() const override { return bytes.size() / xenio::kXenPageSize; }
  };
  std::map<xenio::GrantRef, std::vector<uint8_t>> pages_;
};

// Writes a directory chain starting at `first_dir` for buffer pages refs 1000.. and marks
// each buffer page with its index.
void build_directory(FakeMapper& mapper, xenio::GrantRef first_dir, size_t buffer_pages) {
  size_t written = 0;
  xenio::GrantRef dir = first_dir;
  while (written < buffer_pages) {
    auto& page = mapper.page(dir);
    size_t here = std::min<size_t>(buffer_pages - written, abi::kRefsPerDirectoryPage);
    grant_ref_t next = written + here < buffer_pages ? dir + 1 : 0;
    std::memcpy(page.data(), &next, 4);
    for (size_t i = 0; i < here; ++i) {
      grant_ref_t ref = static_cast<grant_ref_t>(1000 + written + i);
      std::memcpy(page.data() + 4 + 4 * i, &ref, 4);
      mapper.page(ref)[0] = static_cast<uint8_t>(written + i);
    }
    written += here;
    dir = next;
  }
}

TEST(PageDirectory, MapsTheBufferPagesInOrder) {
  FakeMapper mapper;
  build_directory(mapper, 10, 5);
  auto buffer = map_pcm_buffer(mapper, 7, 10, 5 * 4096 - 100);
  ASSERT_EQ(buffer->page_count(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(uint8_t(buffer->data()[i * 4096]), i);
  EXPECT_EQ(mapper.last_granter, 7);
}

TEST(PageDirectory, FollowsTheChainAcrossDirectoryPages) {
  FakeMapper mapper;
  build_directory(mapper, 20, 1500);  // two directory pages
  auto buffer = map_pcm_buffer(mapper, 1, 20, 1500 * 4096);
  EXPECT_EQ(buffer->page_count(), 1500u);
  EXPECT_EQ(uint8_t(buffer->data()[1100 * size_t{4096}]), uint8_t(1100));
  EXPECT_EQ(mapper.maps, 3);  // two directory pages, one buffer mapping
}

TEST(PageDirectory, TheWalkIsBoundedByBufferSize) {
  FakeMapper mapper;
  // A directory that points to itself forever: only one page is read for a small buffer.
  auto& page = mapper.page(30);
  grant_ref_t self = 30;
  std::memcpy(page.data(), &self, 4);
  for (size_t i = 0; i < abi::kRefsPerDirectoryPage; ++i) {
    grant_ref_t ref = 2000;
    std::memcpy(page.data() + 4 + 4 * i, &ref, 4);
  }
  mapper.page(2000);
  auto buffer = map_pcm_buffer(mapper, 1, 30, 3 * 4096);
  EXPECT_EQ(buffer->page_count(), 3u);
  EXPECT_EQ(mapper.maps, 2);
  EXPECT_EQ(mapper.mapped_pages, 1u + 3u);
}

TEST(PageDirectory, AChainEndingEarlyIsRefused) {
  FakeMapper mapper;
  build_directory(mapper, 40, 2);
  EXPECT_THROW(map_pcm_buffer(mapper, 1, 40, 3 * 4096), PageDirectoryError);
  FakeMapper chain;
  build_directory(chain, 50, 1023);  // one full directory page, next = 0
  EXPECT_THROW(map_pcm_buffer(chain, 1, 50, 1024 * 4096), PageDirectoryError);
}

TEST(PageDirectory, AMissingGrantIsAXenError) {
  FakeMapper mapper;
  EXPECT_THROW(map_pcm_buffer(mapper, 1, 99, 4096), xenio::XenError);
}

}  // namespace
}  // namespace xensnd::backend
