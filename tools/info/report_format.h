// xensnd-info's two outputs: text shaped like `aplay -l`, and JSON for scripts.
#pragma once

#include <string>
#include <vector>

#include "tools/info/card_report.h"

namespace xensnd::info {

std::string format_text(const std::vector<CardReport>& cards);
// One JSON object: {"cards": [...]}, every field always present (null when unknown).
std::string format_json(const std::vector<CardReport>& cards);

}  // namespace xensnd::info
