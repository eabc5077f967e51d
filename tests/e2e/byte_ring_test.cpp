// The recording client's ring (byte_ring.h): order kept across the wrap, nothing partial when
// full, and one producer thread against one consumer thread.
#include "tests/e2e/byte_ring.h"

#include <gtest/gtest.h>

#include <thread>

namespace xensnd::e2e {
namespace {

std::vector<uint8_t> drained(ByteRing& ring) {
  std::vector<uint8_t> out;
  ring.drain([&](const uint8_t* data, size_t size) { out.insert(out.end(), data, data + size); });
  return out;
}

TEST(ByteRing, KeepsOrderAcrossTheWrap) {
  ByteRing ring(8);
  const uint8_t first[] = {1, 2, 3, 4, 5, 6};
  ASSERT_TRUE(ring.push(first, sizeof(first)));
  EXPECT_EQ(drained(ring), std::vector<uint8_t>(first, first + 6));
  const uint8_t second[] = {7, 8, 9, 10, 11};  // crosses the end of the 8 bytes
  ASSERT_TRUE(ring.push(second, sizeof(second)));
  EXPECT_EQ(drained(ring), std::vector<uint8_t>(second, second + 5));
}

TEST(ByteRing, RefusesWhatDoesNotFitAndCopiesNothingOfIt) {
  ByteRing ring(8);
  const uint8_t bytes[] = {1, 2, 3, 4, 5, 6};
  ASSERT_TRUE(ring.push(bytes, 6));
  EXPECT_FALSE(ring.push(bytes, 3));
  EXPECT_TRUE(ring.push(bytes, 2));
  EXPECT_EQ(drained(ring), (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 1, 2}));
  EXPECT_TRUE(drained(ring).empty());
}

TEST(ByteRing, AProducerAndAConsumerThreadLoseAndReorderNothing) {
  ByteRing ring(64);
  constexpr int kBytes = 200'000;
  std::thread producer([&] {
    for (int i = 0; i < kBytes;) {
      const uint8_t chunk[3] = {static_cast<uint8_t>(i), static_cast<uint8_t>(i + 1), static_cast<uint8_t>(i + 2)};
      const size_t n = std::min(3, kBytes - i);
      if (ring.push(chunk, n)) i += static_cast<int>(n);
    }
  });
  std::vector<uint8_t> got;
  while (got.size() < static_cast<size_t>(kBytes)) {
    const std::vector<uint8_t> more = drained(ring);
    got.insert(got.end(), more.begin(), more.end());
  }
  producer.join();
  for (int i = 0; i < kBytes; ++i) ASSERT_EQ(got[i], static_cast<uint8_t>(i)) << "byte " << i;
}

}  // namespace
}  // namespace xensnd::e2e
