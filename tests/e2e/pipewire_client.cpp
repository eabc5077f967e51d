// xensnd-pw-client: a PipeWire client that plays or records in PipeWire's real-time data
// thread, for the quantum-64 cases of pipewire_test.cpp.
//
// Why not pw-play / pw-record there: pw-cat (0.3.65) connects its stream without
// PW_STREAM_FLAG_RT_PROCESS, so its process callback runs on its main loop, woken by the data
// thread once a cycle. At a quantum of 64 frames that main loop has one 1.3 ms cycle to hand
// over the next block; when it misses, the graph mixes in a quantum of silence (playback) or
// the stream drops one (capture), with no warning from PipeWire, no xrun at its ALSA node and
// no underrun at the backend (tests/e2e/CMakeLists.txt, 2026-11-29). Running pw-cat SCHED_FIFO
// narrowed that window but cannot close it: the backend, the software Xen and PipeWire's own
// data threads rank above it, as they should. Clients that ask for such latencies
// (pipewire-jack's, games, voice) process in the data thread, as this one does; its file is
// read before the stream starts (playback) or written by the main loop from a ring of several
// seconds (capture), so what it plays and records is what the graph and the card did.
//
// Usage: xensnd-pw-client play|record --latency FRAMES FILE.wav
//   play:   FILE is 48 kHz stereo S16_LE (the tests' tone); exits 0 once PipeWire drained it.
//   record: writes 48 kHz stereo S16_LE to FILE as it arrives until SIGINT or SIGTERM; exits 0
//           unless frames were lost inside this client (the writer fell behind the ring),
//           which it names.
#include <pipewire/pipewire.h>
#include <signal.h>
#include <spa/param/audio/format-utils.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "backend/wav_file.h"
#include "protocol/sndif_abi.h"
#include "tests/e2e/audio_data.h"
#include "tests/e2e/byte_ring.h"

namespace {

constexpr uint32_t kRate = 48000;
constexpr uint32_t kChannels = 2;
constexpr uint32_t kStride = kChannels * sizeof(int16_t);
// Capture: how much the data thread may get ahead of the file writer (the main loop).
constexpr size_t kRingBytes = size_t{16} * kRate * kStride;  // 16 s
constexpr uint64_t kWriteIntervalNs = 10'000'000;            // 10 ms

struct Client {
  bool playback = true;
  pw_main_loop* loop = nullptr;
  pw_stream* stream = nullptr;
  std::string failure;

  // Playback: the whole file, and how far the data thread got.
  std::vector<uint8_t> samples;
  size_t next_byte = 0;
  bool all_queued = false;  // touched by the data thread only
  spa_source* drain_request = nullptr;

