#include "backend/options.h"

#include "backend/wav_file.h"

#include <algorithm>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <string_view>

namespace xensnd::backend {
namespace {

bool parse_number(std::string_view text, uint32_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

bool parse_domid(std::string_view text, std::optional<uint16_t>& out) {
  uint32_t value = 0;
  if (!parse_number(text, value) || value >= 0x7FF0) return false;  // DOMID_FIRST_RESERVED
  out = static_cast<uint16_t>(value);
  return true;
}

// "P/S=SPEC" -> key and spec text; false when there is no stream prefix.
bool split_stream_prefix(std::string_view text, std::pair<size_t, size_t>& key, std::string_view& spec) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos) return false;
  size_t pcm = 0, stream = 0;
  if (!parse_stream_key(text.substr(0, eq), pcm, stream)) return false;
  key = {pcm, stream};
  spec = text.substr(eq + 1);
  return true;
}

}  // namespace

const SinkSpec& BackendOptions::sink_for(size_t pcm, size_t stream) const {
  auto it = stream_sinks.find({pcm, stream});
  return it == stream_sinks.end() ? sink : it->second;
}

const SourceSpec& BackendOptions::source_for(size_t pcm, size_t stream) const {
  auto it = stream_sources.find({pcm, stream});
  return it == stream_sources.end() ? source : it->second;
}

