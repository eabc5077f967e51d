// Reading a loopback recording against the played WAV: the played tone's own splices are taken
// for copies, the capture side's skips are measured exactly, and the loop's lag comes from the
// backend's log after the capture START.
#include "tests/e2e/loopback_recording.h"
#include "tests/e2e/recorded_splices.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

namespace xensnd::e2e {
namespace {

constexpr unsigned kRate = 48000;

// `frames` of the tone in 16-bit steps, from frame `phase` of it on.
std::vector<double> tone(size_t frames, size_t phase = 0) {
  std::vector<double> samples(frames);
  for (size_t n = 0; n < frames; ++n)
    samples[n] = std::lround(kToneAmplitude * std::sin(2 * M_PI * kToneHz * static_cast<double>(n + phase) / kRate) * 32767) /
                 32768.0;
  return samples;
}

std::vector<double> silence(size_t frames) { return std::vector<double>(frames, 0.0); }

std::vector<double> joined(std::initializer_list<std::vector<double>> parts) {
  std::vector<double> all;
  for (const auto& part : parts) all.insert(all.end(), part.begin(), part.end());
  return all;
}

// What a recording of `played` through the loop holds: `lag` frames of silence, then the
// played frames but for those in `skipped` ([first, first + count) of the played WAV).
std::vector<double> recorded(const std::vector<double>& played, size_t lag, std::vector<std::pair<size_t, size_t>> skipped) {
  std::vector<double> out = silence(lag);
  size_t at = 0;
  for (const auto& [first, count] : skipped) {
    out.insert(out.end(), played.begin() + static_cast<std::ptrdiff_t>(at), played.begin() + static_cast<std::ptrdiff_t>(first));
    at = first + count;
  }
  out.insert(out.end(), played.begin() + static_cast<std::ptrdiff_t>(at), played.end());
  return out;
}

ToneReport analysed(const std::vector<double>& samples) { return analyse_tone(samples, kRate, kToneHz, 4); }

TEST(LoopbackRecording, TheToneOwnSplicesComeBackAndEachSkipIsMeasured) {
  // Played: a quantum of silence mixed in at 1 s. Recorded 4860 frames behind, the capture
  // side then dropped a quantum at 2 s and another at 2.2 s, with no played splice between
  // them to say how far the second moved the recording.
  const std::vector<double> played = joined({silence(1000), tone(48000), silence(256), tone(96000, 48000)});
  const std::vector<double> recording = recorded(played, 4860, {{97256, 256}, {106856, 256}});
  const ToneReport played_report = analysed(played), recording_report = analysed(recording);
  ASSERT_EQ(played_report.splices.size(), 2u);   // the silence's two edges
  ASSERT_EQ(recording_report.splices.size(), 4u);
  const RecordingReading reading = not_played_back({recording, recording_report}, {played, played_report});
  EXPECT_EQ(reading.copies, 2u);
  ASSERT_EQ(reading.left.size(), 2u);
  EXPECT_EQ(reading.left[0].reference_at, 97256);
  EXPECT_EQ(reading.left[0].dropped, 256);
  EXPECT_EQ(reading.left[1].reference_at, 106856);  // not 256 frames off
  EXPECT_EQ(reading.left[1].dropped, 256);
}

TEST(LoopbackRecording, SilenceInPlaceOfPlayedFramesLosesThem) {
  // As a PipeWire follower does: a quantum of zeros where it found too little to read, then
  // (the second time) 512 frames forwarded when it found too much.
  const std::vector<double> played = joined({silence(1000), tone(144000)});
  const std::vector<double> recording =
      joined({silence(4000), std::vector<double>(played.begin(), played.begin() + 60000), silence(256),
              std::vector<double>(played.begin() + 60256, played.begin() + 100000), silence(256),
              std::vector<double>(played.begin() + 100512, played.end())});
  const ToneReport played_report = analysed(played), recording_report = analysed(recording);
  ASSERT_EQ(recording_report.splices.size(), 4u);
  const RecordingReading reading = not_played_back({recording, recording_report}, {played, played_report});
  EXPECT_EQ(reading.copies, 0u);
  ASSERT_EQ(reading.left.size(), 2u);  // each block of silence one splice
  EXPECT_EQ(reading.left[0].reference_at, 60000);
  EXPECT_EQ(reading.left[0].dropped, 256);
  EXPECT_EQ(reading.left[0].silence, 256);
  EXPECT_EQ(reading.left[1].reference_at, 100000);
  EXPECT_EQ(reading.left[1].dropped, 512);
  EXPECT_EQ(reading.left[1].silence, 256);
}

TEST(LoopbackRecording, SilencePlayedAndRecordedIsACopy) {
  const std::vector<double> played = joined({silence(1000), tone(48000), silence(256), tone(48000, 48000)});
  const std::vector<double> recording = recorded(played, 4000, {});
  const ToneReport played_report = analysed(played), recording_report = analysed(recording);
  const RecordingReading reading = not_played_back({recording, recording_report}, {played, played_report});
  EXPECT_EQ(reading.copies, 2u);
  EXPECT_TRUE(reading.left.empty());
}

TEST(LoopbackRecording, RepeatedFramesAreANegativeLoss) {
  const std::vector<double> played = joined({silence(1000), tone(96000)});
  // The recording plays frames [50000, 50256) twice.
  std::vector<double> recording = joined({silence(5000), std::vector<double>(played.begin(), played.begin() + 50256),
                                          std::vector<double>(played.begin() + 50000, played.end())});
  const ToneReport played_report = analysed(played), recording_report = analysed(recording);
  const RecordingReading reading = not_played_back({recording, recording_report}, {played, played_report});
  EXPECT_EQ(reading.copies, 0u);
  ASSERT_EQ(reading.left.size(), 1u);
  EXPECT_EQ(reading.left[0].reference_at, 50256);
  EXPECT_EQ(reading.left[0].dropped, -256);
}

TEST(LoopbackRecording, ASpliceOfTheRecordingAloneIsNotACopy) {
  // The recording's frames change where the played ones did not, and none is lost: stale
  // frames written over the tone.
  const std::vector<double> played = joined({silence(1000), tone(96000)});
  std::vector<double> recording = recorded(played, 3000, {});
  for (size_t n = 60000; n < 60256; ++n) recording[n] = -recording[n];
  const ToneReport played_report = analysed(played), recording_report = analysed(recording);
  const RecordingReading reading = not_played_back({recording, recording_report}, {played, played_report});
  EXPECT_EQ(reading.copies, 0u);
  ASSERT_EQ(reading.left.size(), 1u);
  EXPECT_NEAR(reading.left[0].reference_at, 57000, 2);  // where the first inverted sample is not zero
  EXPECT_EQ(reading.left[0].dropped, 256);              // replaced...
  EXPECT_GE(reading.left[0].foreign, 250);              // ...by frames that are not the tone's
}

TEST(LoopbackRecording, ALossTheToneCheckCannotSeeIsFound) {
  // 192 frames are 3.99 cycles of the tone: cut out at the right phase, the sine's recurrence
  // hardly breaks (seen at quantum 64), but the lag moves all the same.
  const std::vector<double> played = joined({silence(1000), tone(96000)});
  std::optional<size_t> unseen;  // where the tone check misses such a loss
  for (size_t at = 60000; at < 60048 && !unseen; ++at)
    if (analysed(recorded(played, 4000, {{at, 192}})).splices.empty()) unseen = at;
  ASSERT_TRUE(unseen) << "the tone check sees a 192-frame loss at every phase";
  const std::vector<double> recording = recorded(played, 4000, {{*unseen, 192}});
  const ToneReport played_report = analysed(played), recording_report = analysed(recording);
  const RecordingReading reading = not_played_back({recording, recording_report}, {played, played_report});
  ASSERT_EQ(reading.left.size(), 1u);
  EXPECT_NEAR(reading.left[0].reference_at, static_cast<int64_t>(*unseen), 2);
  EXPECT_EQ(reading.left[0].dropped, 192);
  EXPECT_EQ(reading.left[0].foreign, 0);
}

TEST(LoopbackRecording, SilenceInsertedWhereTheToneIsZeroRepeatsNothing) {
  // Tone frame 24000 is exactly 0 (997 Hz, half a second in), and 384 frames of silence come
  // right before it (a server mixing in silence for a late client): the first zero of the
  // silence looks like that frame, but nothing was repeated (seen: read as one frame repeated).
  const std::vector<double> played = joined({silence(1000), tone(96000)});
  ASSERT_EQ(played[25000], 0.0);
  const std::vector<double> recording =
      joined({silence(4000), std::vector<double>(played.begin(), played.begin() + 25000), silence(384),
              std::vector<double>(played.begin() + 25000, played.end())});
  const ToneReport played_report = analysed(played), recording_report = analysed(recording);
  const RecordingReading reading = not_played_back({recording, recording_report}, {played, played_report});
  ASSERT_EQ(reading.left.size(), 1u);
  EXPECT_GE(reading.left[0].dropped, 0);
  EXPECT_EQ(reading.left[0].silence - reading.left[0].dropped, 384);  // frames inserted
  EXPECT_EQ(reading.left[0].foreign, 0);
}

TEST(LoopbackRecording, TheLagIsExactOrNone) {
  const std::vector<double> played = joined({silence(1000), tone(96000)});
  const std::vector<double> recording = recorded(played, 4860, {});
  const ToneReport played_report = analysed(played);
  const Reference reference = played_wav(played, played_report);
  EXPECT_EQ(exact_lag(recording, 20000, 21000, reference, 4000, 8192), 4860);
  // 4333 frames off, the tone is within two steps of itself: only the exact lag fits.
  EXPECT_EQ(exact_lag(recording, 20000, 21000, reference, 4860 + 4333, 100), std::nullopt);
  EXPECT_EQ(exact_lag(recording, 100, 1100, reference, 4000, 8192), std::nullopt);  // silence
  EXPECT_EQ(exact_lag(recording, 20000, 20010, reference, 4000, 8192), std::nullopt);  // too short
}

// The backend's sine source as a client records it (tone() rounds at 32767 steps; PipeWire
// scales the card's float samples by 32768 in float and rounds them to even).
std::vector<double> sine_recorded(size_t from_frame, size_t frames) {
  std::vector<double> samples(frames);
  for (size_t n = 0; n < frames; ++n)
    samples[n] = std::nearbyint(static_cast<float>(0.5 * std::sin(2 * M_PI * kToneHz * static_cast<double>(from_frame + n) / kRate)) *
                                32768.0f) / 32768;
  return samples;
}

RecordingReading read_against_sine(const std::vector<double>& recording) {
  const ToneReport report = analysed(recording);
  return read_recording({recording, report}, sine_source(kToneHz, kRate));
}

TEST(SineRecording, EachLossNamesTheSourceFramesLost) {
  // The recording begins with source frame 3000, then loses 64 frames at source frame 500000
  // and 448 more at 1000000 (whole quanta, as pw-record at quantum 64 does).
  const std::vector<double> recording = joined({sine_recorded(3000, 497000), sine_recorded(500064, 499936),
                                                sine_recorded(1000448, 100000)});
  const ToneReport report = analysed(recording);
  ASSERT_EQ(report.splices.size(), 2u);
  const RecordingReading reading = read_recording({recording, report}, sine_source(kToneHz, kRate));
  EXPECT_EQ(reading.copies, 0u);
  ASSERT_EQ(reading.left.size(), 2u);
  EXPECT_EQ(reading.left[0].reference_at, 500000);
  EXPECT_EQ(reading.left[0].dropped, 64);
  EXPECT_EQ(reading.left[1].reference_at, 1000000);
  EXPECT_EQ(reading.left[1].dropped, 448);
}

TEST(SineRecording, ALossRightAfterAnotherIsMeasuredOnItsOwn) {
  // Two quanta lost 64 frames apart (seen at quantum 64, where the tone check marked only the
  // first): each is its own splice, and the loss after them is not moved onto a later one.
  const std::vector<double> recording = joined({sine_recorded(0, 400000), sine_recorded(400064, 64),
                                                sine_recorded(400192, 200000), sine_recorded(600256, 100000)});
  const RecordingReading reading = read_against_sine(recording);
  ASSERT_EQ(reading.left.size(), 3u);
  EXPECT_EQ(reading.left[0].reference_at, 400000);
  EXPECT_EQ(reading.left[0].dropped, 64);
  EXPECT_NEAR(reading.left[1].reference_at, 400128, 2);
  EXPECT_EQ(reading.left[1].dropped, 64);
  EXPECT_NEAR(reading.left[2].reference_at, 600192, 2);
  EXPECT_EQ(reading.left[2].dropped, 64);
}

TEST(SineRecording, AQuantumKeptBetweenLossesIsAStretchOfItsOwn) {
  // As PipeWire at quantum 64 did: a quantum lost, the next one kept, then silence in place
  // of two more; the kept one was read as 63 frames that were neither the source nor silence
  // (its first frame taken for the stretch before's). A stretch of 40 frames is found.
  const std::vector<double> recording = joined({sine_recorded(0, 300000), sine_recorded(300064, 40), silence(128),
                                                sine_recorded(300232, 100000)});
  const RecordingReading reading = read_against_sine(recording);
  ASSERT_EQ(reading.left.size(), 2u);
  EXPECT_EQ(reading.left[0].dropped, 64);
  EXPECT_EQ(reading.left[0].foreign, 0);
  EXPECT_NEAR(reading.left[1].reference_at, 300104, 2);
  EXPECT_EQ(reading.left[1].dropped - reading.left[1].silence, 0);  // silence in place of frames
  EXPECT_EQ(reading.left[1].foreign, 0);
}

TEST(SineRecording, ASourceRoundedOtherwiseIsNotMatched) {
  // The tone at 32767 steps is not the source as a client records it: no lag is claimed.
  const std::vector<double> recording = tone(48000);
  EXPECT_EQ(exact_lag(recording, 1000, 2000, sine_source(kToneHz, kRate), 0, 23999), std::nullopt);
}

TEST(LoopbackRecording, TheLagIsWhatTheLoopHeldAfterTheCaptureStarted) {
  std::istringstream log(
      "xensnd-backend[10.000] info: loopback from 0/0: delivering, 9999 frames buffered\n"  // an earlier open
      "xensnd-backend[11.000] info: vsnd 1/0 stream 0/1: START at position 0\n"
      "xensnd-backend[11.110] info: loopback from 0/0: delivering, 5280 frames buffered\n");
  const std::optional<double> lag = loopback_lag(log, 48000);
  ASSERT_TRUE(lag);
  EXPECT_DOUBLE_EQ(*lag, 0.11);
}

TEST(LoopbackRecording, NoLagWithoutTheLine) {
  std::istringstream log("xensnd-backend[11.000] info: vsnd 1/0 stream 0/1: START at position 0\n");
  EXPECT_FALSE(loopback_lag(log, 48000));
}

}  // namespace
}  // namespace xensnd::e2e
