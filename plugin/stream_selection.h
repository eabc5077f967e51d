// Which stream of a card an open PCM uses: by unique-id, or by PCM device and stream index,
// defaulting to PCM 0 and its first stream of the opened direction.
#pragma once

#include <optional>
#include <string>

#include "protocol/card_config.h"

namespace xensnd::plugin {

struct StreamSelector {
  std::optional<unsigned> pcm;
  std::optional<unsigned> stream;
  std::optional<std::string> unique_id;
};

// Throws std::invalid_argument with a message naming the option that selected nothing (or a
// stream of the wrong direction) and what the card offers.
const StreamConfig& select_stream(const CardConfig& card, const StreamSelector& selector,
                                  StreamType direction);

}  // namespace xensnd::plugin