  // Capture.
  std::unique_ptr<xensnd::e2e::ByteRing> ring;
  std::atomic<uint64_t> lost_bytes{0};
  std::unique_ptr<xensnd::backend::WavWriter> file;  // keeps the header's sizes current
  std::string write_error;
};

void on_process(void* userdata) {
  auto* client = static_cast<Client*>(userdata);
  if (client->playback && client->all_queued) return;
  pw_buffer* buffer = pw_stream_dequeue_buffer(client->stream);
  if (buffer == nullptr) return;
  spa_data& data = buffer->buffer->datas[0];
  if (data.data == nullptr) {
    pw_stream_queue_buffer(client->stream, buffer);
    return;
  }
  auto* bytes = static_cast<uint8_t*>(data.data);
  if (client->playback) {
    uint64_t frames = data.maxsize / kStride;
    if (buffer->requested > 0) frames = std::min<uint64_t>(frames, buffer->requested);
    const size_t size = std::min<size_t>(frames * kStride, client->samples.size() - client->next_byte);
    std::memcpy(bytes, client->samples.data() + client->next_byte, size);
    client->next_byte += size;
    data.chunk->offset = 0;
    data.chunk->stride = kStride;
    data.chunk->size = static_cast<uint32_t>(size);
    pw_stream_queue_buffer(client->stream, buffer);
    if (client->next_byte == client->samples.size()) {
      client->all_queued = true;
      // The drain is asked for from the main loop: an eventfd write is all this thread does.
      pw_loop_signal_event(pw_main_loop_get_loop(client->loop), client->drain_request);
    }
    return;
  }
  // Capture: the chunk's bounds come from the graph; stay within the mapped buffer.
  const uint32_t offset = std::min(data.chunk->offset, data.maxsize);
  const uint32_t size = std::min(data.chunk->size, data.maxsize - offset);
  if (!client->ring->push(bytes + offset, size)) client->lost_bytes.fetch_add(size, std::memory_order_relaxed);
  pw_stream_queue_buffer(client->stream, buffer);
}

void on_drain_request(void* userdata, uint64_t /*count*/) {
  auto* client = static_cast<Client*>(userdata);
  pw_stream_flush(client->stream, true);
}

void on_drained(void* userdata) { pw_main_loop_quit(static_cast<Client*>(userdata)->loop); }

void on_state_changed(void* userdata, pw_stream_state /*old*/, pw_stream_state state, const char* error) {
  auto* client = static_cast<Client*>(userdata);
  if (state == PW_STREAM_STATE_ERROR || (state == PW_STREAM_STATE_UNCONNECTED && client->failure.empty())) {
    client->failure = std::string("the stream ") + (state == PW_STREAM_STATE_ERROR ? "failed" : "was disconnected") +
                      (error != nullptr ? std::string(": ") + error : std::string());
    pw_main_loop_quit(client->loop);
  }
}

// Called from libpipewire's C loop: an error is kept and ends the loop, never thrown through it.
void write_pending(Client& client) {
  if (!client.write_error.empty()) return;
  try {
    client.ring->drain([&](const uint8_t* data, size_t size) {
      client.file->append(std::as_bytes(std::span(data, size)));
    });
  } catch (const std::exception& error) {
    client.write_error = error.what();
    pw_main_loop_quit(client.loop);
  }
}

void on_write_timer(void* userdata, uint64_t /*expirations*/) { write_pending(*static_cast<Client*>(userdata)); }

void on_quit_signal(void* userdata, int /*signal*/) { pw_main_loop_quit(static_cast<Client*>(userdata)->loop); }

int usage(const char* message) {
  std::fprintf(stderr, "xensnd-pw-client: %s\nusage: xensnd-pw-client play|record --latency FRAMES FILE.wav\n",
               message);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5 || std::strcmp(argv[2], "--latency") != 0) return usage("wrong arguments");
  Client client;
  const std::string mode = argv[1];
  if (mode != "play" && mode != "record") return usage("the mode must be play or record");
  client.playback = mode == "play";
  char* end = nullptr;
  const unsigned long latency = std::strtoul(argv[3], &end, 10);
  if (end == argv[3] || *end != '\0' || latency == 0 || latency > 65536)
    return usage("--latency must be a number of frames from 1 to 65536");
  const std::string path = argv[4];

  if (client.playback) {
    const auto wav = xensnd::e2e::read_wav(path);
    if (!wav) return usage(("cannot read a WAV file from " + path).c_str());
    if (wav->format_tag != 1 || wav->channels != kChannels || wav->bits_per_sample != 16 || wav->rate != kRate)
      return usage((path + " is not 48 kHz stereo 16-bit PCM").c_str());
    client.samples = wav->data;
    client.samples.resize(client.samples.size() / kStride * kStride);
    if (client.samples.empty()) return usage((path + " holds no frames").c_str());
  } else {
    try {
      client.file = std::make_unique<xensnd::backend::WavWriter>(
          path, xensnd::backend::PcmParams{.rate = kRate, .format = XENSND_PCM_FORMAT_S16_LE, .channels = kChannels,
                                           .sample_bytes = sizeof(int16_t)});
    } catch (const std::exception& error) {
      std::fprintf(stderr, "xensnd-pw-client: %s\n", error.what());
      return 1;
    }
    client.ring = std::make_unique<xensnd::e2e::ByteRing>(kRingBytes);
  }

