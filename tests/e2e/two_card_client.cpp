// xensnd-two-card-client: plays on one card while another card of the same process is
// connecting to a backend that never answers, and reports how long the playing card's writes
// were held up. While the slow open runs, a helper thread keeps touching the playing card's
// XenStore directory, so the playing card's watch fires and its callbacks look at XenStore.
//
//   xensnd-two-card-client FAST_PCM SLOW_PCM PERIOD_FRAMES
// Prints "fact NAME=VALUE" lines: max_write_ms (longest writei of one period while the slow
// open ran), xruns (underruns while it ran), slow_open_ms, slow_open_error. Exit 0 unless a step failed outright.
#include <alsa/asoundlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "xenio/xenstore.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

int fail(const std::string& what, int err) {
  std::fprintf(stderr, "FAIL: %s: %s\n", what.c_str(), snd_strerror(err));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s FAST_PCM SLOW_PCM PERIOD_FRAMES\n", argv[0]);
    return 2;
  }
  const unsigned period = static_cast<unsigned>(std::atoi(argv[3]));
  const unsigned rate = 48000, channels = 2;
  snd_pcm_t* fast = nullptr;
  if (int err = snd_pcm_open(&fast, argv[1], SND_PCM_STREAM_PLAYBACK, 0); err < 0) return fail("open fast", err);
  if (int err = snd_pcm_set_params(fast, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED, channels, rate, 0,
                                   period * 4 * 1000000ull / rate);
      err < 0)
    return fail("set_params fast", err);
  snd_pcm_uframes_t buffer = 0, got_period = 0;
  snd_pcm_get_params(fast, &buffer, &got_period);
  std::printf("fact period=%lu\nfact buffer=%lu\n", got_period, buffer);
  std::vector<int16_t> samples(got_period * channels, 0);

  std::atomic<int> phase{0};  // 0 before, 1 during, 2 after the slow open
  std::atomic<long> slow_ms{0};
  std::atomic<int> slow_error{0};
  // The baseline: the same writes (and touches) before the slow open, for diagnosis.
  long max_before_us = 0;
  for (int i = 0; i < 8; ++i) {
    const auto start = Clock::now();
    snd_pcm_sframes_t n = snd_pcm_writei(fast, samples.data(), got_period);
    if (n < 0 && snd_pcm_recover(fast, static_cast<int>(n), 1) < 0) return fail("writei fast", static_cast<int>(n));
    const long us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
    if (i >= 4 && us > max_before_us) max_before_us = us;  // once the buffer is full
  }
  std::printf("fact max_write_before_ms=%ld\n", max_before_us / 1000);
  std::fflush(stdout);
  std::thread slow([&] {
    phase = 1;
    const auto start = Clock::now();
    snd_pcm_t* pcm = nullptr;
    int err = snd_pcm_open(&pcm, argv[2], SND_PCM_STREAM_PLAYBACK, 0);
    slow_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    slow_error = err;
    if (err == 0) snd_pcm_close(pcm);
    phase = 2;
  });
  // Pacing, not synchronisation: one touch per period makes the fast card's watch fire
  // throughout the slow open.
  std::thread toucher([&] {
    std::unique_ptr<xenio::XenStore> store = xenio::open_xenstore();
    int n = 0;
    while (phase.load() != 2) {
      store->write("device/vsnd/0/two-card-client-touch", std::to_string(++n));
      std::this_thread::sleep_for(std::chrono::microseconds(got_period * 1000000ull / rate));
    }
    store->remove("device/vsnd/0/two-card-client-touch");
  });

  long max_write_us = 0, xruns = 0, writes_during = 0;
  int after = 0;
  while (after < 8) {
    const bool during = phase.load() == 1;
    const auto start = Clock::now();
    snd_pcm_sframes_t n = snd_pcm_writei(fast, samples.data(), got_period);
    const long us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
    if (n == -EPIPE) {
      if (during) ++xruns;
      snd_pcm_prepare(fast);
      continue;
    }
    if (n < 0) return fail("writei fast", static_cast<int>(n));
    if (during) {
      ++writes_during;
      if (us > max_write_us) max_write_us = us;
    }
    if (phase.load() == 2) ++after;
  }
  slow.join();
  toucher.join();
  snd_pcm_drop(fast);
  snd_pcm_close(fast);
  std::printf("fact max_write_ms=%ld\nfact writes_during=%ld\nfact xruns=%ld\nfact slow_open_ms=%ld\n"
              "fact slow_open_error=%d\n",
              max_write_us / 1000, writes_during, xruns, slow_ms.load(), slow_error.load());
  return 0;
}
