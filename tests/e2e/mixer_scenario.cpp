// xensnd-mixer-scenario: plays through a PCM and drives the same card's mixer in the same
// process, as PulseAudio does with `control=`: a tone at a steady level in four phases (0 dB,
// then -6 dB, muted, unmuted at -6 dB), each change made through the mixer between phases.
// The test then finds the four levels in order in the backend's WAV.
//
//   xensnd-mixer-scenario device=xensnd control=xensnd element=NAME phase_ms=400
//
// mode=readiness instead: a poller's readiness across a volume change. Plays long periods
// (341 ms), waits until the PCM is ready (the backend's position made room), changes the
// volume through the CTL — which waits for its answer on the stream's event channel, taking
// the notification the readiness came with — and looks at once (poll, no timeout) whether
// the PCM is still ready: fact ready_after_volume=1 (0 when the readiness was lost and the
// poller would sleep until the next position, a period later).
// Prints "fact NAME=VALUE" lines; on a failed check prints "FAIL: why" to stderr, exits 1.
#include <alsa/asoundlib.h>
#include <poll.h>

#include <cstdio>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::map<std::string, std::string> g_args;

std::string arg(const std::string& key, const std::string& fallback) {
  auto it = g_args.find(key);
  return it == g_args.end() ? fallback : it->second;
}
int alsa(int err, const std::string& what) {
  if (err < 0) throw Failure(what + ": " + snd_strerror(err));
  return err;
}
void fact(const std::string& name, long value) {
  std::printf("fact %s=%ld\n", name.c_str(), value);
  std::fflush(stdout);
}

constexpr unsigned kRate = 48000;
constexpr unsigned kChannels = 2;
constexpr int16_t kLevel = 8000;

snd_pcm_t* open_pcm(snd_pcm_uframes_t period = 1024, unsigned periods = 4) {
  snd_pcm_t* pcm = nullptr;
  alsa(snd_pcm_open(&pcm, arg("device", "xensnd").c_str(), SND_PCM_STREAM_PLAYBACK, 0), "snd_pcm_open");
  snd_pcm_hw_params_t* hw = nullptr;
  snd_pcm_hw_params_alloca(&hw);
  alsa(snd_pcm_hw_params_any(pcm, hw), "hw_params_any");
  alsa(snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED), "access");
  alsa(snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S16_LE), "format");
  alsa(snd_pcm_hw_params_set_channels(pcm, hw, kChannels), "channels");
  alsa(snd_pcm_hw_params_set_rate(pcm, hw, kRate, 0), "rate");
  alsa(snd_pcm_hw_params_set_period_size(pcm, hw, period, 0), "period");
  alsa(snd_pcm_hw_params_set_periods(pcm, hw, periods, 0), "periods");
  alsa(snd_pcm_hw_params(pcm, hw), "hw_params");
  return pcm;
}

// A square wave at the Nyquist rate, +-kLevel, so every sample's magnitude is the level.
void play(snd_pcm_t* pcm, long ms) {
  const long frames = kRate * ms / 1000;
  std::vector<int16_t> samples(static_cast<size_t>(frames) * kChannels);
  for (long f = 0; f < frames; ++f)
    for (unsigned c = 0; c < kChannels; ++c) samples[f * kChannels + c] = (f % 2) ? kLevel : -kLevel;
  long done = 0;
  while (done < frames) {
    snd_pcm_sframes_t n = snd_pcm_writei(pcm, samples.data() + done * kChannels, frames - done);
    if (n < 0) n = alsa(snd_pcm_recover(pcm, static_cast<int>(n), 0), "write");
    done += n;
  }
}

using CtlValue = std::unique_ptr<snd_ctl_elem_value_t, decltype(&snd_ctl_elem_value_free)>;

// The element's "Playback Volume" as the raw CTL API reads it.
CtlValue read_volume(snd_ctl_t* ctl, const std::string& element) {
  snd_ctl_elem_value_t* raw = nullptr;
  alsa(snd_ctl_elem_value_malloc(&raw), "elem_value_malloc");
  CtlValue value(raw, &snd_ctl_elem_value_free);
  snd_ctl_elem_value_set_interface(raw, SND_CTL_ELEM_IFACE_MIXER);
  snd_ctl_elem_value_set_name(raw, (element + " Playback Volume").c_str());
  alsa(snd_ctl_elem_read(ctl, raw), "elem_read");
  return value;
}

// write_integer's result through the raw CTL API: 1 when the value changed, 0 when not.
void check_write_results(const std::string& element) {
  snd_ctl_t* ctl = nullptr;
  alsa(snd_ctl_open(&ctl, arg("control", "xensnd").c_str(), 0), "snd_ctl_open");
  const CtlValue volume = read_volume(ctl, element);
  snd_ctl_elem_value_t* value = volume.get();
  const long current = snd_ctl_elem_value_get_integer(value, 0);
  fact("volume_read", current);
  fact("write_same", alsa(snd_ctl_elem_write(ctl, value), "write same"));
  snd_ctl_elem_value_set_integer(value, 0, current - 1);
  fact("write_changed", alsa(snd_ctl_elem_write(ctl, value), "write changed"));
  snd_ctl_elem_value_set_integer(value, 0, current);
  fact("write_back", alsa(snd_ctl_elem_write(ctl, value), "write back"));
  snd_ctl_close(ctl);
}

