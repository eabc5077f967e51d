#include "plugin/channel_maps.h"

#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

namespace xensnd::plugin {
namespace {

std::span<const unsigned> layout(unsigned channels) {
  static const unsigned kMono[] = {SND_CHMAP_MONO};
  static const unsigned kStereo[] = {SND_CHMAP_FL, SND_CHMAP_FR};
  static const unsigned k21[] = {SND_CHMAP_FL, SND_CHMAP_FR, SND_CHMAP_LFE};
  static const unsigned kQuad[] = {SND_CHMAP_FL, SND_CHMAP_FR, SND_CHMAP_RL, SND_CHMAP_RR};
  static const unsigned k50[] = {SND_CHMAP_FL, SND_CHMAP_FR, SND_CHMAP_RL, SND_CHMAP_RR,
                                 SND_CHMAP_FC};
  static const unsigned k51[] = {SND_CHMAP_FL, SND_CHMAP_FR, SND_CHMAP_RL,
                                 SND_CHMAP_RR, SND_CHMAP_FC, SND_CHMAP_LFE};
  static const unsigned k71[] = {SND_CHMAP_FL, SND_CHMAP_FR,  SND_CHMAP_RL, SND_CHMAP_RR,
                                 SND_CHMAP_FC, SND_CHMAP_LFE, SND_CHMAP_SL, SND_CHMAP_SR};
  switch (channels) {
    case 1: return kMono;
    case 2: return kStereo;
    case 3: return k21;
    case 4: return kQuad;
    case 5: return k50;
    case 6: return k51;
    case 8: return k71;
    default: return {};
  }
}

}  // namespace

snd_pcm_chmap_query_t** query_channel_maps(unsigned channels_min, unsigned channels_max) {
  std::vector<unsigned> counts;
  for (unsigned c = channels_min; c <= channels_max && c <= 8; ++c)
    if (!layout(c).empty()) counts.push_back(c);
  if (counts.empty()) return nullptr;
  auto** maps = static_cast<snd_pcm_chmap_query_t**>(std::calloc(counts.size() + 1, sizeof(void*)));
  if (maps == nullptr) return nullptr;
  for (size_t i = 0; i < counts.size(); ++i) {
    const auto positions = layout(counts[i]);
    auto* map = static_cast<snd_pcm_chmap_query_t*>(
        std::malloc(sizeof(snd_pcm_chmap_query_t) + positions.size() * sizeof(unsigned)));
    if (map == nullptr) {
      snd_pcm_free_chmaps(maps);
      return nullptr;
    }
    map->type = SND_CHMAP_TYPE_FIXED;
    map->map.channels = static_cast<unsigned>(positions.size());
    std::memcpy(map->map.pos, positions.data(), positions.size() * sizeof(unsigned));
    maps[i] = map;
  }
  return maps;
}

snd_pcm_chmap_t* channel_map_for(unsigned channels) {
  const auto positions = layout(channels);
  if (positions.empty()) return nullptr;
  auto* map = static_cast<snd_pcm_chmap_t*>(
      std::malloc(sizeof(snd_pcm_chmap_t) + positions.size() * sizeof(unsigned)));
  if (map == nullptr) return nullptr;
  map->channels = static_cast<unsigned>(positions.size());
  std::memcpy(map->pos, positions.data(), positions.size() * sizeof(unsigned));
  return map;
}

bool is_standard_channel_map(const snd_pcm_chmap_t& map) {
  const auto positions = layout(map.channels);
  if (positions.empty()) return false;
  for (unsigned i = 0; i < map.channels; ++i)
    if ((map.pos[i] & SND_CHMAP_POSITION_MASK) != positions[i]) return false;
  return true;
}

}  // namespace xensnd::plugin
