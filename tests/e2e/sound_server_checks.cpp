#include "tests/e2e/sound_server_checks.h"

#include "tests/e2e/loopback_recording.h"
#include "tests/e2e/recorded_splices.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>

namespace xensnd::e2e {
namespace {

constexpr unsigned kRate = 48000;
// Samples at the ends of the tone's span left out of the splice check: the start and the end
// of a stream are where the tone meets silence.
constexpr size_t kEdge = 4;

struct Analysed {
  std::optional<ToneReport> report;
  std::vector<double> samples;  // channel 0
  unsigned rate = 0, frame_bytes = 0;
  std::string problem;  // why there is no report
};

Analysed analyse_file(const std::filesystem::path& path) {
  Analysed a;
  auto wav = read_wav(path);
  if (!wav) {
    a.problem = "no WAV at " + path.string();
    return a;
  }
  auto samples = wav_channel(*wav, 0);
  if (!samples) {
    a.problem = path.string() + ": cannot read format " + std::to_string(wav->format_tag) + "/" +
                std::to_string(wav->bits_per_sample) + " bits";
    return a;
  }
  a.rate = wav->rate;
  a.frame_bytes = unsigned{wav->channels} * wav->bits_per_sample / 8;
  a.report = analyse_tone(*samples, wav->rate, kToneHz, kEdge);
  a.samples = std::move(*samples);
  return a;
}

// `splices`: those of r.splices nothing outside the card explains.
void expect_report(const ToneReport& r, unsigned rate, double seconds, const std::string& what,
                   const std::vector<size_t>& splices) {
  EXPECT_TRUE(splices.empty()) << what << ": the tone is spliced (dropped, repeated or stale frames) at "
                               << splices.size() << " point(s): " << r.describe(rate);
  EXPECT_GE(r.seconds, seconds - 0.01) << what << ": frames are missing: " << r.describe(rate);
  EXPECT_NEAR(r.frequency, kToneHz, kToneHz * 0.002) << what << ": " << r.describe(rate);
  EXPECT_NEAR(r.amplitude, kToneAmplitude, 0.01) << what << ": " << r.describe(rate);
}

// What attribute_splices() found.
struct Attribution {
  std::vector<size_t> unexplained;
  std::string note;  // for the failure message
};

// Where a splice at `sample` was on the monotonic clock (seconds).
using Placement = std::function<double(size_t sample)>;
// `other`: the stall (StallAllowance's index) that explains the splice at `sample` (at `at`)
// some other way than by coming right before it, if any.
using OtherExplanation = std::function<std::optional<size_t>(size_t sample, double at)>;

Placement from_origin(double origin, unsigned rate) {
  return [origin, rate](size_t sample) { return origin + static_cast<double>(sample) / rate; };
}

// The splices of `r` nothing outside the card explains, the WAV placed on the clock by
// `place` (none: it cannot be, and every splice stays the card's).
Attribution attribute_splices(const ToneReport& r, unsigned rate, const std::optional<Placement>& place,
                              const std::optional<StallAllowance>& allowance, const OtherExplanation& other = {}) {
  Attribution result{r.splices, ""};
  if (!allowance || r.splices.empty()) return result;
  if (!place) {
    result.note = "; the WAV could not be placed on the clock, so no splice is the machine's (" +
                  allowance->machine() + ")";
    return result;
  }
  result.unexplained.clear();
  size_t explained = 0;
  std::set<size_t> stalls;  // those that explained a splice
  std::ostringstream nearest;
  for (size_t sample : r.splices) {
    const double at = (*place)(sample);
    std::optional<size_t> stall = allowance->explains(at);
    if (!stall && other) stall = other(sample, at);
    if (stall) {
      ++explained;
      stalls.insert(*stall);
      continue;
    }
    result.unexplained.push_back(sample);
    nearest << "; at " << static_cast<double>(sample) / rate
            << " s the machine's last stall: " << allowance->last_stall_before(at);
  }
  // Passing runs say so too: how often the machine, not the card, spliced a tone.
  if (explained > 0)
    std::cout << "note: " << explained << " splice point(s) of the tone right after " << stalls.size()
              << " stall(s) of the machine (" << allowance->machine() << ")\n";
  result.note = "; " + std::to_string(explained) + " splice point(s) right after the machine stalled" +
                nearest.str() + " (" + allowance->machine() + ")";
  return result;
}

std::vector<std::vector<StreamRun>> backend_runs(const SoftwareXen& xen, const std::string& stream,
                                                 bool after_underruns = true) {
  std::ifstream log(xen.logs() / "backend.err");
  return stream_runs(log, stream, after_underruns);
}

// Where the frames of open `open` (1-based) of playback stream 0/0 were on the clock: each
// run's from its START (a server restarts a stream after an xrun) or from where its device
// played on after running dry (`after_underruns`; without, as if it never ran dry).
std::optional<Placement> played_placement(const SoftwareXen& xen, unsigned open, unsigned rate, unsigned frame_bytes,
                                          bool after_underruns = true) {
  const std::vector<std::vector<StreamRun>> runs = backend_runs(xen, "0/0", after_underruns);
  if (open == 0 || open > runs.size() || runs[open - 1].empty()) return std::nullopt;
  return [runs = runs[open - 1], rate, frame_bytes](size_t sample) {
    return run_time(runs, sample, rate, frame_bytes).value_or(0);
  };
}

// When the card's capture stream 0/1 started, if only one of its opens started, once.
std::optional<double> capture_start(const SoftwareXen& xen) {
  std::optional<double> only;
  for (const std::vector<StreamRun>& runs : backend_runs(xen, "0/1")) {
    if (runs.empty()) continue;
    if (only || runs.size() > 1) return std::nullopt;
    only = runs.front().started;
  }
  return only;
}

}  // namespace

double sound_seconds() {
  double seconds = 30;
  if (const char* text = std::getenv("XENSND_E2E_SOUND_SECONDS")) seconds = std::atof(text);
  // pw-play (PipeWire 0.3.65) drops a stream's last partial quantum: a tone of whole
  // 1024-frame blocks (a multiple of every quantum tested) ends on a quantum boundary.
  constexpr double kBlock = 1024;
  return std::ceil(seconds * kRate / kBlock) * kBlock / kRate;
}

namespace {

size_t tone_frames(double seconds) { return static_cast<size_t>(std::llround(seconds * kRate)); }

// Frame n of write_tone()'s tone, as its 16-bit sample.
int16_t tone_sample(size_t n) {
  const double v = kToneAmplitude * std::sin(2 * M_PI * kToneHz * static_cast<double>(n) / kRate);
  return static_cast<int16_t>(std::lround(v * 32767));
}

// write_tone()'s tone as a player's samples reach the backend's WAV: a sound server at unity
// volume converts them exactly (to float, or as they are).
Reference written_tone(double seconds) {
  auto samples = std::make_shared<std::vector<double>>(tone_frames(seconds));
  for (size_t n = 0; n < samples->size(); ++n) (*samples)[n] = tone_sample(n) / 32768.0;
  Reference reference;
  reference.frame = [samples](int64_t frame) -> std::optional<double> {
    if (frame < 0 || frame >= static_cast<int64_t>(samples->size())) return std::nullopt;
    return (*samples)[static_cast<size_t>(frame)];
  };
  reference.first = 1;  // frame 0 is sin(0)
  return reference;
}

}  // namespace

void write_tone(const std::filesystem::path& path, double seconds, double silence_after) {
  const size_t frames = tone_frames(seconds);
  std::vector<uint8_t> data;
  data.reserve((frames + tone_frames(silence_after)) * 4);
  for (size_t n = 0; n < frames; ++n) {
    const auto s = static_cast<uint16_t>(tone_sample(n));
    for (int channel = 0; channel < 2; ++channel) {
      data.push_back(static_cast<uint8_t>(s));
      data.push_back(static_cast<uint8_t>(s >> 8));
    }
  }
  data.resize(data.size() + tone_frames(silence_after) * 4, 0);
  write_wav(path, 1, 2, kRate, 16, data);
}

namespace {

// The backend's WAV of playback stream 0/0 that holds the most tone, of every open.
struct Played {
  ToneReport report;
  std::vector<double> samples;
  unsigned rate = 0, frame_bytes = 0, open = 0;
  std::string opens;  // every open's report
  std::string problem;  // why there is none
};

Played longest_played(const SoftwareXen& xen) {
  Played played;
  std::ostringstream opens;
  for (unsigned open = 1; std::filesystem::exists(xen.sink_wav(0, 0, open)); ++open) {
    Analysed a = analyse_file(xen.sink_wav(0, 0, open));
    if (!a.report) {
      played.problem = a.problem;
      played.open = 0;
      return played;
    }
    opens << "\n  open " << open << ": " << a.report->describe(a.rate);
    if (played.open == 0 || a.report->seconds > played.report.seconds) {
      played.report = *a.report;
      played.samples = std::move(a.samples);
      played.rate = a.rate;
      played.frame_bytes = a.frame_bytes;
      played.open = open;
    }
  }
  played.opens = opens.str();
  if (played.open == 0 && played.problem.empty()) played.problem = "the backend wrote no WAV for playback stream 0/0";
  return played;
}

// How far behind its playback stream 0/0 the backend's loopback capture runs (seconds).
std::optional<double> loopback_lag(const SoftwareXen& xen) {
  std::ifstream log(xen.logs() / "backend.err");
  return e2e::loopback_lag(log, kRate);
}

}  // namespace

namespace {

// Whether a pause of the machine can have made `splice`: frames lost or a gap of digital
// silence (a server mixing in silence for a late client; a PipeWire follower that found less
// than a quantum to read plays a quantum of zeros), never repeated or foreign (stale) frames.
bool only_lost_or_silenced(const RecordedSplice& splice) {
  return splice.dropped >= 0 && splice.foreign <= static_cast<int64_t>(kEdge);
}

// "at 5.98 s 543 frame(s) dropped, 0 of silence and 31 foreign in their place", for a failure.
std::string describe_splice(const RecordedSplice& splice, unsigned rate) {
  return "at " + std::to_string(static_cast<double>(splice.sample) / rate) + " s " + std::to_string(splice.dropped) +
         " frame(s) dropped, " + std::to_string(splice.silence) + " of silence and " +
         std::to_string(splice.foreign) + " foreign in their place";
}

// The backend's WAV of a played tone read against what was played (`source`: write_tone()'s
// tone, or the backend's sine come back through a loopback), when it is that bit for bit (a
// server at unity volume), so that every splice is found, even one the tone check cannot
// see, and what each lost is measured.
struct PlayedReading {
  ToneReport report;                                // the tone check's, with the splices it missed
  std::vector<size_t> never_the_machine;            // repeated or foreign frames
  std::vector<std::pair<size_t, int64_t>> losses;   // a splice of `report`, the frames it lost
  bool matched = false;                             // whether the WAV is what was played at all
  std::string described;                            // each splice read, for a failure
};

PlayedReading read_played(const Played& played, double seconds, TonePlayed source) {
  const Reference reference =
      source == TonePlayed::kToneFile ? written_tone(seconds) : sine_source(kToneHz, played.rate);
  const RecordingReading reading = read_recording({played.samples, played.report}, reference);
  PlayedReading out{played.report, {}, {}, reading.stretches > 0, ""};
  for (const RecordedSplice& splice : reading.left) {
    const auto marked = std::find_if(out.report.splices.begin(), out.report.splices.end(), [&](size_t at) {
      return at + kEdge >= splice.sample && at <= splice.sample + kEdge;
    });
    const size_t sample = marked != out.report.splices.end() ? *marked : splice.sample;
    if (marked == out.report.splices.end()) out.report.splices.push_back(sample);
    out.described += "; " + describe_splice(splice, played.rate);
    if (!only_lost_or_silenced(splice))
      out.never_the_machine.push_back(sample);
    else
      out.losses.emplace_back(sample, std::max<int64_t>(splice.dropped - splice.silence, 0));
  }
  std::sort(out.report.splices.begin(), out.report.splices.end());
  return out;
}

}  // namespace

void expect_whole_tone_played(const SoftwareXen& xen, double seconds, const std::optional<StallAllowance>& allowance,
                              TonePlayed source, std::chrono::milliseconds settling) {
  const Played played = longest_played(xen);
  ASSERT_NE(played.open, 0u) << played.problem;
  const std::optional<Placement> place = played_placement(xen, played.open, played.rate, played.frame_bytes);
  const PlayedReading reading = read_played(played, seconds, source);
  std::cout << "note: the backend's WAV is " << (reading.matched ? "" : "not ") << "what was played, bit for bit\n";
  const auto never = [&](size_t sample) {
    return std::find(reading.never_the_machine.begin(), reading.never_the_machine.end(), sample) !=
           reading.never_the_machine.end();
  };
  const size_t settled = reading.report.first + static_cast<size_t>(settling.count()) * played.rate / 1000;
  ToneReport after_settling = reading.report;
  std::erase_if(after_settling.splices, [&](size_t sample) { return sample < settled || never(sample); });
  const size_t settling_splices = std::count_if(reading.report.splices.begin(), reading.report.splices.end(),
                                                [&](size_t sample) { return sample < settled; });
  Attribution splices = attribute_splices(after_settling, played.rate, place, allowance);
  for (size_t sample : reading.never_the_machine)
    if (sample >= settled) splices.unexplained.push_back(sample);
  if (settling_splices > 0)
    std::cout << "note: " << settling_splices << " splice point(s) while the graph settled after the tone began\n";
  // What the splices excused (the machine's, or the graph's start) lost is missing from the
  // tone, measured when it was read against the tone.
  int64_t lost = 0;
  for (const auto& [sample, frames] : reading.losses)
    if (std::find(splices.unexplained.begin(), splices.unexplained.end(), sample) == splices.unexplained.end())
      lost += frames;
  expect_report(reading.report, played.rate, seconds - static_cast<double>(lost) / played.rate,
                "backend's WAV of open " + std::to_string(played.open) + " (every open:" + played.opens + ")" +
                    (reading.matched ? ", read against what was played" + reading.described
                                     : ", not what was played bit for bit") +
                    splices.note,
                splices.unexplained);
}

namespace {

// A recording read against what it should hold (recorded_splices.h), checked like
// expect_report(): splices that lost frames are the machine's when `allowance` explains
// them or a stall began within `within` after the first frame lost, which `frame_time` (a
// frame of the reference) puts on the clock (none: it cannot, and every splice is the card's);
// repeated or stale frames never are. `what` names the recording in a failure.
void expect_reading(const Analysed& a, const RecordingReading& reading, double seconds, const std::string& what,
                    const std::optional<Placement>& frame_time, const StallAllowance& allowance,
                    std::chrono::microseconds within) {
  // A recording that is nowhere its reference bit for bit has no splices to read: it fails.
  EXPECT_GT(reading.stretches, 0u) << what << ": no stretch of it is the frames it should hold: "
                                   << a.report->describe(a.rate);
  ToneReport r = *a.report, dropped = *a.report;
  r.splices.clear();
  dropped.splices.clear();
  std::vector<size_t> never_the_machine;
  std::string card_splices;
  for (const RecordedSplice& splice : reading.left) {
    r.splices.push_back(splice.sample);
    // As in the played WAV (read_played), but a splice whose loss could not be measured
    // (nothing dropped, no silence) is the card's. A quantum of zeros with nothing lost was
    // seen right after a follower had skipped frames at a stall, its resync overshooting.
    const bool a_stall_can_explain = only_lost_or_silenced(splice) && (splice.dropped > 0 || splice.silence > 0);
    (a_stall_can_explain ? dropped.splices : never_the_machine).push_back(splice.sample);
    if (!a_stall_can_explain) card_splices += "; " + describe_splice(splice, a.rate) + " (never the machine's)";
  }
  std::optional<Placement> place;
  if (frame_time) {
    place = [&](size_t sample) {
      const auto splice = std::find_if(reading.left.begin(), reading.left.end(),
                                       [&](const RecordedSplice& s) { return s.sample == sample; });
      return (*frame_time)(static_cast<size_t>(std::max<int64_t>(splice->reference_at, 0)));
    };
  }
  Attribution splices = attribute_splices(dropped, a.rate, place, allowance,
                                          [&](size_t, double at) { return allowance.precedes(at, within); });
  splices.unexplained.insert(splices.unexplained.end(), never_the_machine.begin(), never_the_machine.end());
  // What the machine's stalls lost is missing from the recording, measured at each splice.
  int64_t lost = 0;
  for (const RecordedSplice& splice : reading.left)
    if (std::find(splices.unexplained.begin(), splices.unexplained.end(), splice.sample) == splices.unexplained.end())
      lost += std::max<int64_t>(splice.dropped - splice.silence, 0);
  expect_report(r, a.rate, seconds - static_cast<double>(lost) / a.rate, what + splices.note + card_splices,
                splices.unexplained);
}

}  // namespace

void expect_recording_of_playback(const SoftwareXen& xen, const std::filesystem::path& recording, double seconds,
                                  const StallAllowance& follower, std::chrono::microseconds follower_delay) {
  const Played played = longest_played(xen);
  ASSERT_NE(played.open, 0u) << played.problem;
  Analysed a = analyse_file(recording);
  ASSERT_TRUE(a.report) << "the recording: " << a.problem;
  const RecordingReading reading = not_played_back({a.samples, *a.report}, {played.samples, played.report});
  if (reading.copies > 0)
    std::cout << "note: " << reading.copies << " splice point(s) of the recording are the played tone's own\n";
  // A recorded frame was captured when the played one it copies was played, plus the loop's
  // lag, less every underrun of the played stream before it (the loop's capture drained what
  // it held meanwhile): as if the played stream never ran dry, plus the lag.
  std::optional<Placement> frame_time;
  const std::optional<Placement> played_place =
      played_placement(xen, played.open, played.rate, played.frame_bytes, /*after_underruns=*/false);
  const std::optional<double> lag = loopback_lag(xen);
  if (played_place && lag)
    frame_time = [played_place = *played_place, lag = *lag](size_t frame) { return played_place(frame) + lag; };
  // The recording holds what was played: a tone the machine shortened is judged by
  // expect_whole_tone_played().
  expect_reading(a, reading, std::min(seconds, played.report.seconds),
                 "the recording (" + std::to_string(reading.copies) + " splice point(s) the played tone's own" +
                     (lag ? ", the loop " + std::to_string(*lag * 1000) + " ms behind" : ", the loop's lag not logged") + ")",
                 frame_time, follower, follower_delay);
}

void expect_recording_of_source(const SoftwareXen& xen, const std::filesystem::path& recording, double seconds,
                                const StallAllowance& allowance, std::chrono::microseconds queued) {
  Analysed a = analyse_file(recording);
  ASSERT_TRUE(a.report) << "the recording: " << a.problem;
  const RecordingReading reading = read_recording({a.samples, *a.report}, sine_source(kToneHz, a.rate));
  // The source's frame n was recorded n frames after its capture stream's START.
  std::optional<Placement> frame_time;
  if (const std::optional<double> start = capture_start(xen)) frame_time = from_origin(*start, a.rate);
  expect_reading(a, reading, seconds, "the recording of the backend's sine", frame_time, allowance, queued);
}

bool wait_for_played_bytes(const SoftwareXen& xen, uintmax_t bytes, std::chrono::milliseconds timeout) {
  return wait_in_directory(xen.sink_wav(0, 0, 1).parent_path(), timeout, [&] {
    std::error_code error;
    for (unsigned open = 1; std::filesystem::exists(xen.sink_wav(0, 0, open), error); ++open)
      if (std::filesystem::file_size(xen.sink_wav(0, 0, open), error) > bytes && !error) return true;
    return false;
  });
}

bool wait_for_more_played(const SoftwareXen& xen, double seconds, std::chrono::milliseconds timeout) {
  uintmax_t largest = 0;
  std::optional<WavData> format;
  std::error_code error;
  for (unsigned open = 1; std::filesystem::exists(xen.sink_wav(0, 0, open), error); ++open) {
    const uintmax_t size = std::filesystem::file_size(xen.sink_wav(0, 0, open), error);
    if (error || size <= largest) continue;
    largest = size;
    format = read_wav(xen.sink_wav(0, 0, open));
  }
  if (!format) return false;
  const size_t frame = size_t{format->channels} * format->bits_per_sample / 8;
  return wait_for_played_bytes(xen, largest + static_cast<uintmax_t>(seconds * format->rate) * frame, timeout);
}

std::string too_noisy_to_judge(const StallAllowance& allowance, std::chrono::microseconds before) {
  const double share = allowance.excused_share(before);
  std::ostringstream why;
  why << std::fixed << std::setprecision(1) << "the machine's stalls excuse " << share * 100 << "% of the run";
  if (share <= kMostExcusedShare) {
    std::cout << "note: " << why.str() << "\n";
    return "";
  }
  why << " (more than " << kMostExcusedShare * 100 << "%): a fault of the card would have been excused that often, "
      << "so this run cannot judge it (" << allowance.machine() << ")";
  return why.str();
}

std::string backend_xruns(SoftwareXen& xen, const std::optional<StallAllowance>& allowance) {
  std::istringstream log(xen.backend().stderr_text());
  std::string xruns, explained;
  std::set<size_t> stalls;  // those that explained an xrun
  for (std::string line; std::getline(log, line);) {
    if (line.find(": underrun #") == std::string::npos && line.find(": overrun #") == std::string::npos) continue;
    const std::optional<double> at = backend_log_time(line);
    const std::optional<size_t> stall = allowance && at ? allowance->explains(*at) : std::nullopt;
    if (stall) {
      explained += line + "\n";
      stalls.insert(*stall);
    } else {
      xruns += line + "\n";
    }
  }
  if (!stalls.empty()) std::cout << "note: backend xruns right after the machine stalled:\n" << explained;
  if (!xruns.empty() && allowance) xruns += "(the machine: " + allowance->machine() + ")\n";
  return xruns;
}

}  // namespace xensnd::e2e
