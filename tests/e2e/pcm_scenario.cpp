// xensnd-pcm-scenario: drives an ALSA PCM through the sequences aplay cannot (pause, drain
// variants, mmap, xrun, rewind, full duplex, fork, open/close loops) and checks what alsa-lib
// reports along the way. Used by the end-to-end tests; works on any ALSA device.
//
//   xensnd-pcm-scenario SCENARIO key=value...
// Keys: device (xensnd), format (S16_LE), rate (48000), channels (2), period (1024 frames),
// periods (4), input (raw file to play), output (raw file to write), and per scenario below.
// Prints "fact NAME=VALUE" lines; on a failed check prints "FAIL: why" to stderr, exits 1.
#include <alsa/asoundlib.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::map<std::string, std::string> g_args;

std::string arg(const std::string& key, const std::string& fallback) {
  auto it = g_args.find(key);
  return it == g_args.end() ? fallback : it->second;
}
long num(const std::string& key, long fallback) { return std::stol(arg(key, std::to_string(fallback))); }

void check(bool ok, const std::string& what) {
  if (!ok) throw Failure(what);
}
int alsa(int err, const std::string& what) {
  if (err < 0) throw Failure(what + ": " + snd_strerror(err));
  return err;
}
template <typename T>
void fact(const std::string& name, const T& value) {
  std::printf("fact %s=%s\n", name.c_str(), std::to_string(value).c_str());
  std::fflush(stdout);
}