  pw_init(&argc, &argv);
  client.loop = pw_main_loop_new(nullptr);
  pw_loop* loop = pw_main_loop_get_loop(client.loop);
  pw_loop_add_signal(loop, SIGINT, on_quit_signal, &client);
  pw_loop_add_signal(loop, SIGTERM, on_quit_signal, &client);
  spa_source* write_timer = nullptr;
  if (client.playback) {
    client.drain_request = pw_loop_add_event(loop, on_drain_request, &client);
  } else {
    write_timer = pw_loop_add_timer(loop, on_write_timer, &client);
    timespec interval{0, static_cast<long>(kWriteIntervalNs)};
    pw_loop_update_timer(loop, write_timer, &interval, &interval, false);
  }

  pw_properties* props = pw_properties_new(PW_KEY_MEDIA_TYPE, "Audio", PW_KEY_MEDIA_CATEGORY,
                                           client.playback ? "Playback" : "Capture", PW_KEY_MEDIA_ROLE, "Music",
                                           PW_KEY_APP_NAME, "xensnd-pw-client", nullptr);
  pw_properties_setf(props, PW_KEY_NODE_LATENCY, "%lu/%u", latency, kRate);
  pw_properties_setf(props, PW_KEY_NODE_RATE, "1/%u", kRate);
  pw_stream_events events{};
  events.version = PW_VERSION_STREAM_EVENTS;
  events.state_changed = on_state_changed;
  events.process = on_process;
  events.drained = on_drained;
  client.stream = pw_stream_new_simple(loop, client.playback ? "xensnd-pw-client-play" : "xensnd-pw-client-record",
                                       props, &events, &client);
  int status = 0;
  if (client.stream == nullptr) {
    std::fprintf(stderr, "xensnd-pw-client: cannot create a stream: %s\n", std::strerror(errno));
    status = 1;
  } else {
    uint8_t pod_bytes[1024];
    spa_pod_builder builder{};
    spa_pod_builder_init(&builder, pod_bytes, sizeof(pod_bytes));
    spa_audio_info_raw info{};
    info.format = SPA_AUDIO_FORMAT_S16_LE;
    info.rate = kRate;
    info.channels = kChannels;
    info.position[0] = SPA_AUDIO_CHANNEL_FL;
    info.position[1] = SPA_AUDIO_CHANNEL_FR;
    const spa_pod* params[1] = {spa_format_audio_raw_build(&builder, SPA_PARAM_EnumFormat, &info)};
    const auto flags = static_cast<pw_stream_flags>(PW_STREAM_FLAG_AUTOCONNECT | PW_STREAM_FLAG_MAP_BUFFERS |
                                                    PW_STREAM_FLAG_RT_PROCESS);
    const int connected = pw_stream_connect(client.stream, client.playback ? PW_DIRECTION_OUTPUT : PW_DIRECTION_INPUT,
                                            PW_ID_ANY, flags, params, 1);
    if (connected < 0) {
      std::fprintf(stderr, "xensnd-pw-client: cannot connect the stream: %s\n", std::strerror(-connected));
      status = 1;
    } else {
      pw_main_loop_run(client.loop);
      if (!client.failure.empty()) {
        std::fprintf(stderr, "xensnd-pw-client: %s\n", client.failure.c_str());
        status = 1;
      }
    }
    // Destroying the stream stops the data thread's calls before the ring is read a last time.
    pw_stream_destroy(client.stream);
  }

  if (!client.playback) {
    write_pending(client);
    client.file.reset();  // its header's sizes were rewritten at every append
    if (!client.write_error.empty()) {
      std::fprintf(stderr, "xensnd-pw-client: %s\n", client.write_error.c_str());
      status = 1;
    }
    if (const uint64_t lost = client.lost_bytes.load(); lost > 0) {
      std::fprintf(stderr, "xensnd-pw-client: lost %llu frames inside this client: its writer fell behind by %zu s\n",
                   static_cast<unsigned long long>(lost / kStride), kRingBytes / (kRate * kStride));
      status = 1;
    }
  }
  if (write_timer != nullptr) pw_loop_destroy_source(loop, write_timer);
  if (client.drain_request != nullptr) pw_loop_destroy_source(loop, client.drain_request);
  pw_main_loop_destroy(client.loop);
  pw_deinit();
  return status;
}
