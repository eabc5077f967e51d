// XenbusState values (xen/io/xenbus.h) as the backend writes and reads them.
#pragma once

#include <xen/io/xenbus.h>

#include <optional>
#include <string>

namespace xensnd::backend {

inline std::string state_text(XenbusState state) { return std::to_string(static_cast<int>(state)); }

// A `state` node's value; nullopt when absent or not a known state.
std::optional<XenbusState> parse_xenbus_state(const std::optional<std::string>& text);

}  // namespace xensnd::backend
