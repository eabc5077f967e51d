// The backend's command line (documented in README.md and --help).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "backend/endpoint_spec.h"
#include "backend/fault_plan.h"
#include "backend/log.h"

namespace xensnd::backend {

enum class PositionAfterStop {
  kRestart,   // CUR_POS restarts at 0 after STOP (snd_be's ALSA path, the default)
  kContinue,  // keeps counting (snd_be's PulseAudio path)
};

// Where CUR_POS comes from.
enum class PositionSource {
  kPlayed,          // the bytes the device played/recorded (snd_be's PulseAudio path, and a
                    // kernel sound card on its ALSA path)
  kAudioTimestamp,  // snd_be's ALSA path into a plugin device: the audio timestamp is 0, so
                    // the position is the bytes written before the last underrun, and the
                    // total written since OPEN while the device is in underrun
};

struct BackendOptions {
  std::optional<uint16_t> backend_domid;   // default: read `domid` from XenStore
  std::optional<uint16_t> frontend_domid;  // serve only this frontend domain
  LogLevel log_level = LogLevel::kInfo;
  bool publish_versions = false;   // write `versions` = "2" (snd_be writes none)
  bool snd_be_startup = true;      // backend state 5 -> 6 -> 1 before InitWait, as snd_be
  bool free_run = false;           // no pacing: frames are consumed/produced as fast as asked
  PositionAfterStop position_after_stop = PositionAfterStop::kRestart;
  bool volume_supported = true;    // false: volume requests answer -EINVAL, as snd_be
  std::optional<uint32_t> device_buffer_bytes;  // the device model's FIFO; default: buffer_sz
  uint32_t capture_burst_ms = 0;   // > 0: recorded frames reach READs in bursts (PulseAudio)
  PositionSource positions = PositionSource::kPlayed;
  std::optional<uint32_t> stall_after_ms;  // the device stalls this long after START

  SinkSpec sink;
  std::map<std::pair<size_t, size_t>, SinkSpec> stream_sinks;
  SourceSpec source;
  std::map<std::pair<size_t, size_t>, SourceSpec> stream_sources;
  std::vector<FaultSpec> faults;

  const SinkSpec& sink_for(size_t pcm, size_t stream) const;
  const SourceSpec& source_for(size_t pcm, size_t stream) const;
};

struct ParsedCommandLine {
  std::optional<BackendOptions> options;  // unset: print `message`, exit with `exit_code`
  std::string message;
  int exit_code = 0;
};

ParsedCommandLine parse_command_line(int argc, char** argv);
// Checks what can be checked before any stream opens: WAV sink directories are writable
// directories, WAV source files are readable WAVE files. Returns a message naming the
// problem, or an empty string.
std::string check_endpoints(const BackendOptions& options);
std::string usage_text();

}  // namespace xensnd::backend
