// xensnd-recovery-client: one application that loses its card and opens it again without
// restarting, as a sound server does when its sink comes back.
//
//   xensnd-recovery-client PCM SECONDS
// Round 1 opens PCM and plays silence until a write fails for good (it prints "lost ERRNO")
// or SECONDS of audio went through (it prints "completed" and exits 0). After "lost" it waits
// for SIGUSR1 (the test's "the card is back"), then round 2 opens PCM again in this same
// process, plays 0.5 s and drains: "reopened" and exit 0, or "FAIL: why" and exit 1.
// "playing" is printed once the first round's audio is under way.
#include <alsa/asoundlib.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

constexpr unsigned kRate = 48000, kChannels = 2, kPeriod = 1200;

int fail(const std::string& what, int err) {
  std::fprintf(stderr, "FAIL: %s: %s\n", what.c_str(), snd_strerror(err));
  return 1;
}

int open_playback(snd_pcm_t** pcm, const char* name) {
  int err = snd_pcm_open(pcm, name, SND_PCM_STREAM_PLAYBACK, 0);
  if (err < 0) return err;
  err = snd_pcm_set_params(*pcm, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED, kChannels, kRate, 0,
                           4 * kPeriod * 1000000ull / kRate);
  if (err < 0) snd_pcm_close(*pcm);
  return err;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s PCM SECONDS\n", argv[0]);
    return 2;
  }
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, nullptr);  // taken with sigwait, never delivered
  const long frames_wanted = static_cast<long>(std::atof(argv[2]) * kRate);
  std::vector<int16_t> silence(kPeriod * kChannels, 0);

  snd_pcm_t* pcm = nullptr;
  if (int err = open_playback(&pcm, argv[1]); err < 0) return fail("first open", err);
  long written = 0;
  int lost = 0;
  while (written < frames_wanted) {
    snd_pcm_sframes_t n = snd_pcm_writei(pcm, silence.data(), kPeriod);
    if (n == -EPIPE) {  // an underrun: what an application recovers from
      if (snd_pcm_prepare(pcm) == 0) continue;
    }
    if (n < 0) {
      lost = static_cast<int>(-n);
      break;
    }
    written += n;
    if (written == 8 * kPeriod) {
      std::printf("playing\n");
      std::fflush(stdout);
    }
  }
  snd_pcm_close(pcm);
  if (!lost) {
    std::printf("completed\n");
    return 0;
  }
  std::printf("lost %d\n", lost);
  std::fflush(stdout);
  int sig = 0;
  sigwait(&usr1, &sig);

  if (int err = open_playback(&pcm, argv[1]); err < 0) return fail("open after the card came back", err);
  for (long done = 0; done < kRate / 2; done += kPeriod) {
    snd_pcm_sframes_t n = snd_pcm_writei(pcm, silence.data(), kPeriod);
    if (n < 0) return fail("write after the card came back", static_cast<int>(n));
  }
  if (int err = snd_pcm_drain(pcm); err < 0) return fail("drain after the card came back", err);
  snd_pcm_close(pcm);
  std::printf("reopened\n");
  return 0;
}
