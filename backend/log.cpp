#include "backend/log.h"

#include <time.h>

#include <cstdio>

namespace xensnd::backend {

void Log::write(LogLevel level, std::string_view text) {
  static constexpr const char* kNames[] = {"error", "warning", "info", "debug", "trace"};
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  std::lock_guard lock(mutex_);
  // Microseconds: the tests place a stream's frames on the clock by its START line, and
  // milliseconds left them up to 1 ms early against the guest's stalls (quantum 64's cycle is 1.3 ms).
  std::fprintf(stderr, "xensnd-backend[%ld.%06ld] %s: %.*s\n", static_cast<long>(now.tv_sec),
               now.tv_nsec / 1000, kNames[static_cast<int>(level)],
               static_cast<int>(text.size()), text.data());
  std::fflush(stderr);
}

bool parse_log_level(std::string_view name, LogLevel& level) {
  static constexpr std::pair<std::string_view, LogLevel> kLevels[] = {
      {"error", LogLevel::kError}, {"warning", LogLevel::kWarning}, {"info", LogLevel::kInfo},
      {"debug", LogLevel::kDebug}, {"trace", LogLevel::kTrace}};
  for (const auto& [text, value] : kLevels) {
    if (name == text) {
      level = value;
      return true;
    }
  }
  return false;
}

}  // namespace xensnd::backend