std::string usage_text() {
  return R"(usage: xensnd-backend [OPTIONS]
A sndif (Xen para-virtual sound) backend: serves the vsnd devices the toolstack created
below /local/domain/<own id>/backend/vsnd, playing into sinks and recording from sources.

  --backend-domid N        this domain's id (default: read `domid` from XenStore)
  --frontend-domid N       serve only the frontend domain N (default: every frontend)
  --sink SPEC              playback sink for every stream: null (default), wav:DIR
                           (DIR/vsnd-<fe>-<dev>-<pcm>-<stream>-<open#>.wav), alsa:DEVICE
  --sink P/S=SPEC          sink for PCM P stream S only
  --source SPEC            capture source for every stream: silence (default), sine:HZ,
                           wav:FILE, loopback:P/S (what playback stream P/S of the card plays)
  --source P/S=SPEC        source for PCM P stream S only
  --free-run               no real-time pacing: consume/produce as fast as requests come
  --position-after-stop restart|continue
                           CUR_POS after STOP restarts at 0 (default, snd_be's ALSA path)
                           or keeps counting (snd_be's PulseAudio path)
  --device-buffer BYTES    the device FIFO behind each stream (default: the stream's buffer_sz)
  --capture-bursts MS      capture reaches READs in bursts every MS ms while positions keep
                           the real-time rate (snd_be's PulseAudio path: about 2000)
  --positions played|audio-timestamp
                           CUR_POS is what the device played (default), or as snd_be's ALSA
                           path into a plugin device: 0 (plus the bytes written before the
                           last underrun) while playing, the total written since OPEN while
                           in underrun; never reset by STOP/START
  --stall-after MS         MS ms after START the device stops: positions keep coming but
                           stop moving, READs and WRITEs that need it to move are never
                           answered, the rest is (a device alive but stalled)
  --publish-versions       write `versions` = 2 (snd_be publishes none)
  --no-volume              answer volume/mute requests with -EINVAL, as snd_be
  --plain-startup          go straight to InitWait (snd_be passes through Closing and Closed)
  --fault KIND[:k=v,...]   inject a fault (repeatable). KIND: delay-response (ms=N),
                           drop-response, wrong-id, wrong-operation, position-backwards,
                           position-beyond, event-flood, stop-events, exit, set-closing.
                           Keys: nth=N (the Nth matching request or CUR_POS event, default 1),
                           op=open|close|read|write|trigger|hw-param-query|set-volume|
                           get-volume|mute|unmute (request filter; for exit and set-closing it
                           selects counting requests instead of CUR_POS events), stream=P/S.
  -v, --verbose            one level more detail (repeatable)
  -q, --quiet              errors only
  --log-level LEVEL        error, warning, info (default), debug, trace
  -h, --help               this text

Prints "xensnd-backend: ready <path>" on stdout once it watches for devices.
Exits 0 on SIGINT/SIGTERM, 2 on a bad command line, 1 on a fatal Xen error.
)";
}

std::string check_endpoints(const BackendOptions& options) {
  auto check_sink = [](const SinkSpec& sink) -> std::string {
    if (sink.kind != SinkSpec::Kind::kWav) return {};
    struct stat info{};
    if (stat(sink.argument.c_str(), &info) != 0 || !S_ISDIR(info.st_mode))
      return "WAV sink directory " + sink.argument + " does not exist";
    if (access(sink.argument.c_str(), W_OK) != 0) return "WAV sink directory " + sink.argument + " is not writable";
    return {};
  };
  auto check_source = [](const SourceSpec& source) -> std::string {
    if (source.kind != SourceSpec::Kind::kWav) return {};
    try {
      WavReader reader(source.argument);
    } catch (const std::exception& e) {
      return std::string("WAV source ") + e.what();
    }
    return {};
  };
  std::string problem = check_sink(options.sink);
  for (const auto& [key, sink] : options.stream_sinks)
    if (problem.empty()) problem = check_sink(sink);
  if (problem.empty()) problem = check_source(options.source);
  for (const auto& [key, source] : options.stream_sources)
    if (problem.empty()) problem = check_source(source);
  return problem;
}

ParsedCommandLine parse_command_line(int argc, char** argv) {
  ParsedCommandLine result;
  BackendOptions options;
  auto bad = [&](const std::string& message) {
    result.message = "xensnd-backend: " + message + "\n(see xensnd-backend --help)";
    result.exit_code = 2;
    return result;
  };
  int level = static_cast<int>(options.log_level);
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view value;
    // Options taking a value accept "--opt VALUE" and "--opt=VALUE".
    auto take_value = [&](std::string_view name) -> bool {
      if (arg == name) {
        if (i + 1 >= argc) return false;
        value = argv[++i];
        return true;
      }
      if (arg.size() > name.size() && arg.substr(0, name.size()) == name && arg[name.size()] == '=') {
        value = arg.substr(name.size() + 1);
        return true;
      }
      return false;
    };
    auto needs_value = [&](std::string_view name) {
      return arg == name || (arg.substr(0, name.size()) == name && arg.size() > name.size() && arg[name.size()] == '=');
    };
    std::string error;
    if (arg == "-h" || arg == "--help") {
      result.message = usage_text();
      return result;
    } else if (arg == "-v" || arg == "--verbose") {
      ++level;
    } else if (arg == "-q" || arg == "--quiet") {
      level = static_cast<int>(LogLevel::kError);
    } else if (arg == "--free-run") {
      options.free_run = true;
    } else if (arg == "--publish-versions") {
      options.publish_versions = true;
    } else if (arg == "--no-volume") {
      options.volume_supported = false;
    } else if (arg == "--plain-startup") {
      options.snd_be_startup = false;
    } else if (needs_value("--log-level")) {
      LogLevel parsed;
      if (!take_value("--log-level") || !parse_log_level(value, parsed))
        return bad("--log-level needs one of error, warning, info, debug, trace");
      level = static_cast<int>(parsed);
    } else if (needs_value("--backend-domid")) {
      if (!take_value("--backend-domid") || !parse_domid(value, options.backend_domid))
        return bad("--backend-domid needs a domain id (0..32751)");
    } else if (needs_value("--frontend-domid")) {
      if (!take_value("--frontend-domid") || !parse_domid(value, options.frontend_domid))
        return bad("--frontend-domid needs a domain id (0..32751)");
    } else if (needs_value("--device-buffer")) {
      uint32_t bytes = 0;
      if (!take_value("--device-buffer") || !parse_number(value, bytes) || bytes == 0)
        return bad("--device-buffer needs a positive number of bytes");
      options.device_buffer_bytes = bytes;
    } else if (needs_value("--capture-bursts")) {
      uint32_t ms = 0;
      if (!take_value("--capture-bursts") || !parse_number(value, ms) || ms == 0 || ms > 60'000)
        return bad("--capture-bursts needs a burst interval in ms (1..60000)");
      options.capture_burst_ms = ms;
    } else if (needs_value("--positions")) {
      if (!take_value("--positions")) return bad("--positions needs played or audio-timestamp");
      if (value == "played") options.positions = PositionSource::kPlayed;
      else if (value == "audio-timestamp") options.positions = PositionSource::kAudioTimestamp;
      else return bad("--positions needs played or audio-timestamp, got '" + std::string(value) + "'");
    } else if (needs_value("--stall-after")) {
      uint32_t ms = 0;
      if (!take_value("--stall-after") || !parse_number(value, ms))
        return bad("--stall-after needs a time in ms");
      options.stall_after_ms = ms;
    } else if (needs_value("--position-after-stop")) {
      if (!take_value("--position-after-stop")) return bad("--position-after-stop needs restart or continue");
      if (value == "restart") options.position_after_stop = PositionAfterStop::kRestart;
      else if (value == "continue") options.position_after_stop = PositionAfterStop::kContinue;
      else return bad("--position-after-stop needs restart or continue, got '" + std::string(value) + "'");
    } else if (needs_value("--sink")) {
      if (!take_value("--sink")) return bad("--sink needs a SPEC");
      std::pair<size_t, size_t> key;
      std::string_view spec_text = value;
      bool per_stream = split_stream_prefix(value, key, spec_text);
      auto spec = parse_sink_spec(spec_text, error);
      if (!spec) return bad(error);
      (per_stream ? options.stream_sinks[key] : options.sink) = *spec;
    } else if (needs_value("--source")) {
      if (!take_value("--source")) return bad("--source needs a SPEC");
      std::pair<size_t, size_t> key;
      std::string_view spec_text = value;
      bool per_stream = split_stream_prefix(value, key, spec_text);
      auto spec = parse_source_spec(spec_text, error);
      if (!spec) return bad(error);
      (per_stream ? options.stream_sources[key] : options.source) = *spec;
    } else if (needs_value("--fault")) {
      if (!take_value("--fault")) return bad("--fault needs KIND[:key=value,...]");
      auto spec = parse_fault_spec(value, error);
      if (!spec) return bad(error);
      options.faults.push_back(*spec);
    } else {
      return bad("unknown argument '" + std::string(arg) + "'");
    }
  }
  options.log_level = static_cast<LogLevel>(std::clamp(level, 0, static_cast<int>(LogLevel::kTrace)));
  result.options = options;
  return result;
}

}  // namespace xensnd::backend