std::vector<uint8_t> read_input() {
  std::ifstream in(arg("input", ""), std::ios::binary);
  check(in.good(), "cannot read input=" + arg("input", ""));
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct Pcm {
  snd_pcm_t* handle = nullptr;
  snd_pcm_uframes_t buffer = 0, period = 0, boundary = 0;
  unsigned frame_bytes = 0;
  ~Pcm() {
    if (handle) snd_pcm_close(handle);
  }
};

void open_pcm(Pcm& pcm, snd_pcm_stream_t direction, int mode, snd_pcm_access_t access,
              bool manual_start = false) {
  const std::string device = arg("device", "xensnd");
  alsa(snd_pcm_open(&pcm.handle, device.c_str(), direction, mode), "snd_pcm_open " + device);
  snd_pcm_hw_params_t* hw;
  snd_pcm_hw_params_alloca(&hw);
  alsa(snd_pcm_hw_params_any(pcm.handle, hw), "hw_params_any");
  alsa(snd_pcm_hw_params_set_access(pcm.handle, hw, access), "set_access");
  const snd_pcm_format_t format = snd_pcm_format_value(arg("format", "S16_LE").c_str());
  check(format != SND_PCM_FORMAT_UNKNOWN, "unknown format " + arg("format", ""));
  alsa(snd_pcm_hw_params_set_format(pcm.handle, hw, format), "set_format");
  alsa(snd_pcm_hw_params_set_channels(pcm.handle, hw, static_cast<unsigned>(num("channels", 2))), "set_channels");
  alsa(snd_pcm_hw_params_set_rate(pcm.handle, hw, static_cast<unsigned>(num("rate", 48000)), 0), "set_rate");
  snd_pcm_uframes_t period = static_cast<snd_pcm_uframes_t>(num("period", 1024));
  alsa(snd_pcm_hw_params_set_period_size(pcm.handle, hw, period, 0), "set_period_size");
  alsa(snd_pcm_hw_params_set_periods(pcm.handle, hw, static_cast<unsigned>(num("periods", 4)), 0), "set_periods");
  alsa(snd_pcm_hw_params(pcm.handle, hw), "hw_params");
  snd_pcm_hw_params_get_buffer_size(hw, &pcm.buffer);
  snd_pcm_hw_params_get_period_size(hw, &pcm.period, nullptr);
  pcm.frame_bytes = static_cast<unsigned>(snd_pcm_format_physical_width(format) / 8 * num("channels", 2));
  snd_pcm_sw_params_t* sw;
  snd_pcm_sw_params_alloca(&sw);
  alsa(snd_pcm_sw_params_current(pcm.handle, sw), "sw_params_current");
  snd_pcm_sw_params_get_boundary(sw, &pcm.boundary);
  if (manual_start) alsa(snd_pcm_sw_params_set_start_threshold(pcm.handle, sw, pcm.boundary), "start_threshold");
  alsa(snd_pcm_sw_params(pcm.handle, sw), "sw_params");
}

// Writes frames [from, to) of `data`, waiting with snd_pcm_wait when the buffer is full.
void write_frames(Pcm& pcm, const std::vector<uint8_t>& data, size_t from, size_t to) {
  while (from < to) {
    const snd_pcm_uframes_t n = std::min<size_t>(to - from, pcm.period);
    snd_pcm_sframes_t r = snd_pcm_writei(pcm.handle, data.data() + from * pcm.frame_bytes, n);
    if (r == -EAGAIN) {
      snd_pcm_wait(pcm.handle, 1000);
      continue;
    }
    alsa(static_cast<int>(std::min<snd_pcm_sframes_t>(r, 0)), "writei");
    from += static_cast<size_t>(r);
  }
}

void write_frames_mmap(Pcm& pcm, const std::vector<uint8_t>& data, size_t from, size_t to) {
  while (from < to) {
    snd_pcm_sframes_t avail = snd_pcm_avail_update(pcm.handle);
    alsa(static_cast<int>(std::min<snd_pcm_sframes_t>(avail, 0)), "avail_update");
    if (avail == 0) {
      if (snd_pcm_state(pcm.handle) == SND_PCM_STATE_PREPARED) alsa(snd_pcm_start(pcm.handle), "start");
      alsa(snd_pcm_wait(pcm.handle, 1000), "wait");
      continue;
    }
    const snd_pcm_channel_area_t* areas;
    snd_pcm_uframes_t offset, frames = std::min<size_t>(static_cast<size_t>(avail), to - from);
    alsa(snd_pcm_mmap_begin(pcm.handle, &areas, &offset, &frames), "mmap_begin");
    uint8_t* dst = static_cast<uint8_t*>(areas[0].addr) + areas[0].first / 8 + offset * areas[0].step / 8;
    std::memcpy(dst, data.data() + from * pcm.frame_bytes, frames * pcm.frame_bytes);
    snd_pcm_sframes_t done = snd_pcm_mmap_commit(pcm.handle, offset, frames);
    check(done == static_cast<snd_pcm_sframes_t>(frames), "mmap_commit committed " + std::to_string(done));
    from += frames;
  }
  if (snd_pcm_state(pcm.handle) == SND_PCM_STATE_PREPARED) alsa(snd_pcm_start(pcm.handle), "start");
}

// Non-blocking drain: -EAGAIN, then poll until the PCM leaves DRAINING (bounded).
void drain_nonblock(Pcm& pcm) {
  alsa(snd_pcm_nonblock(pcm.handle, 1), "nonblock");
  const auto started = Clock::now();
  int err = snd_pcm_drain(pcm.handle);
  fact("drain_first_result", err);
  check(err == -EAGAIN || err == 0, std::string("non-blocking drain returned ") + snd_strerror(err));
  int wakeups = 0;
  const int count = snd_pcm_poll_descriptors_count(pcm.handle);
  std::vector<pollfd> fds(static_cast<size_t>(count));
  while (snd_pcm_state(pcm.handle) == SND_PCM_STATE_DRAINING) {
    check(Clock::now() - started < 10s, "non-blocking drain did not finish within 10 s");
    snd_pcm_poll_descriptors(pcm.handle, fds.data(), static_cast<unsigned>(count));
    if (poll(fds.data(), fds.size(), 2000) <= 0) continue;
    ++wakeups;
    unsigned short revents = 0;
    snd_pcm_poll_descriptors_revents(pcm.handle, fds.data(), static_cast<unsigned>(count), &revents);
  }
  fact("drain_wakeups", wakeups);
  check(wakeups < 1000, "non-blocking drain busy-looped");
  fact("drain_end_state", static_cast<int>(snd_pcm_state(pcm.handle)));
  check(snd_pcm_state(pcm.handle) == SND_PCM_STATE_SETUP, "drain did not end in SETUP");
}

void pause_and_check(Pcm& pcm) {
  alsa(snd_pcm_pause(pcm.handle, 1), "pause");
  check(snd_pcm_state(pcm.handle) == SND_PCM_STATE_PAUSED, "not PAUSED after snd_pcm_pause(1)");
  snd_pcm_sframes_t avail1 = snd_pcm_avail(pcm.handle), delay1 = 0, delay2 = 0;
  alsa(snd_pcm_delay(pcm.handle, &delay1), "delay");
  std::this_thread::sleep_for(std::chrono::milliseconds(num("pause_ms", 300)));  // the pause itself
  snd_pcm_sframes_t avail2 = snd_pcm_avail(pcm.handle);
  alsa(snd_pcm_delay(pcm.handle, &delay2), "delay");
  fact("paused_avail_before", avail1);
  fact("paused_avail_after", avail2);
  fact("paused_delay_before", delay1);
  fact("paused_delay_after", delay2);
  check(avail1 == avail2, "avail moved while paused");
  check(delay1 == delay2, "delay moved while paused");
  alsa(snd_pcm_pause(pcm.handle, 0), "resume");
  check(snd_pcm_state(pcm.handle) == SND_PCM_STATE_RUNNING, "not RUNNING after snd_pcm_pause(0)");
}

int scenario_play() {
  const std::vector<uint8_t> data = read_input();
  const bool mmap = arg("mode", "rw") == "mmap";
  const std::string drain = arg("drain", "block");
  Pcm pcm;
  open_pcm(pcm, SND_PCM_STREAM_PLAYBACK, arg("nonblock", "0") == "1" ? SND_PCM_NONBLOCK : 0,
           mmap ? SND_PCM_ACCESS_MMAP_INTERLEAVED : SND_PCM_ACCESS_RW_INTERLEAVED, drain == "prepared");
  const size_t frames = data.size() / pcm.frame_bytes;
  if (drain == "prepared") check(frames < pcm.buffer, "drain=prepared needs input shorter than the buffer");
  const size_t pause_at = static_cast<size_t>(num("pause_at", 0));
  if (pause_at > 0 && pause_at < frames) {
    (mmap ? write_frames_mmap : write_frames)(pcm, data, 0, pause_at);
    if (snd_pcm_state(pcm.handle) == SND_PCM_STATE_PREPARED) alsa(snd_pcm_start(pcm.handle), "start");
    pause_and_check(pcm);
    (mmap ? write_frames_mmap : write_frames)(pcm, data, pause_at, frames);
  } else if (mmap) {
    write_frames_mmap(pcm, data, 0, frames);
  } else {
    write_frames(pcm, data, 0, frames);
  }
  if (drain == "prepared") {
    fact("state_before_drain", static_cast<int>(snd_pcm_state(pcm.handle)));
    check(snd_pcm_state(pcm.handle) == SND_PCM_STATE_PREPARED, "not PREPARED before drain");
  }
  const auto started = Clock::now();
  if (drain == "nonblock") {
    drain_nonblock(pcm);
  } else if (arg("drain_may_fail", "0") == "1") {
    // The test looks at how the drain ended (e.g. its timeout) rather than requiring success.
    alsa(snd_pcm_nonblock(pcm.handle, 0), "block");
    fact("drain_result", snd_pcm_drain(pcm.handle));
  } else {
    alsa(snd_pcm_nonblock(pcm.handle, 0), "block");
    alsa(snd_pcm_drain(pcm.handle), "drain");
  }
  fact("drain_ms", std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count());
  fact("frames", frames);
  return 0;
}

int scenario_xrun() {
  const std::vector<uint8_t> data = read_input();
  Pcm pcm;
  open_pcm(pcm, SND_PCM_STREAM_PLAYBACK, 0, SND_PCM_ACCESS_RW_INTERLEAVED);
  const size_t frames = data.size() / pcm.frame_bytes;
  const size_t first = std::min(frames / 2, static_cast<size_t>(pcm.buffer));
  write_frames(pcm, data, 0, first);  // fills the buffer: auto-start
  fact("first_run_frames", first);
  check(snd_pcm_state(pcm.handle) == SND_PCM_STATE_RUNNING, "not RUNNING after filling the buffer");
  // Starve the stream: the stimulus of this test, not a synchronisation.
  const auto buffer_time = std::chrono::microseconds(pcm.buffer * 1'000'000 / static_cast<size_t>(num("rate", 48000)));
  std::this_thread::sleep_for(buffer_time * 2 + 200ms);
  snd_pcm_sframes_t r = snd_pcm_writei(pcm.handle, data.data() + first * pcm.frame_bytes, pcm.period);
  fact("write_after_starving", r);
  check(r == -EPIPE, std::string("expected -EPIPE after an underrun, got ") + std::to_string(r));
  check(snd_pcm_state(pcm.handle) == SND_PCM_STATE_XRUN, "state is not XRUN");
  alsa(snd_pcm_prepare(pcm.handle), "prepare after xrun");
  write_frames(pcm, data, first, frames);
  alsa(snd_pcm_drain(pcm.handle), "drain");
  fact("xrun_recovered", 1);
  return 0;
}

int scenario_rewind() {
  const std::vector<uint8_t> data = read_input();  // A | B | C, equal thirds
  Pcm pcm;
  open_pcm(pcm, SND_PCM_STREAM_PLAYBACK, 0, SND_PCM_ACCESS_RW_INTERLEAVED, /*manual_start=*/true);
  const size_t third = data.size() / pcm.frame_bytes / 3;
  const size_t back = static_cast<size_t>(num("rewind", static_cast<long>(third / 2)));
  check(third + 0 <= pcm.buffer, "input thirds must fit the buffer");
  write_frames(pcm, data, 0, third);  // A
  snd_pcm_sframes_t rewindable = snd_pcm_rewindable(pcm.handle);
  fact("rewindable", rewindable);
  snd_pcm_sframes_t rewound = snd_pcm_rewind(pcm.handle, back);
  fact("rewound", rewound);
  check(rewound == static_cast<snd_pcm_sframes_t>(back), "rewind refused");
  write_frames(pcm, data, third, 2 * third);  // B replaces the end of A
  alsa(snd_pcm_start(pcm.handle), "start");
  write_frames(pcm, data, 2 * third, 3 * third);  // C
  alsa(snd_pcm_drain(pcm.handle), "drain");
  fact("final_frames", 3 * third - back);
  return 0;
}

int scenario_open_close() {
  const long count = num("count", 200);
  for (long i = 0; i < count; ++i) {
    Pcm pcm;
    open_pcm(pcm, SND_PCM_STREAM_PLAYBACK, 0, SND_PCM_ACCESS_RW_INTERLEAVED);
    alsa(snd_pcm_prepare(pcm.handle), "prepare");
  }
  fact("opened", count);
  // Let the test read the daemon's counts while this process is alive, then end on SIGTERM.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  std::printf("closed\n");
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  return 0;
}

int scenario_duplex() {
  const std::vector<uint8_t> data = read_input();
  Pcm play, capture;
  open_pcm(capture, SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK, SND_PCM_ACCESS_RW_INTERLEAVED);
  open_pcm(play, SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK, SND_PCM_ACCESS_RW_INTERLEAVED);
  const size_t frames = data.size() / play.frame_bytes;
  const size_t capture_frames = frames + 3 * static_cast<size_t>(num("rate", 48000)) / 2;
  std::vector<uint8_t> captured(capture_frames * capture.frame_bytes);
  alsa(snd_pcm_start(capture.handle), "start capture");
  size_t written = 0, read = 0;
  const auto deadline = Clock::now() + 20s;
  const int np = snd_pcm_poll_descriptors_count(play.handle), nc = snd_pcm_poll_descriptors_count(capture.handle);
  std::vector<pollfd> fds(static_cast<size_t>(np + nc));
  while (read < capture_frames) {
    check(Clock::now() < deadline, "full duplex did not finish in 20 s");
    if (written < frames) {
      snd_pcm_sframes_t r = snd_pcm_writei(play.handle, data.data() + written * play.frame_bytes,
                                           std::min<size_t>(frames - written, play.period));
      if (r > 0) written += static_cast<size_t>(r);
      else if (r != -EAGAIN) alsa(static_cast<int>(r), "duplex writei");
    }
    // Drain everything captured so far: the capture side must never fall behind.
    for (;;) {
      snd_pcm_sframes_t r = snd_pcm_readi(capture.handle, captured.data() + read * capture.frame_bytes,
                                          std::min<size_t>(capture_frames - read, capture.period));
      if (r > 0) read += static_cast<size_t>(r);
      else if (r != -EAGAIN) alsa(static_cast<int>(r), "duplex readi");
      if (r <= 0 || read >= capture_frames) break;
    }
    // Readiness is a level, as with a kernel PCM: a playback stream with room stays ready,
    // so it is polled only while there is something left to write (else this loop spins).
    const size_t play_fds = written < frames ? static_cast<size_t>(np) : 0;
    snd_pcm_poll_descriptors(play.handle, fds.data(), static_cast<unsigned>(np));
    snd_pcm_poll_descriptors(capture.handle, fds.data() + np, static_cast<unsigned>(nc));
    poll(fds.data() + (np - static_cast<int>(play_fds)), play_fds + static_cast<size_t>(nc), 100);
  }
  std::ofstream(arg("output", "captured.raw"), std::ios::binary)
      .write(reinterpret_cast<const char*>(captured.data()), static_cast<std::streamsize>(captured.size()));
  fact("written", written);
  fact("captured", read);
  return 0;
}

// mmap capture the way PipeWire does it: it reads every available frame straight from the
// ring, past the contiguous region snd_pcm_mmap_begin returned, wrapping to the ring's start,
// and commits in two steps. Every frame it reads must be current (with a kernel PCM the whole
// ring is the device buffer). Writes `frames` frames to output.
int scenario_mmap_capture_wrap() {
  Pcm pcm;
  open_pcm(pcm, SND_PCM_STREAM_CAPTURE, 0, SND_PCM_ACCESS_MMAP_INTERLEAVED);
  const size_t want = static_cast<size_t>(num("frames", 48000));
  std::vector<uint8_t> out;
  out.reserve(want * pcm.frame_bytes);
  alsa(snd_pcm_start(pcm.handle), "start");
  int wrapped_reads = 0;
  while (out.size() < want * pcm.frame_bytes) {
    alsa(snd_pcm_wait(pcm.handle, 1000), "wait");
    snd_pcm_sframes_t avail = snd_pcm_avail_update(pcm.handle);
    alsa(static_cast<int>(std::min<snd_pcm_sframes_t>(avail, 0)), "avail_update");
    // At most `chunk` frames a read (7/10 of a period by default): reads start mid-period and
    // some wrap at the ring's end whatever the timing (whole periods would end exactly there).
    avail = std::min<snd_pcm_sframes_t>(avail, num("chunk", static_cast<long>(pcm.period * 7 / 10)));
    const snd_pcm_channel_area_t* areas;
    snd_pcm_uframes_t offset, frames = static_cast<snd_pcm_uframes_t>(avail);
    alsa(snd_pcm_mmap_begin(pcm.handle, &areas, &offset, &frames), "mmap_begin");
    const uint8_t* ring = static_cast<const uint8_t*>(areas[0].addr) + areas[0].first / 8;
    // Everything available, in ring order, wrapping: the part after `frames` is read before
    // the second mmap_begin.
    for (snd_pcm_uframes_t i = 0; i < static_cast<snd_pcm_uframes_t>(avail); ++i) {
      const uint8_t* f = ring + ((offset + i) % pcm.buffer) * pcm.frame_bytes;
      out.insert(out.end(), f, f + pcm.frame_bytes);
    }
    if (static_cast<snd_pcm_uframes_t>(avail) > frames) ++wrapped_reads;
    alsa(static_cast<int>(std::min<snd_pcm_sframes_t>(snd_pcm_mmap_commit(pcm.handle, offset, frames), 0)), "commit");
    const snd_pcm_uframes_t rest = static_cast<snd_pcm_uframes_t>(avail) - frames;
    if (rest > 0) {
      snd_pcm_uframes_t frames2 = rest;
      alsa(snd_pcm_mmap_begin(pcm.handle, &areas, &offset, &frames2), "mmap_begin 2");
      check(frames2 == rest, "the second mmap_begin did not give the wrapped part");
      alsa(static_cast<int>(std::min<snd_pcm_sframes_t>(snd_pcm_mmap_commit(pcm.handle, offset, frames2), 0)), "commit 2");
    }
  }
  out.resize(want * pcm.frame_bytes);
  std::ofstream(arg("output", "captured.raw"), std::ios::binary)
      .write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
  fact("wrapped_reads", wrapped_reads);
  return 0;
}

// A timer-driven reader, as PipeWire's source: wakes every tick= microseconds (1333, a
// quantum of 64 frames at 48 kHz), takes whatever is available and reads it. The pointer of
// a device that records as it goes moves a little at every tick; one that moves a period at
// a time leaves most ticks empty. Facts: the median of the non-zero steps, and how many.
int scenario_capture_steps() {
  Pcm pcm;
  open_pcm(pcm, SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK, SND_PCM_ACCESS_RW_INTERLEAVED);
  const auto tick = std::chrono::microseconds(num("tick", 1333));
  const long want = num("frames", 48000);
  std::vector<uint8_t> buffer(pcm.buffer * pcm.frame_bytes);
  std::vector<long> steps;
  alsa(snd_pcm_start(pcm.handle), "start");
  long got = 0;
  for (auto next = Clock::now(); got < want; next += tick) {
    std::this_thread::sleep_until(next);  // the client's own clock: what is under test is what it finds
    const snd_pcm_sframes_t avail = snd_pcm_avail_update(pcm.handle);
    alsa(static_cast<int>(std::min<snd_pcm_sframes_t>(avail, 0)), "avail_update");
    if (avail == 0) continue;
    steps.push_back(avail);
    const snd_pcm_sframes_t r = snd_pcm_readi(pcm.handle, buffer.data(), static_cast<snd_pcm_uframes_t>(avail));
    alsa(static_cast<int>(std::min<snd_pcm_sframes_t>(r, 0)), "readi");
    got += r;
  }
  check(!steps.empty(), "nothing was ever available");
  std::nth_element(steps.begin(), steps.begin() + static_cast<long>(steps.size() / 2), steps.end());
  fact("median_step", steps[steps.size() / 2]);
  fact("steps", steps.size());
  return 0;
}

// Timer-based schedulers read snd_pcm_status: its timestamp must never go backwards, and the
// frames played (written - delay) must advance with it at the rate. Plays the input with
// blocking writes, taking a status after each; facts: the worst disagreement in us.
int scenario_status_clock() {
  const std::vector<uint8_t> data = read_input();
  Pcm pcm;
  open_pcm(pcm, SND_PCM_STREAM_PLAYBACK, 0, SND_PCM_ACCESS_RW_INTERLEAVED);
  const size_t frames = data.size() / pcm.frame_bytes;
  const double rate = static_cast<double>(num("rate", 48000));
  snd_pcm_status_t* status;
  snd_pcm_status_alloca(&status);
  size_t written = 0;
  bool have_origin = false;
  double origin_time = 0, origin_played = 0, last_time = 0, worst_us = 0;
  int samples = 0;
  // As a timer-based scheduler: wake on a timer unrelated to the periods (a seventh of one),
  // look at the status, write what fits. The status is sampled between positions too.
  const auto tick = std::chrono::microseconds(static_cast<long>(static_cast<double>(pcm.period) * 1e6 / rate / 7));
  while (written < frames) {
    const snd_pcm_sframes_t avail = snd_pcm_avail(pcm.handle);
    alsa(static_cast<int>(std::min<snd_pcm_sframes_t>(avail, 0)), "avail");
    const size_t n = std::min<size_t>(frames - written, static_cast<size_t>(avail));
    if (n > 0) {
      write_frames(pcm, data, written, written + n);
      written += n;
    }
    std::this_thread::sleep_for(tick);
    alsa(snd_pcm_status(pcm.handle, status), "status");
    if (snd_pcm_status_get_state(status) != SND_PCM_STATE_RUNNING) continue;
    snd_htimestamp_t ts;
    snd_pcm_status_get_htstamp(status, &ts);
    const double t = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
    check(t >= last_time, "the status timestamp went backwards");
    last_time = t;
    const double played = static_cast<double>(written) - static_cast<double>(snd_pcm_status_get_delay(status));
    // From the moment a buffer was written (the device is playing steadily then).
    if (!have_origin) {
      if (written < pcm.buffer) continue;
      have_origin = true;
      origin_time = t;
      origin_played = played;
      continue;
    }
    const double error_us = ((t - origin_time) - (played - origin_played) / rate) * 1e6;
    worst_us = std::max(worst_us, std::abs(error_us));
    ++samples;
  }
  alsa(snd_pcm_drain(pcm.handle), "drain");
  fact("status_samples", samples);
  fact("worst_clock_error_us", static_cast<long>(worst_us));
  fact("period_us", static_cast<long>(static_cast<double>(pcm.period) * 1e6 / rate));
  return 0;
}

// Capture that is not read overruns (-EPIPE); prepare recovers and capture goes on.
int scenario_overrun() {
  Pcm pcm;
  open_pcm(pcm, SND_PCM_STREAM_CAPTURE, 0, SND_PCM_ACCESS_RW_INTERLEAVED);
  std::vector<uint8_t> buffer(pcm.period * pcm.frame_bytes);
  alsa(snd_pcm_start(pcm.handle), "start");
  const auto buffer_time = std::chrono::microseconds(pcm.buffer * 1'000'000 / static_cast<size_t>(num("rate", 48000)));
  std::this_thread::sleep_for(buffer_time * 2 + 200ms);  // not reading: the stimulus
  snd_pcm_sframes_t r = snd_pcm_readi(pcm.handle, buffer.data(), pcm.period);
  fact("read_after_starving", r);
  check(r == -EPIPE, "expected -EPIPE after an overrun, got " + std::to_string(r));
  alsa(snd_pcm_prepare(pcm.handle), "prepare after overrun");
  alsa(snd_pcm_start(pcm.handle), "restart");
  // What is read after the recovery goes to output= (the test checks it is the source's).
  std::vector<uint8_t> recovered;
  size_t got = 0;
  while (got < 4 * pcm.period) {
    r = snd_pcm_readi(pcm.handle, buffer.data(), pcm.period);
    alsa(static_cast<int>(std::min<snd_pcm_sframes_t>(r, 0)), "readi after recovery");
    recovered.insert(recovered.end(), buffer.begin(), buffer.begin() + r * pcm.frame_bytes);
    got += static_cast<size_t>(r);
  }
  fact("read_after_recovery", got);
  if (g_args.count("output"))
    std::ofstream(arg("output", ""), std::ios::binary)
        .write(reinterpret_cast<const char*>(recovered.data()), static_cast<std::streamsize>(recovered.size()));
  return 0;
}

// snd_pcm_abort() from another thread ends a blocking drain early.
int scenario_abort() {
  const std::vector<uint8_t> data = read_input();
  Pcm pcm;
  open_pcm(pcm, SND_PCM_STREAM_PLAYBACK, 0, SND_PCM_ACCESS_RW_INTERLEAVED);
  const size_t frames = std::min(data.size() / pcm.frame_bytes, static_cast<size_t>(pcm.buffer));
  write_frames(pcm, data, 0, frames);
  if (snd_pcm_state(pcm.handle) == SND_PCM_STATE_PREPARED) alsa(snd_pcm_start(pcm.handle), "start");
  std::thread aborter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(num("abort_after_ms", 100)));  // the stimulus
    snd_pcm_abort(pcm.handle);
  });
  const auto started = Clock::now();
  const int err = snd_pcm_drain(pcm.handle);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  aborter.join();
  fact("drain_result", err);
  fact("drain_ms", took);
  fact("buffer_ms", static_cast<long>(frames * 1000 / static_cast<size_t>(num("rate", 48000))));
  return 0;
}

