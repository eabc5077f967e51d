// Who holds a vsnd card: the process the plugin's one-process-per-card claim belongs to.
// The one place xensnd-info asks about the claim, so a change in how the plugin claims a
// card (plugin/card_ownership.*) is followed here only.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace xensnd::info {

struct CardHolder {
  pid_t pid = 0;
  std::string command;  // /proc/<pid>/comm; empty when it cannot be read
};

// nullopt when no process holds card `device_id` (of the Xen this process talks to), or when
// this process may not read the lock node; pid 0 when it is held by a process it cannot name.
std::optional<CardHolder> find_card_holder(unsigned device_id);

}  // namespace xensnd::info
