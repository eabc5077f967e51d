// Test fixture: a software Xen with guest domain 1 and one vsnd card (device 0) whose
// backend is a real xensnd-backend process in dom0, and a ScriptedFrontend in this process
// acting as domain 1.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "backend_process.h"
#include "scripted_frontend.h"
#include "sim_daemon.h"

namespace backendtest {

// 48 kHz, s16_le stereo: 4-byte frames, 20 ms periods, four periods a buffer.
inline constexpr uint32_t kRate = 48000;
inline constexpr uint32_t kFrameBytes = 4;
inline constexpr uint32_t kPeriodBytes = 960 * kFrameBytes;
inline constexpr uint32_t kBufferBytes = 4 * kPeriodBytes;

// One PCM with a playback stream (0/0) and a capture stream (0/1).
inline const char* kCardConfig =
    "vsnd=[['CARD, backend=0, short-name=Test, long-name=Test card, sample-rates=8000;44100;48000, "
    "sample-formats=s16_le;s32_le, channels-min=1, channels-max=2, buffer-size=65536', 'PCM, name=pcm0', "
    "'STREAM, unique-id=alsa<default>, type=P', 'STREAM, unique-id=alsa<mic>, type=C']]";

class BackendFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Starts the backend with `args`; the frontend connects unless `connect` is false.
  void start_backend(const std::vector<std::string>& args, bool connect = true);
  void connect();
  // OPENs stream `stream` with the default parameters and a fresh buffer; returns the status.
  int32_t open_stream(size_t stream, uint32_t buffer_bytes = kBufferBytes);
  // Fills period `index` of the stream's buffer (at its ring position) with the test pattern
  // and WRITEs it; returns the status.
  int32_t write_period(size_t stream, uint64_t index, uint32_t buffer_bytes = kBufferBytes);
  int32_t trigger(size_t stream, uint8_t type);
  // The test pattern: byte `i` of the playback stream; never 0, so loopback can find it.
  static std::byte pattern(uint64_t i) { return std::byte(1 + (i * 31 + 7) % 251); }
  std::vector<std::byte> read_file(const std::string& path);

  std::string dir_;  // WAV files, logs
  std::unique_ptr<simtest::SimDaemon> sim_;
  std::unique_ptr<BackendProcess> backend_;
  std::unique_ptr<ScriptedFrontend> frontend_;
};

}  // namespace backendtest
