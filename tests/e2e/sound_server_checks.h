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

// A WAV holding kToneHz at kToneAmplitude for `seconds` (16-bit stereo, 48 kHz), then
// `silence_after` seconds of digital silence.
void write_tone(const std::filesystem::path& path, double seconds, double silence_after = 0);

// Every check below reads the tone in a WAV (channel 0): every splice, gap and the span's
// length must be right, but for splices `allowance` attributes to the machine
// (stall_allowance.h).

// What a sound server played to the card: write_tone()'s file, played by a client, or the
// backend's sine source ("sine:HZ" at kToneHz) recorded through the card (a loopback).
enum class TonePlayed { kToneFile, kBackendSine };

// The backend's WAV of playback stream 0/0, over every open of it: the tone must
// be whole in one of them (a reopen in the middle of the tone is a gap the user hears), but
// for splices `allowance` attributes to the machine (stall_allowance.h).
// When the WAV is what was played bit for bit (a server at unity volume), it is also read
// against it (recorded_splices.h): splices the tone check cannot see are found, repeated or
// foreign frames are never the machine's, and the tone may be shorter by exactly what the
// excused splices lost.
// With `settling`, splices that soon after the tone began are the graph's start-up (the
// card's stream started with the tone already in it: the loopback's source).
void expect_whole_tone_played(const SoftwareXen& xen, double seconds,
                              const std::optional<StallAllowance>& allowance = std::nullopt,
                              TonePlayed source = TonePlayed::kToneFile,
                              std::chrono::milliseconds settling = std::chrono::milliseconds(0));

// Blocks until one of the backend's WAVs of playback stream 0/0 holds more than `bytes`
// (header included): sound servers open the stream more than once (probing, suspending).
bool wait_for_played_bytes(const SoftwareXen& xen, uintmax_t bytes, std::chrono::milliseconds timeout);

// Blocks until the backend's largest WAV of playback stream 0/0 has grown by `seconds` of
// audio: a server that keeps its sink running after the client left (PulseAudio) has then
// played out what it had queued, so stopping it cuts nothing.
bool wait_for_more_played(const SoftwareXen& xen, double seconds, std::chrono::milliseconds timeout);

// A client's recording of the backend's loopback of playback stream 0/0 ("loopback:0/0"),
// checked with `follower` for the capture side (a source following the sink's clock resyncs
// after shorter stalls than a graph cycle). The loop copies frames bit for bit, so each splice
// of the recording is read against the backend's WAV (recorded_splices.h): the played tone's
// own splices coming back are not the capture path's; frames the recording lost are, unless
// a stall explains them (stall_allowance.h) or the follower skipped them when a stall pushed
// its delay too far: they were recorded up to `follower_delay` before the stall (the oldest
// it held). The recording may be shorter than what was played (the backend's WAV) by exactly
// the frames excused. Repeated or stale
// frames are always the card's. The recording is placed on the clock by the played WAV (each
// START of 0/0) and the loop's lag (what the backend's loopback held when it began
// delivering, from its log).
void expect_recording_of_playback(const SoftwareXen& xen, const std::filesystem::path& recording, double seconds,
                                  const StallAllowance& follower, std::chrono::microseconds follower_delay);

// A client's recording of the backend's sine source on capture stream 0/1 ("sine:HZ" at
// kToneHz), checked with `allowance`: each splice is read against the source
// (recorded_splices.h), which names the frames lost there and when the backend recorded them
// (its frame n, n frames after the stream's START); frames lost are the machine's when they
// were recorded during or within 100 ms after a stall, or within `queued` before one (what
// the graph held when it stalled), and the recording may be shorter by exactly those.
// Repeated or stale frames are always the card's.
void expect_recording_of_source(const SoftwareXen& xen, const std::filesystem::path& recording, double seconds,
                                const StallAllowance& allowance, std::chrono::microseconds queued);

// Whether the machine let a run be judged: its stalls excuse a splice in at most
// kMostExcusedShare of it (StallAllowance::excused_share, `before` as the checks use
// precedes()). "" when they do (and a note says how much); otherwise why not, for the test
// to skip with: on such a run a fault of the card is excused as often, and a busy host is not
// the card's failure. Splices no stall explains, stale or repeated frames fail the run all the
// same.
inline constexpr double kMostExcusedShare = 0.2;
std::string too_noisy_to_judge(const StallAllowance& allowance, std::chrono::microseconds before = {});

// The backend's log lines that report an underrun or an overrun of its device, but for those
// `allowance` attributes to the machine (stall_allowance.h).
std::string backend_xruns(SoftwareXen& xen, const std::optional<StallAllowance>& allowance = std::nullopt);

}  // namespace xensnd::e2e
