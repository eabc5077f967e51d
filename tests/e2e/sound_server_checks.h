// What every sound-server case checks, on the backend's side and on the client's: the tone
// arrived whole (tone_check.h), and the backend's device never ran dry or overflowed.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/e2e/software_xen.h"
#include "tests/e2e/stall_allowance.h"
#include "tests/e2e/tone_check.h"

namespace xensnd::e2e {

// How long each case plays: 30 s, as issue-level acceptance asks (XENSND_E2E_SOUND_SECONDS
// shortens it when working on the tests), rounded up to whole 1024-frame blocks at 48 kHz.
double sound_seconds();

// A WAV holding kToneHz at kToneAmplitude for `seconds` (16-bit stereo, 48 kHz).
void write_tone(const std::filesystem::path& path, double seconds);

// The tone in a WAV file (channel 0): every splice, gap and the span's length must be right.
// `seconds`: how long the tone must last (at least, within 10 ms). With `allowance`, splices
// it attributes to the machine are not the card's, the WAV's sample 0 being at `origin` on
// the monotonic clock (none: every splice is the card's).
void expect_whole_tone(const std::filesystem::path& wav, double seconds, const std::string& what,
                       const std::optional<StallAllowance>& allowance = std::nullopt,
                       std::optional<double> origin = std::nullopt);

// When the card's capture stream 0/1 started, if only one of its opens started: a client's
// recording begins there (its first frames), which places the recording on the clock.
std::optional<double> capture_start(const SoftwareXen& xen);

// The same on the backend's WAV of playback stream 0/0, over every open of it: the tone must
// be whole in one of them (a reopen in the middle of the tone is a gap the user hears), but
// for splices `allowance` attributes to the machine (stall_allowance.h).
// With `settling`, splices that soon after the tone began are the graph's start-up (the
// card's stream started with the tone already in it: the loopback's source).
void expect_whole_tone_played(const SoftwareXen& xen, double seconds,
                              const std::optional<StallAllowance>& allowance = std::nullopt,
                              std::chrono::milliseconds settling = std::chrono::milliseconds(0));

// Blocks until one of the backend's WAVs of playback stream 0/0 holds more than `bytes`
// (header included): sound servers open the stream more than once (probing, suspending).
bool wait_for_played_bytes(const SoftwareXen& xen, uintmax_t bytes, std::chrono::milliseconds timeout);

// Blocks until the backend's largest WAV of playback stream 0/0 has grown by `seconds` of
// audio: a server that keeps its sink running after the client left (PulseAudio) has then
// played out what it had queued, so stopping it cuts nothing.
bool wait_for_more_played(const SoftwareXen& xen, double seconds, std::chrono::milliseconds timeout);

// A client's recording of the backend's loopback of playback stream 0/0 ("loopback:0/0"),
// checked like expect_whole_tone(), with `follower` for the capture side (a source following
// the sink's clock resyncs after shorter stalls than a graph cycle). The loop copies frames bit
// for bit, so each splice of the recording is read against the backend's WAV
// (loopback_recording.h): the played tone's own splices coming back are not the capture
// path's; frames the recording lost are, unless the follower skipped them when a stall pushed
// its delay too far: they were recorded up to `follower_delay` before the stall (the oldest
// it held), and the recording may be shorter by exactly those. Repeated or stale frames are
// always the card's. The recording is placed on the clock by the played WAV (the backend's
// START of 0/0) and the loop's lag (what the backend's loopback held when it began
// delivering, from its log).
void expect_recording_of_playback(const SoftwareXen& xen, const std::filesystem::path& recording, double seconds,
                                  const StallAllowance& follower, std::chrono::microseconds follower_delay);

// The backend's log lines that report an underrun or an overrun of its device, but for those
// `allowance` attributes to the machine (stall_allowance.h).
std::string backend_xruns(SoftwareXen& xen, const std::optional<StallAllowance>& allowance = std::nullopt);

}  // namespace xensnd::e2e