// Readiness is level-triggered like a kernel PCM's: with room for avail_min frames the
// descriptors are ready at once, again and again while nothing is written, and a paused
// stream with room is ready without POLLERR (pcm_native.c's snd_pcm_poll).
unsigned short poll_now(Pcm& pcm, int* ready) {
  const int count = snd_pcm_poll_descriptors_count(pcm.handle);
  std::vector<pollfd> fds(static_cast<size_t>(count));
  snd_pcm_poll_descriptors(pcm.handle, fds.data(), static_cast<unsigned>(count));
  *ready = poll(fds.data(), fds.size(), 0);  // a level: no waiting
  unsigned short revents = 0;
  if (*ready > 0)
    alsa(snd_pcm_poll_descriptors_revents(pcm.handle, fds.data(), static_cast<unsigned>(count), &revents),
         "poll_descriptors_revents");
  return revents;
}

int scenario_poll_level() {
  const std::vector<uint8_t> data = read_input();
  Pcm pcm;
  open_pcm(pcm, SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK, SND_PCM_ACCESS_RW_INTERLEAVED, /*manual_start=*/true);
  check(data.size() / pcm.frame_bytes >= pcm.buffer, "poll-level needs an input of a whole buffer");
  // All but one period: avail == avail_min (one period) while running, for a few periods.
  write_frames(pcm, data, 0, pcm.buffer - pcm.period);
  alsa(snd_pcm_start(pcm.handle), "start");
  for (int i = 0; i < 3; ++i) {
    int ready = 0;
    const unsigned short revents = poll_now(pcm, &ready);
    fact("running_poll_ready", ready);
    fact("running_revents", revents);
    check(snd_pcm_state(pcm.handle) == SND_PCM_STATE_RUNNING, "not RUNNING while polling");
    check(ready > 0, "poll() found no descriptor ready while avail >= avail_min (edge-triggered)");
    check(revents == POLLOUT, "revents " + std::to_string(revents) + " while running with room, not POLLOUT");
  }
  alsa(snd_pcm_pause(pcm.handle, 1), "pause");
  for (int i = 0; i < 2; ++i) {
    int ready = 0;
    const unsigned short revents = poll_now(pcm, &ready);
    fact("paused_poll_ready", ready);
    fact("paused_revents", revents);
    check(ready > 0 && revents == POLLOUT, "paused with room: revents " + std::to_string(revents) +
                                               ", not POLLOUT alone (as hw reports)");
  }
  alsa(snd_pcm_pause(pcm.handle, 0), "resume");
  alsa(snd_pcm_drop(pcm.handle), "drop");
  return 0;
}

