// Asks alsa-lib what applications see of the xensnd names, for the tests:
//   xensnd-alsa-names hints          every PCM hint: NAME, DESC (newlines as "\n"), IOID
//   xensnd-alsa-names info DEVICE    snd_pcm_info's id and name of DEVICE opened for playback
#include <alsa/asoundlib.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

std::string hint_value(const void* hint, const char* id) {
  char* value = snd_device_name_get_hint(hint, id);
  if (value == nullptr) return "-";
  std::string text;
  for (const char* c = value; *c; ++c) text += *c == '\n' ? std::string("\\n") : std::string(1, *c);
  std::free(value);
  return text;
}

int list_hints() {
  void** hints = nullptr;
  const int err = snd_device_name_hint(-1, "pcm", &hints);
  if (err < 0) {
    std::fprintf(stderr, "snd_device_name_hint: %s\n", snd_strerror(err));
    return 1;
  }
  for (void** hint = hints; *hint != nullptr; ++hint)
    std::printf("%s|%s|%s\n", hint_value(*hint, "NAME").c_str(), hint_value(*hint, "DESC").c_str(),
                hint_value(*hint, "IOID").c_str());
  snd_device_name_free_hint(hints);
  return 0;
}

int pcm_info(const char* device) {
  snd_pcm_t* pcm = nullptr;
  int err = snd_pcm_open(&pcm, device, SND_PCM_STREAM_PLAYBACK, 0);
  if (err < 0) {
    std::fprintf(stderr, "snd_pcm_open %s: %s\n", device, snd_strerror(err));
    return 1;
  }
  snd_pcm_info_t* info = nullptr;
  snd_pcm_info_alloca(&info);
  err = snd_pcm_info(pcm, info);
  if (err >= 0) std::printf("id=%s\nname=%s\n", snd_pcm_info_get_id(info), snd_pcm_info_get_name(info));
  snd_pcm_close(pcm);
  return err < 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  if (command == "hints" && argc == 2) return list_hints();
  if (command == "info" && argc == 3) return pcm_info(argv[2]);
  std::fprintf(stderr, "usage: xensnd-alsa-names hints | info DEVICE\n");
  return 64;
}
