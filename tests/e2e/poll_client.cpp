// xensnd-poll-client: the event loop of a typical non-blocking ALSA application (what
// PulseAudio, PipeWire and game engines do): snd_pcm_poll_descriptors + poll() +
// snd_pcm_poll_descriptors_revents, then writei/readi as far as they go. Underruns and
// overruns are recovered with snd_pcm_prepare, as such applications do.
//
//   xensnd-poll-client DEVICE playback|capture SECONDS
//
// Plays a pattern (or records and discards) for SECONDS of audio, S16_LE 48 kHz stereo, then
// exits 0 (after a drain for playback). Any other error: a line naming the call and the
// error on stderr, exit 1. A poll() that sees nothing for 10 s: exit 3 (a hang, not a wait).
#include <alsa/asoundlib.h>
#include <poll.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr unsigned kRate = 48000, kChannels = 2, kFrameBytes = 4;

int fail(const char* what, long err) {
  std::fprintf(stderr, "xensnd-poll-client: %s: %s\n", what, snd_strerror(static_cast<int>(err)));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: xensnd-poll-client DEVICE playback|capture SECONDS\n");
    return 2;
  }
  const bool playback = std::string(argv[2]) == "playback";
  const size_t total = static_cast<size_t>(std::atof(argv[3]) * kRate);
  snd_pcm_t* opened = nullptr;
  int err = snd_pcm_open(&opened, argv[1], playback ? SND_PCM_STREAM_PLAYBACK : SND_PCM_STREAM_CAPTURE,
                         SND_PCM_NONBLOCK);
  if (err < 0) return fail("snd_pcm_open", err);
  // Closed on every way out, errors included, as a well-behaved application does.
  std::unique_ptr<snd_pcm_t, int (*)(snd_pcm_t*)> closer(opened, snd_pcm_close);
  snd_pcm_t* const pcm = opened;
  err = snd_pcm_set_params(pcm, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED, kChannels, kRate, 0,
                           100'000);
  if (err < 0) return fail("snd_pcm_set_params", err);
  snd_pcm_uframes_t buffer = 0, period = 0;
  snd_pcm_get_params(pcm, &buffer, &period);
  std::vector<uint8_t> data(period * kFrameBytes);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 131 + 7);
  if (!playback && (err = snd_pcm_start(pcm)) < 0) return fail("snd_pcm_start", err);

  const int count = snd_pcm_poll_descriptors_count(pcm);
  if (count <= 0) return fail("snd_pcm_poll_descriptors_count", count);
  std::vector<pollfd> fds(static_cast<size_t>(count));
  size_t done = 0;
  while (done < total) {
    if ((err = snd_pcm_poll_descriptors(pcm, fds.data(), static_cast<unsigned>(count))) < 0)
      return fail("snd_pcm_poll_descriptors", err);
    const int ready = poll(fds.data(), fds.size(), 10'000);
    if (ready < 0) return fail("poll", -errno);
    if (ready == 0) {
      std::fprintf(stderr, "xensnd-poll-client: no wake-up for 10 s\n");
      return 3;
    }
    unsigned short revents = 0;
    if ((err = snd_pcm_poll_descriptors_revents(pcm, fds.data(), static_cast<unsigned>(count), &revents)) < 0)
      return fail("snd_pcm_poll_descriptors_revents", err);
    if (revents & POLLERR) {
      // An xrun is recovered; anything else (a disconnected PCM) ends the run.
      if (snd_pcm_state(pcm) != SND_PCM_STATE_XRUN) return fail("poll reported POLLERR", -ENODEV);
      if ((err = snd_pcm_prepare(pcm)) < 0) return fail("snd_pcm_prepare", err);
      if (!playback && (err = snd_pcm_start(pcm)) < 0) return fail("snd_pcm_start", err);
      continue;
    }
    if (!(revents & (playback ? POLLOUT : POLLIN))) continue;
    for (;;) {
      const snd_pcm_uframes_t want = std::min<size_t>(period, total - done);
      const snd_pcm_sframes_t n = playback ? snd_pcm_writei(pcm, data.data(), want)
                                           : snd_pcm_readi(pcm, data.data(), want);
      if (n == -EAGAIN) break;
      if (n == -EPIPE) {
        if ((err = snd_pcm_prepare(pcm)) < 0) return fail("snd_pcm_prepare", err);
        if (!playback && (err = snd_pcm_start(pcm)) < 0) return fail("snd_pcm_start", err);
        break;
      }
      if (n < 0) return fail(playback ? "snd_pcm_writei" : "snd_pcm_readi", n);
      done += static_cast<size_t>(n);
      if (done >= total) break;
    }
  }
  if (playback) {
    snd_pcm_nonblock(pcm, 0);
    if ((err = snd_pcm_drain(pcm)) < 0) return fail("snd_pcm_drain", err);
  }
  if ((err = snd_pcm_close(closer.release())) < 0) return fail("snd_pcm_close", err);
  return 0;
}
