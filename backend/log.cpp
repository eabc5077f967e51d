#include "backend/log.h"

#include <time.h>

#include <cstdio>

namespace xensnd::backend {

void Log::write(LogLevel level, std::string_view text) {
  static constexpr const char* kNames[] = {"error", "warning", "info", "debug", "trace"};
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  std::lock_guard lock(mutex_);
  std::fprintf(stderr, "xensnd-backend[%ld.%03ld] %s: %.*s\n", static_cast<long>(now.tv_sec),
               now.tv_nsec / 1000000, kNames[static_cast<int>(level)],
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
