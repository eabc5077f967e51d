#include "plugin/channel_maps.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace xensnd::plugin {
namespace {

TEST(ChannelMaps, QueryListsTheStandardLayoutsInRange) {
  snd_pcm_chmap_query_t** maps = query_channel_maps(1, 8);
  ASSERT_NE(maps, nullptr);
  std::vector<unsigned> counts;
  for (auto** m = maps; *m; ++m) {
    EXPECT_EQ((*m)->type, SND_CHMAP_TYPE_FIXED);
    counts.push_back((*m)->map.channels);
  }
  snd_pcm_free_chmaps(maps);
  EXPECT_EQ(counts, (std::vector<unsigned>{1, 2, 3, 4, 5, 6, 8}));
}

TEST(ChannelMaps, StereoIsFrontLeftFrontRight) {
  snd_pcm_chmap_t* map = channel_map_for(2);
  ASSERT_NE(map, nullptr);
  EXPECT_EQ(map->pos[0], static_cast<unsigned>(SND_CHMAP_FL));
  EXPECT_EQ(map->pos[1], static_cast<unsigned>(SND_CHMAP_FR));
  EXPECT_TRUE(is_standard_channel_map(*map));
  std::swap(map->pos[0], map->pos[1]);
  EXPECT_FALSE(is_standard_channel_map(*map));
  std::free(map);
}

TEST(ChannelMaps, SevenChannelsHaveNoStandardLayout) {
  EXPECT_EQ(channel_map_for(7), nullptr);
  EXPECT_EQ(query_channel_maps(7, 7), nullptr);
}

}  // namespace
}  // namespace xensnd::plugin
