#include "protocol/shared_buffer.h"

#include <gmock/gmock.h>

#include <cstring>

#include "protocol/errors.h"
#include "protocol/sndif_abi.h"
#include "tests/unit/fakes/fake_grants.h"

namespace xensnd {
namespace {

using testing::FakeGrantSharer;
using testing::FakeGrantTable;

grant_ref_t word(const std::byte* page, size_t index) {
  grant_ref_t v;
  std::memcpy(&v, page + 4 * index, sizeof v);
  return v;
}

// Walks the directory as snd_be does, returning the data refs.
std::vector<grant_ref_t> walk(const FakeGrantTable& table, grant_ref_t dir, size_t data_pages) {
  std::vector<grant_ref_t> refs;
  while (refs.size() < data_pages) {
    auto g = table.grant(dir);
    EXPECT_TRUE(g && g->writable);
    if (!g) break;
    for (size_t i = 0; i < abi::kRefsPerDirectoryPage && refs.size() < data_pages; ++i)
      refs.push_back(word(g->page, 1 + i));
    dir = word(g->page, 0);
  }
  EXPECT_EQ(dir, 0u) << "the last gref_dir_next_page must be 0";
  return refs;
}

TEST(PageDirectory, PagesNeeded) {
  EXPECT_EQ(page_directory_pages(1), 1u);
  EXPECT_EQ(page_directory_pages(1023), 1u);
  EXPECT_EQ(page_directory_pages(1024), 2u);
  EXPECT_EQ(page_directory_pages(2046), 2u);
  EXPECT_EQ(page_directory_pages(2047), 3u);
}

TEST(SharedBuffer, SmallBufferOneDirectoryPage) {
  FakeGrantTable table;
  FakeGrantSharer sharer(table);
  SharedBuffer buffer(sharer, 0, 10000);
  EXPECT_EQ(buffer.data().size(), 10000u);
  EXPECT_EQ(buffer.data_pages(), 3u);
  EXPECT_EQ(buffer.directory_pages(), 1u);
  auto refs = walk(table, buffer.directory_ref(), 3);
  for (size_t i = 0; i < refs.size(); ++i) {
    auto g = table.grant(refs[i]);
    ASSERT_TRUE(g);
    EXPECT_TRUE(g->writable);
    EXPECT_EQ(g->page, buffer.data().data() + i * 4096);
  }
}

TEST(SharedBuffer, ChainsDirectoryPagesAt1023Refs) {
  FakeGrantTable table;
  table.set_limit(5000);
  FakeGrantSharer sharer(table);
  size_t pages = 2 * 1023 + 5;
  SharedBuffer buffer(sharer, 0, static_cast<uint32_t>(pages * 4096));
  EXPECT_EQ(buffer.directory_pages(), 3u);
  auto refs = walk(table, buffer.directory_ref(), pages);
  ASSERT_EQ(refs.size(), pages);
  for (size_t i = 0; i < pages; ++i) ASSERT_EQ(table.grant(refs[i])->page, buffer.data().data() + i * 4096) << i;
}

TEST(SharedBuffer, ExactlyOneFullDirectoryPageEndsWithZero) {
  FakeGrantTable table;
  table.set_limit(2000);
  FakeGrantSharer sharer(table);
  SharedBuffer buffer(sharer, 0, 1023 * 4096);
  EXPECT_EQ(buffer.directory_pages(), 1u);
  EXPECT_EQ(walk(table, buffer.directory_ref(), 1023).size(), 1023u);
}

TEST(SharedBuffer, GrantsAreRevokedOnDestruction) {
  FakeGrantTable table;
  FakeGrantSharer sharer(table);
  {
    SharedBuffer buffer(sharer, 0, 4096);
    EXPECT_EQ(table.live_grants(), 2u);
  }
  EXPECT_EQ(table.live_grants(), 0u);
}

TEST(SharedBuffer, ZeroBytesAndGrantExhaustion) {
  FakeGrantTable table;
  FakeGrantSharer sharer(table);
  EXPECT_THROW(SharedBuffer(sharer, 0, 0), FrontendError);
  table.set_limit(4);
  EXPECT_THROW(SharedBuffer(sharer, 0, 8 * 4096), xenio::XenError);
  EXPECT_EQ(table.live_grants(), 0u);
}

TEST(SharedBuffer, RefusesGuestPagesOtherThan4K) {
  EXPECT_NO_THROW(require_xen_page_size(4096));
  try {
    require_xen_page_size(65536);
    FAIL();
  } catch (const FrontendError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("65536"));
  }
  EXPECT_THROW(require_xen_page_size(16384), FrontendError);
}

}  // namespace
}  // namespace xensnd