int scenario_fork() {
  const std::vector<uint8_t> data = read_input();
  Pcm pcm;
  open_pcm(pcm, SND_PCM_STREAM_PLAYBACK, 0, SND_PCM_ACCESS_RW_INTERLEAVED);
  const size_t frames = data.size() / pcm.frame_bytes;
  write_frames(pcm, data, 0, frames / 2);
  pid_t child = fork();
  if (child == 0) {
    // The child closes its copy and tries the card itself: neither may disturb the parent.
    snd_pcm_close(pcm.handle);
    snd_pcm_t* other = nullptr;
    int err = snd_pcm_open(&other, arg("device", "xensnd").c_str(), SND_PCM_STREAM_PLAYBACK, 0);
    if (other) snd_pcm_close(other);
    _exit(err == -EBUSY ? 0 : 3);
  }
  int status = 0;
  waitpid(child, &status, 0);
  fact("child_exit", WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status));
  check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's open of the parent's card was not EBUSY");
  write_frames(pcm, data, frames / 2, frames);
  alsa(snd_pcm_drain(pcm.handle), "drain");
  return 0;
}


// Delay while running, between two CUR_POS events: with periods of 100 ms, positions come
// ten times a second; snd_pcm_delay sampled every 2 ms must go down smoothly in between.
int scenario_delay() {
  Pcm pcm;
  open_pcm(pcm, SND_PCM_STREAM_PLAYBACK, 0, SND_PCM_ACCESS_RW_INTERLEAVED);
  const std::vector<uint8_t> silence(pcm.buffer * pcm.frame_bytes);
  write_frames(pcm, silence, 0, pcm.buffer);  // fills the buffer: auto-start
  check(snd_pcm_state(pcm.handle) == SND_PCM_STATE_RUNNING, "not RUNNING after filling the buffer");
  std::vector<snd_pcm_sframes_t> samples;
  const auto until = Clock::now() + std::chrono::milliseconds(num("sample_ms", 250));
  while (Clock::now() < until) {
    snd_pcm_sframes_t d = 0;
    alsa(snd_pcm_delay(pcm.handle, &d), "delay");
    samples.push_back(d);
    std::this_thread::sleep_for(2ms);  // the sampling interval
  }
  size_t distinct = 1, increases = 0;
  for (size_t i = 1; i < samples.size(); ++i) {
    distinct += samples[i] != samples[i - 1];
    increases += samples[i] > samples[i - 1];
  }
  fact("delay_samples", samples.size());
  fact("delay_distinct", distinct);
  fact("delay_increases", increases);
  fact("delay_first", samples.front());
  fact("delay_last", samples.back());
  fact("buffer", pcm.buffer);
  snd_pcm_drop(pcm.handle);
  return 0;
}

