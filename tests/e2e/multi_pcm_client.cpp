// xensnd-multi-pcm: several PCMs on several cards driven at once from one process, one thread
// each, through alsa-lib: the plugin's per-process state (the card registry, a card shared by
// its playback and capture streams) under real concurrency. Built with ThreadSanitizer in
// build-tsan, where any data race fails the run.
//
//   xensnd-multi-pcm ROUNDS DEVICE:playback:SEED|DEVICE:capture ...
//
// Each thread, ROUNDS times: open its PCM (S16_LE, 48 kHz, stereo, 4 periods of 1024 frames),
// play 0.5 s of pattern SEED and drain, or record 0.5 s; close. Threads start together (a
// barrier), so opens, handshakes and closes of one card overlap with the audio of the others.
// Prints "ok DEVICE:DIRECTION frames=N" per round; exits 1 when any call failed.
#include <alsa/asoundlib.h>

#include <atomic>
#include <barrier>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/audio_data.h"

namespace {

constexpr unsigned kRate = 48000, kFrameBytes = 4;
constexpr size_t kFrames = kRate / 2;

std::mutex g_output;  // one line at a time on stdout/stderr

struct Job {
  std::string device;
  bool playback = true;
  uint32_t seed = 0;
};

bool run_round(const Job& job) {
  auto failed = [&](const char* what, long err) {
    std::lock_guard lock(g_output);
    std::fprintf(stderr, "%s %s: %s: %s\n", job.device.c_str(), job.playback ? "playback" : "capture", what,
                 snd_strerror(static_cast<int>(err)));
    return false;
  };
  snd_pcm_t* pcm = nullptr;
  int err = snd_pcm_open(&pcm, job.device.c_str(), job.playback ? SND_PCM_STREAM_PLAYBACK : SND_PCM_STREAM_CAPTURE, 0);
  if (err < 0) return failed("snd_pcm_open", err);
  std::unique_ptr<snd_pcm_t, int (*)(snd_pcm_t*)> closer(pcm, snd_pcm_close);
  snd_pcm_hw_params_t* hw;
  snd_pcm_hw_params_alloca(&hw);
  snd_pcm_hw_params_any(pcm, hw);
  if ((err = snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) < 0 ||
      (err = snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S16_LE)) < 0 ||
      (err = snd_pcm_hw_params_set_channels(pcm, hw, 2)) < 0 ||
      (err = snd_pcm_hw_params_set_rate(pcm, hw, kRate, 0)) < 0 ||
      (err = snd_pcm_hw_params_set_period_size(pcm, hw, 1024, 0)) < 0 ||
      (err = snd_pcm_hw_params_set_periods(pcm, hw, 4, 0)) < 0 || (err = snd_pcm_hw_params(pcm, hw)) < 0)
    return failed("hw_params", err);
  std::vector<uint8_t> data = job.playback ? xensnd::e2e::pattern_bytes(kFrames * kFrameBytes, job.seed)
                                           : std::vector<uint8_t>(kFrames * kFrameBytes);
  size_t done = 0;
  if (!job.playback && (err = snd_pcm_start(pcm)) < 0) return failed("snd_pcm_start", err);
  while (done < kFrames) {
    const snd_pcm_uframes_t n = std::min<size_t>(1024, kFrames - done);
    const snd_pcm_sframes_t r = job.playback ? snd_pcm_writei(pcm, data.data() + done * kFrameBytes, n)
                                             : snd_pcm_readi(pcm, data.data() + done * kFrameBytes, n);
    if (r == -EPIPE) {  // an xrun under load: recover as applications do; the test checks the data
      if ((err = snd_pcm_prepare(pcm)) < 0) return failed("snd_pcm_prepare", err);
      if (!job.playback && (err = snd_pcm_start(pcm)) < 0) return failed("snd_pcm_start", err);
      continue;
    }
    if (r < 0) return failed(job.playback ? "snd_pcm_writei" : "snd_pcm_readi", r);
    done += static_cast<size_t>(r);
  }
  if (job.playback && (err = snd_pcm_drain(pcm)) < 0) return failed("snd_pcm_drain", err);
  if ((err = snd_pcm_close(closer.release())) < 0) return failed("snd_pcm_close", err);
  std::lock_guard lock(g_output);
  std::printf("ok %s:%s frames=%zu\n", job.device.c_str(), job.playback ? "playback" : "capture", done);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: xensnd-multi-pcm ROUNDS DEVICE:playback:SEED|DEVICE:capture ...\n");
    return 2;
  }
  const int rounds = std::atoi(argv[1]);
  std::vector<Job> jobs;
  for (int i = 2; i < argc; ++i) {
    const std::string spec = argv[i];
    const size_t a = spec.rfind(":playback:"), b = spec.rfind(":capture");
    Job job;
    if (a != std::string::npos) {
      job.device = spec.substr(0, a);
      job.seed = static_cast<uint32_t>(std::strtoul(spec.c_str() + a + 10, nullptr, 10));
    } else if (b != std::string::npos && b + 8 == spec.size()) {
      job.device = spec.substr(0, b);
      job.playback = false;
    } else {
      std::fprintf(stderr, "bad job %s\n", spec.c_str());
      return 2;
    }
    jobs.push_back(job);
  }
  std::atomic<bool> ok{true};
  std::barrier start(static_cast<std::ptrdiff_t>(jobs.size()));
  std::vector<std::thread> threads;
  for (const Job& job : jobs)
    threads.emplace_back([&, job] {
      for (int r = 0; r < rounds; ++r) {
        start.arrive_and_wait();  // every round's opens overlap
        if (!run_round(job)) ok = false;
      }
    });
  for (auto& t : threads) t.join();
  return ok ? 0 : 1;
}
