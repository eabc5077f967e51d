// xensnd-soak-client: the long-lived ALSA application of the soak (xensnd-soak). It stays one
// process for the whole run, so that its memory, file descriptors and threads can be sampled
// between cycles, and runs the cycles the controller writes, one line each, into a FIFO:
//
//   duplex SEED FRAMES PAUSE_MS XRUN   playback of FRAMES frames of pattern SEED (S16_LE,
//                                      48 kHz, stereo) while capturing, full duplex, one
//                                      process; PAUSE_MS > 0 pauses playback halfway for that
//                                      long; XRUN=1 starves playback halfway into an underrun
//                                      (-EPIPE) and recovers with prepare
//   openclose N                        N open/hw_params/prepare/close of the playback PCM
//   quit
//
// Each cycle answers one line on stdout: "ok KIND key=value..." or "disconnected MESSAGE"
// (the card went away: -ENODEV and the like, expected while the backend restarts) or
// "error MESSAGE" (anything else). With a capture loopback of the playback stream, a cycle
// without pause, xrun or capture overrun checks that the captured audio contains the played
// clip bit for bit (loopback_ok=1).
#include <alsa/asoundlib.h>
#include <poll.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/audio_data.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr unsigned kRate = 48000, kChannels = 2, kFrameBytes = 4;
constexpr snd_pcm_uframes_t kPeriod = 1024;
constexpr unsigned kPeriods = 8;

// An ALSA error of a cycle; `lost` when it means the card went away.
struct AlsaError : std::runtime_error {
  bool lost;
  AlsaError(const std::string& what, int err)
      : std::runtime_error(what + ": " + snd_strerror(err)), lost(err == -ENODEV || err == -EIO || err == -ENOTCONN) {}
};

long alsa(long err, const std::string& what) {
  if (err < 0) throw AlsaError(what, static_cast<int>(err));
  return err;
}

class Pcm {
 public:
  Pcm(snd_pcm_stream_t direction, int mode) {
    alsa(snd_pcm_open(&handle_, "xensnd", direction, mode), "snd_pcm_open");
    snd_pcm_hw_params_t* hw;
    snd_pcm_hw_params_alloca(&hw);
    alsa(snd_pcm_hw_params_any(handle_, hw), "hw_params_any");
    alsa(snd_pcm_hw_params_set_access(handle_, hw, SND_PCM_ACCESS_RW_INTERLEAVED), "set_access");
    alsa(snd_pcm_hw_params_set_format(handle_, hw, SND_PCM_FORMAT_S16_LE), "set_format");
    alsa(snd_pcm_hw_params_set_channels(handle_, hw, kChannels), "set_channels");
    alsa(snd_pcm_hw_params_set_rate(handle_, hw, kRate, 0), "set_rate");
    alsa(snd_pcm_hw_params_set_period_size(handle_, hw, kPeriod, 0), "set_period_size");
    alsa(snd_pcm_hw_params_set_periods(handle_, hw, kPeriods, 0), "set_periods");
    alsa(snd_pcm_hw_params(handle_, hw), "hw_params");
  }
  ~Pcm() { snd_pcm_close(handle_); }
  Pcm(const Pcm&) = delete;
  Pcm& operator=(const Pcm&) = delete;
  snd_pcm_t* get() const { return handle_; }

 private:
  snd_pcm_t* handle_ = nullptr;
};

struct DuplexResult {
  unsigned underruns = 0, overruns = 0;
  std::vector<size_t> restarts;  // frames of the clip written when a playback run restarted
  bool loopback_checked = false, loopback_ok = false;
};

