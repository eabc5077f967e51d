#include "protocol/vsnd_devices.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/unit/fakes/fake_backend.h"
#include "tests/unit/fakes/fake_xenstore.h"

namespace xensnd {
namespace {

using testing::FakeXenStore;

TEST(VsndDevices, NoDeviceDirectoryMeansNoCards) {
  FakeXenStore store;
  EXPECT_TRUE(list_vsnd_devices(store).empty());
  store.mkdir("device/vsnd");
  EXPECT_TRUE(list_vsnd_devices(store).empty());
}

TEST(VsndDevices, ListsNumericEntriesInNumericOrder) {
  FakeXenStore store;
  // Written out of order, and 10 sorts before 3 as a string.
  for (const char* id : {"10", "3", "7"}) store.write(std::string("device/vsnd/") + id + "/backend", "x");
  EXPECT_EQ(list_vsnd_devices(store), (std::vector<unsigned>{3, 7, 10}));
}

TEST(VsndDevices, IgnoresEntriesThatAreNotDeviceIds) {
  FakeXenStore store;
  for (const char* name : {"abc", "3a", "-1", "+2", "99999999999", "5"})
    store.write(std::string("device/vsnd/") + name + "/backend", "x");
  EXPECT_EQ(list_vsnd_devices(store), (std::vector<unsigned>{5}));
}

TEST(VsndDevices, OtherDeviceClassesAreNotCards) {
  FakeXenStore store;
  store.write("device/vif/0/backend", "x");
  store.write("device/vsnd/2/backend", "x");
  EXPECT_EQ(list_vsnd_devices(store), (std::vector<unsigned>{2}));
}

TEST(VsndDevices, FindsTheFirstCardWithTheUniqueId) {
  FakeXenStore store;
  testing::write_toolstack_nodes(store, 4);
  testing::write_toolstack_nodes(store, 9);
  store.write("device/vsnd/4/0/0/unique-id", "card4");
  store.write("device/vsnd/9/0/0/unique-id", "shared");
  testing::write_toolstack_nodes(store, 12);
  store.write("device/vsnd/12/0/0/unique-id", "shared");
  EXPECT_EQ(find_vsnd_device_with_stream(store, "card4"), std::optional<unsigned>(4));
  EXPECT_EQ(find_vsnd_device_with_stream(store, "shared"), std::optional<unsigned>(9));
  EXPECT_EQ(find_vsnd_device_with_stream(store, "nowhere"), std::nullopt);
}

TEST(VsndDevices, UniqueIdSearchPassesOverAMalformedCard) {
  FakeXenStore store;
  testing::write_toolstack_nodes(store, 1);
  store.write("device/vsnd/1/sample-rates", "fast");  // does not parse
  testing::write_toolstack_nodes(store, 2);
  EXPECT_EQ(find_vsnd_device_with_stream(store, "alsa<default>"), std::optional<unsigned>(2));
}

TEST(VsndDevices, ListsEveryCardsUniqueIdsForMessages) {
  FakeXenStore store;
  testing::write_toolstack_nodes(store, 9);
  testing::write_toolstack_nodes(store, 4);
  store.write("device/vsnd/4/0/0/unique-id", "card4");
  store.write("device/vsnd/9/0/0/unique-id", "card9");
  const auto ids = list_stream_unique_ids(store);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), (std::pair<unsigned, std::string>{4, "card4"}));
  EXPECT_NE(std::find(ids.begin(), ids.end(), std::pair<unsigned, std::string>{9, "card9"}), ids.end());
  for (const auto& [id, unique_id] : ids) EXPECT_FALSE(unique_id.empty()) << "card " << id;
}

}  // namespace
}  // namespace xensnd