// What hw_params refinement offers (the card's limits) and what set_*_near chooses.
int scenario_refine() {
  snd_pcm_t* handle = nullptr;
  alsa(snd_pcm_open(&handle, arg("device", "xensnd").c_str(), SND_PCM_STREAM_PLAYBACK, 0), "open");
  Pcm pcm;
  pcm.handle = handle;
  snd_pcm_hw_params_t* hw;
  snd_pcm_hw_params_alloca(&hw);
  alsa(snd_pcm_hw_params_any(handle, hw), "hw_params_any");
  unsigned rmin = 0, rmax = 0, cmin = 0, cmax = 0;
  snd_pcm_uframes_t bmax = 0;
  snd_pcm_hw_params_get_rate_min(hw, &rmin, nullptr);
  snd_pcm_hw_params_get_rate_max(hw, &rmax, nullptr);
  snd_pcm_hw_params_get_channels_min(hw, &cmin);
  snd_pcm_hw_params_get_channels_max(hw, &cmax);
  fact("rate_min", rmin);
  fact("rate_max", rmax);
  fact("channels_min", cmin);
  fact("channels_max", cmax);
  fact("test_rate_22050", snd_pcm_hw_params_test_rate(handle, hw, 22050, 0));
  fact("test_format_S32_LE", snd_pcm_hw_params_test_format(handle, hw, SND_PCM_FORMAT_S32_LE));
  alsa(snd_pcm_hw_params_set_access(handle, hw, SND_PCM_ACCESS_RW_INTERLEAVED), "set_access");
  alsa(snd_pcm_hw_params_set_format(handle, hw, SND_PCM_FORMAT_S16_LE), "set_format");
  alsa(snd_pcm_hw_params_set_channels(handle, hw, 2), "set_channels");
  unsigned rate = static_cast<unsigned>(num("rate_near", 30000));
  alsa(snd_pcm_hw_params_set_rate_near(handle, hw, &rate, nullptr), "set_rate_near");
  fact("rate_chosen", rate);
  snd_pcm_hw_params_get_buffer_size_max(hw, &bmax);
  fact("buffer_max_frames", bmax);
  unsigned buffer_us = static_cast<unsigned>(num("buffer_us_near", 1000000));
  alsa(snd_pcm_hw_params_set_buffer_time_near(handle, hw, &buffer_us, nullptr), "set_buffer_time_near");
  alsa(snd_pcm_hw_params(handle, hw), "hw_params");
  snd_pcm_hw_params_get_buffer_size(hw, &pcm.buffer);
  snd_pcm_hw_params_get_period_size(hw, &pcm.period, nullptr);
  fact("buffer_frames", pcm.buffer);
  fact("period_frames", pcm.period);
  pcm.frame_bytes = 4;
  const std::vector<uint8_t> data = read_input();
  write_frames(pcm, data, 0, data.size() / pcm.frame_bytes);
  alsa(snd_pcm_drain(handle), "drain");
  return 0;
}

