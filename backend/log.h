// The backend's log: one line per event on stderr, filtered by a verbosity chosen per run.
// Shared by all ring threads, so every line is written whole under a lock.
#pragma once

#include <mutex>
#include <sstream>
#include <string>
#include <string_view>

namespace xensnd::backend {

enum class LogLevel { kError = 0, kWarning = 1, kInfo = 2, kDebug = 3, kTrace = 4 };

class Log {
 public:
  explicit Log(LogLevel level = LogLevel::kInfo) : level_(level) {}

  bool enabled(LogLevel level) const { return level <= level_; }
  void write(LogLevel level, std::string_view text);

  template <typename... Parts>
  void error(const Parts&... parts) { emit(LogLevel::kError, parts...); }
  template <typename... Parts>
  void warning(const Parts&... parts) { emit(LogLevel::kWarning, parts...); }
  template <typename... Parts>
  void info(const Parts&... parts) { emit(LogLevel::kInfo, parts...); }
  template <typename... Parts>
  void debug(const Parts&... parts) { emit(LogLevel::kDebug, parts...); }
  template <typename... Parts>
  void trace(const Parts&... parts) { emit(LogLevel::kTrace, parts...); }

 private:
  template <typename... Parts>
  void emit(LogLevel level, const Parts&... parts) {
    if (!enabled(level)) return;
    std::ostringstream text;
    (text << ... << parts);
    write(level, text.str());
  }

  LogLevel level_;
  std::mutex mutex_;
};

// "error", "warning", "info", "debug", "trace"; false when the name is unknown.
bool parse_log_level(std::string_view name, LogLevel& level);

}  // namespace xensnd::backend