// Whether poll() on the PCM's descriptors says "ready to write" right now.
bool ready_now(snd_pcm_t* pcm) {
  const int count = alsa(snd_pcm_poll_descriptors_count(pcm), "poll_descriptors_count");
  std::vector<pollfd> fds(static_cast<size_t>(count));
  alsa(snd_pcm_poll_descriptors(pcm, fds.data(), static_cast<unsigned>(count)), "poll_descriptors");
  const int woken = ::poll(fds.data(), fds.size(), 0);
  if (woken < 0) throw Failure("poll failed");
  if (woken == 0) return false;  // a poller would sleep here, whatever the PCM would say
  unsigned short revents = 0;
  alsa(snd_pcm_poll_descriptors_revents(pcm, fds.data(), static_cast<unsigned>(count), &revents), "revents");
  return (revents & POLLOUT) != 0;
}

void run_readiness() {
  const std::string element = arg("element", "Speaker");
  constexpr snd_pcm_uframes_t kPeriod = 16384;  // 341 ms between positions
  snd_pcm_t* pcm = open_pcm(kPeriod, 2);
  std::vector<int16_t> silence(kPeriod * 2 * kChannels);
  // A full buffer reaches the start threshold: the stream runs, nothing is ready.
  if (snd_pcm_writei(pcm, silence.data(), kPeriod * 2) != static_cast<snd_pcm_sframes_t>(kPeriod * 2))
    throw Failure("the first write was short");
  fact("ready_when_full", ready_now(pcm));
  // Ready once the backend played a period: its position's notification wakes the wait.
  if (alsa(snd_pcm_wait(pcm, 2000), "snd_pcm_wait") != 1) throw Failure("never ready");
  fact("ready_after_position", ready_now(pcm));
  snd_ctl_t* ctl = nullptr;
  alsa(snd_ctl_open(&ctl, arg("control", "xensnd").c_str(), 0), "snd_ctl_open");
  const CtlValue volume = read_volume(ctl, element);
  snd_ctl_elem_value_set_integer(volume.get(), 0, snd_ctl_elem_value_get_integer(volume.get(), 0) - 1);
  fact("volume_changed", alsa(snd_ctl_elem_write(ctl, volume.get()), "elem_write"));
  fact("ready_after_volume", ready_now(pcm));
  snd_ctl_close(ctl);
  snd_pcm_drop(pcm);
  snd_pcm_close(pcm);
}

void run() {
  if (arg("mode", "") == "readiness") return run_readiness();
  const std::string element = arg("element", "Speaker");
  const long phase_ms = std::stol(arg("phase_ms", "400"));
  snd_pcm_t* pcm = open_pcm();

  // The mixer as PulseAudio opens it: a simple mixer on the CTL.
  snd_mixer_t* mixer = nullptr;
  alsa(snd_mixer_open(&mixer, 0), "snd_mixer_open");
  alsa(snd_mixer_attach(mixer, arg("control", "xensnd").c_str()), "snd_mixer_attach");
  alsa(snd_mixer_selem_register(mixer, nullptr, nullptr), "selem_register");
  alsa(snd_mixer_load(mixer), "snd_mixer_load");
  snd_mixer_selem_id_t* id = nullptr;
  snd_mixer_selem_id_alloca(&id);
  snd_mixer_selem_id_set_name(id, element.c_str());
  snd_mixer_elem_t* elem = snd_mixer_find_selem(mixer, id);
  if (elem == nullptr) throw Failure("no mixer element '" + element + "'");
  long min_db = 0, max_db = 0;
  alsa(snd_mixer_selem_get_playback_dB_range(elem, &min_db, &max_db), "dB range");
  fact("min_centidb", min_db);
  fact("max_centidb", max_db);
  check_write_results(element);
  fact("ready", 1);

  play(pcm, phase_ms);
  alsa(snd_mixer_selem_set_playback_dB_all(elem, -600, 0), "set -6 dB");
  long db = 0;
  alsa(snd_mixer_selem_get_playback_dB(elem, SND_MIXER_SCHN_FRONT_LEFT, &db), "get dB");
  fact("centidb_after_set", db);
  play(pcm, phase_ms);
  alsa(snd_mixer_selem_set_playback_switch_all(elem, 0), "mute");
  play(pcm, phase_ms);
  alsa(snd_mixer_selem_set_playback_switch_all(elem, 1), "unmute");
  play(pcm, phase_ms);
  alsa(snd_pcm_drain(pcm), "drain");
  snd_mixer_close(mixer);
  snd_pcm_close(pcm);
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto eq = a.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "usage: xensnd-mixer-scenario key=value...\n");
      return 2;
    }
    g_args[a.substr(0, eq)] = a.substr(eq + 1);
  }
  try {
    run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FAIL: %s\n", e.what());
    return 1;
  }
  return 0;
}