// The channel-map callbacks through alsa-lib.
int scenario_chmap() {
  Pcm pcm;
  open_pcm(pcm, SND_PCM_STREAM_PLAYBACK, 0, SND_PCM_ACCESS_RW_INTERLEAVED);
  snd_pcm_chmap_query_t** maps = snd_pcm_query_chmaps(pcm.handle);
  check(maps != nullptr, "snd_pcm_query_chmaps returned nothing");
  int offered = 0;
  for (snd_pcm_chmap_query_t** m = maps; *m != nullptr; ++m) {
    ++offered;
    char text[128];
    snd_pcm_chmap_print(&(*m)->map, sizeof text, text);
    std::printf("fact offered_%u=%s\n", (*m)->map.channels, text);
  }
  snd_pcm_free_chmaps(maps);
  fact("offered", offered);
  snd_pcm_chmap_t* current = snd_pcm_get_chmap(pcm.handle);
  check(current != nullptr, "snd_pcm_get_chmap returned nothing");
  char text[128];
  snd_pcm_chmap_print(current, sizeof text, text);
  std::printf("fact current=%s\n", text);
  fact("set_same", snd_pcm_set_chmap(pcm.handle, current));
  std::swap(current->pos[0], current->pos[1]);
  fact("set_swapped", snd_pcm_set_chmap(pcm.handle, current));
  std::free(current);
  std::fflush(stdout);
  return 0;
}