DuplexResult duplex(uint32_t seed, size_t frames, long pause_ms, bool xrun) {
  const std::vector<uint8_t> clip = xensnd::e2e::pattern_bytes(frames * kFrameBytes, seed);
  DuplexResult result;
  Pcm capture(SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK);
  Pcm play(SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK);
  // Capture runs until the clip went through the loopback: the clip, plus the loopback's
  // start-up (two periods and 100 ms) and the playback buffer, with margin.
  const size_t capture_frames = frames + kRate;
  std::vector<uint8_t> captured(capture_frames * kFrameBytes);
  alsa(snd_pcm_start(capture.get()), "start capture");
  size_t written = 0, read = 0;
  bool paused_once = false, starved_once = false;
  const auto deadline = Clock::now() + std::chrono::milliseconds(frames * 1000 / kRate + pause_ms) + 20s;
  const int np = snd_pcm_poll_descriptors_count(play.get()), nc = snd_pcm_poll_descriptors_count(capture.get());
  std::vector<pollfd> fds(static_cast<size_t>(np + nc));
  while (written < frames || read < capture_frames) {
    if (Clock::now() > deadline) throw std::runtime_error("duplex cycle did not finish in time");
    if (!paused_once && pause_ms > 0 && written >= frames / 2) {
      paused_once = true;
      if (snd_pcm_state(play.get()) == SND_PCM_STATE_RUNNING) {
        alsa(snd_pcm_pause(play.get(), 1), "pause");
        std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));  // the pause itself (stimulus)
        alsa(snd_pcm_pause(play.get(), 0), "resume");
      }
    }
    if (!starved_once && xrun && written >= frames / 2) {
      starved_once = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2 * kPeriod * kPeriods * 1000 / kRate + 100));  // stimulus
    }
    if (written < frames) {
      const snd_pcm_sframes_t r = snd_pcm_writei(play.get(), clip.data() + written * kFrameBytes,
                                                 std::min<size_t>(frames - written, kPeriod));
      if (r > 0) {
        written += static_cast<size_t>(r);
      } else if (r == -EPIPE) {
        ++result.underruns;
        if (result.restarts.empty() || result.restarts.back() != written) result.restarts.push_back(written);
        alsa(snd_pcm_prepare(play.get()), "prepare after underrun");
      } else if (r != -EAGAIN) {
        alsa(r, "writei");
      }
    }
    for (;;) {  // everything captured so far: capture must not fall behind
      const snd_pcm_sframes_t r = snd_pcm_readi(capture.get(), captured.data() + read * kFrameBytes,
                                                std::min<size_t>(capture_frames - read, kPeriod));
      if (r > 0) {
        read += static_cast<size_t>(r);
        if (read >= capture_frames) break;
        continue;
      }
      if (r == -EPIPE) {
        ++result.overruns;
        alsa(snd_pcm_prepare(capture.get()), "prepare after overrun");
        alsa(snd_pcm_start(capture.get()), "restart capture");
        continue;
      }
      if (r != -EAGAIN) alsa(r, "readi");
      break;
    }
    if (written >= frames && read >= capture_frames) break;
    // Only the streams still in progress: a playback stream with all its frames written stays
    // ready (room in its buffer), and polling it would spin until the capture is done.
    size_t polled = 0;
    if (written < frames) {
      snd_pcm_poll_descriptors(play.get(), fds.data(), static_cast<unsigned>(np));
      polled += static_cast<size_t>(np);
    }
    snd_pcm_poll_descriptors(capture.get(), fds.data() + polled, static_cast<unsigned>(nc));
    polled += static_cast<size_t>(nc);
    if (::poll(fds.data(), polled, 200) < 0 && errno != EINTR) throw std::runtime_error("poll failed");
    // As ALSA requires of a poll loop: revents lets the plugin consume what woke us (its
    // XenStore watch, its timer), or the same descriptors wake us again at once.
    unsigned short revents = 0;
    if (written < frames) snd_pcm_poll_descriptors_revents(play.get(), fds.data(), static_cast<unsigned>(np), &revents);
    snd_pcm_poll_descriptors_revents(capture.get(), fds.data() + polled - static_cast<size_t>(nc),
                                     static_cast<unsigned>(nc), &revents);
  }
  alsa(snd_pcm_nonblock(play.get(), 0), "blocking");
  alsa(snd_pcm_drain(play.get()), "drain");
  if (pause_ms == 0 && !xrun && result.underruns == 0 && result.overruns == 0) {
    // The middle of the clip (its ends may meet the loopback's start-up silence).
    result.loopback_checked = true;
    const std::vector<uint8_t> middle = xensnd::e2e::slice(clip, clip.size() / 8, clip.size() - clip.size() / 8);
    result.loopback_ok = xensnd::e2e::find_bytes(captured, middle).has_value();
  }
  return result;
}

void open_close(long count) {
  for (long i = 0; i < count; ++i) {
    Pcm pcm(SND_PCM_STREAM_PLAYBACK, 0);
    alsa(snd_pcm_prepare(pcm.get()), "prepare");
  }
}

std::string run_command(const std::string& line) {
  std::istringstream words(line);
  std::string kind;
  words >> kind;
  if (kind == "duplex") {
    uint32_t seed = 0;
    size_t frames = 0;
    long pause_ms = 0;
    int xrun = 0;
    if (!(words >> seed >> frames >> pause_ms >> xrun)) return "error bad command: " + line;
    const DuplexResult r = duplex(seed, frames, pause_ms, xrun != 0);
    std::string restarts;
    for (size_t at : r.restarts) restarts += (restarts.empty() ? "" : ",") + std::to_string(at);
    return "ok duplex underruns=" + std::to_string(r.underruns) + " restarts=" + (restarts.empty() ? "-" : restarts) +
           " overruns=" + std::to_string(r.overruns) +
           " loopback_checked=" + std::to_string(r.loopback_checked) + " loopback_ok=" + std::to_string(r.loopback_ok);
  }
  if (kind == "openclose") {
    long count = 0;
    if (!(words >> count)) return "error bad command: " + line;
    open_close(count);
    return "ok openclose";
  }
  return "error unknown command: " + line;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: xensnd-soak-client COMMAND_FIFO\n");
    return 2;
  }
  std::ifstream commands(argv[1]);
  if (!commands) {
    std::fprintf(stderr, "xensnd-soak-client: cannot open %s\n", argv[1]);
    return 2;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  for (std::string line; std::getline(commands, line);) {
    if (line == "quit") break;
    std::string answer;
    try {
      answer = run_command(line);
    } catch (const AlsaError& e) {
      answer = std::string(e.lost ? "disconnected " : "error ") + e.what();
    } catch (const std::exception& e) {
      answer = std::string("error ") + e.what();
    }
    std::printf("%s\n", answer.c_str());
    std::fflush(stdout);
  }
  return 0;
}