// Losing the card, then opening it again in the same process: the first PCM plays until it
// fails (the test kills the backend after "playing"), prints "lost", waits for a line on the
// FIFO go= (the test writes it once a new backend runs), then plays input= on a new PCM.
int scenario_reopen() {
  const std::vector<uint8_t> data = read_input();
  {
    Pcm pcm;
    open_pcm(pcm, SND_PCM_STREAM_PLAYBACK, 0, SND_PCM_ACCESS_RW_INTERLEAVED);
    std::vector<uint8_t> silence(pcm.period * pcm.frame_bytes);
    bool announced = false;
    const auto deadline = Clock::now() + 20s;
    snd_pcm_sframes_t r = 0;
    int xruns = 0;
    for (;;) {
      check(Clock::now() < deadline, "the first PCM was not lost within 20 s");
      r = snd_pcm_writei(pcm.handle, silence.data(), pcm.period);
      // An underrun is not the loss under test: on a loaded machine this writer can fall
      // behind, and a backend killed after playing all it was given leaves a stream that
      // ran dry (-EPIPE) before its silence counts as gone. Recover as aplay does; the loss
      // must still come as -ENODEV, from a write or from the prepare.
      if (r == -EPIPE) {
        ++xruns;
        r = snd_pcm_prepare(pcm.handle);
        if (r < 0) break;
        continue;
      }
      if (r < 0) break;
      if (!announced && snd_pcm_state(pcm.handle) == SND_PCM_STATE_RUNNING) {
        std::printf("playing\n");
        std::fflush(stdout);
        announced = true;
      }
    }
    fact("xruns_before_the_loss", xruns);
    fact("lost_result", r);
    check(r == -ENODEV, "the lost PCM reported " + std::string(snd_strerror(static_cast<int>(r))) + ", not -ENODEV");
  }
  std::printf("lost\n");
  std::fflush(stdout);
  std::ifstream go(arg("go", ""));
  std::string line;
  check(static_cast<bool>(std::getline(go, line)), "no go line");
  Pcm pcm;
  open_pcm(pcm, SND_PCM_STREAM_PLAYBACK, 0, SND_PCM_ACCESS_RW_INTERLEAVED);
  write_frames(pcm, data, 0, data.size() / pcm.frame_bytes);
  alsa(snd_pcm_drain(pcm.handle), "drain after reopening");
  fact("reopened_frames", data.size() / pcm.frame_bytes);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: xensnd-pcm-scenario play|xrun|rewind|open-close|duplex|fork key=value...\n");
    return 2;
  }
  for (int i = 2; i < argc; ++i) {
    const char* eq = std::strchr(argv[i], '=');
    if (eq == nullptr) {
      std::fprintf(stderr, "bad argument %s (key=value)\n", argv[i]);
      return 2;
    }
    g_args[std::string(argv[i], static_cast<size_t>(eq - argv[i]))] = eq + 1;
  }
  const std::string scenario = argv[1];
  try {
    if (scenario == "play") return scenario_play();
    if (scenario == "xrun") return scenario_xrun();
    if (scenario == "rewind") return scenario_rewind();
    if (scenario == "open-close") return scenario_open_close();
    if (scenario == "duplex") return scenario_duplex();
    if (scenario == "fork") return scenario_fork();
    if (scenario == "abort") return scenario_abort();
    if (scenario == "overrun") return scenario_overrun();
    if (scenario == "poll-level") return scenario_poll_level();
    if (scenario == "mmap-capture-wrap") return scenario_mmap_capture_wrap();
    if (scenario == "capture-steps") return scenario_capture_steps();
    if (scenario == "delay") return scenario_delay();
    if (scenario == "refine") return scenario_refine();
    if (scenario == "chmap") return scenario_chmap();
    if (scenario == "reopen") return scenario_reopen();
    if (scenario == "status-clock") return scenario_status_clock();
    std::fprintf(stderr, "unknown scenario %s\n", scenario.c_str());
    return 2;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "FAIL: %s\n", error.what());
    return 1;
  }
}
