// Playback into a host ALSA device, so someone at the host hears the guest. The paced device
// model decides when frames are played; ALSA's own buffer absorbs the jitter.
#include <alsa/asoundlib.h>

#include <stdexcept>

#include "backend/endpoint_spec.h"
#include "protocol/sndif_abi.h"

namespace xensnd::backend {
namespace {

snd_pcm_format_t alsa_format(uint8_t format) {
  switch (format) {
    case XENSND_PCM_FORMAT_S8: return SND_PCM_FORMAT_S8;
    case XENSND_PCM_FORMAT_U8: return SND_PCM_FORMAT_U8;
    case XENSND_PCM_FORMAT_S16_LE: return SND_PCM_FORMAT_S16_LE;
    case XENSND_PCM_FORMAT_S16_BE: return SND_PCM_FORMAT_S16_BE;
    case XENSND_PCM_FORMAT_U16_LE: return SND_PCM_FORMAT_U16_LE;
    case XENSND_PCM_FORMAT_U16_BE: return SND_PCM_FORMAT_U16_BE;
    case XENSND_PCM_FORMAT_S24_LE: return SND_PCM_FORMAT_S24_LE;
    case XENSND_PCM_FORMAT_S24_BE: return SND_PCM_FORMAT_S24_BE;
    case XENSND_PCM_FORMAT_U24_LE: return SND_PCM_FORMAT_U24_LE;
    case XENSND_PCM_FORMAT_U24_BE: return SND_PCM_FORMAT_U24_BE;
    case XENSND_PCM_FORMAT_S32_LE: return SND_PCM_FORMAT_S32_LE;
    case XENSND_PCM_FORMAT_S32_BE: return SND_PCM_FORMAT_S32_BE;
    case XENSND_PCM_FORMAT_U32_LE: return SND_PCM_FORMAT_U32_LE;
    case XENSND_PCM_FORMAT_U32_BE: return SND_PCM_FORMAT_U32_BE;
    case XENSND_PCM_FORMAT_F32_LE: return SND_PCM_FORMAT_FLOAT_LE;
    case XENSND_PCM_FORMAT_F32_BE: return SND_PCM_FORMAT_FLOAT_BE;
    case XENSND_PCM_FORMAT_F64_LE: return SND_PCM_FORMAT_FLOAT64_LE;
    case XENSND_PCM_FORMAT_F64_BE: return SND_PCM_FORMAT_FLOAT64_BE;
    case XENSND_PCM_FORMAT_MU_LAW: return SND_PCM_FORMAT_MU_LAW;
    case XENSND_PCM_FORMAT_A_LAW: return SND_PCM_FORMAT_A_LAW;
    default: return SND_PCM_FORMAT_UNKNOWN;
  }
}

class AlsaSink final : public PlaybackSink {
 public:
  AlsaSink(const std::string& device, const PcmParams& params, Log& log) : device_(device), params_(params), log_(log) {
    snd_pcm_format_t format = alsa_format(params.format);
    if (format == SND_PCM_FORMAT_UNKNOWN)
      throw std::runtime_error("ALSA device " + device + ": no ALSA format for sndif format " +
                               std::to_string(params.format));
    int err = snd_pcm_open(&pcm_, device.c_str(), SND_PCM_STREAM_PLAYBACK, 0);
    if (err < 0) throw std::runtime_error("cannot open ALSA device " + device + ": " + snd_strerror(err));
    // 200 ms of latency: enough to ride out the backend's scheduling jitter.
    err = snd_pcm_set_params(pcm_, format, SND_PCM_ACCESS_RW_INTERLEAVED, params.channels, params.rate, 1, 200000);
    if (err < 0) {
      snd_pcm_close(pcm_);
      throw std::runtime_error("ALSA device " + device + " refuses " + std::to_string(params.channels) + " channels at " +
                               std::to_string(params.rate) + " Hz: " + snd_strerror(err));
    }
  }
  ~AlsaSink() override {
    snd_pcm_drain(pcm_);
    snd_pcm_close(pcm_);
  }

  void play(std::span<const std::byte> frames) override {
    snd_pcm_uframes_t left = frames.size() / params_.frame_bytes();
    const std::byte* data = frames.data();
    while (left > 0) {
      snd_pcm_sframes_t n = snd_pcm_writei(pcm_, data, left);
      if (n < 0) {
        if (n == -EPIPE) log_.warning("ALSA device ", device_, " underran");
        if (snd_pcm_recover(pcm_, static_cast<int>(n), 1) < 0)
          throw std::runtime_error("ALSA device " + device_ + ": " + snd_strerror(static_cast<int>(n)));
        continue;
      }
      left -= static_cast<snd_pcm_uframes_t>(n);
      data += static_cast<size_t>(n) * params_.frame_bytes();
    }
  }

 private:
  std::string device_;
  PcmParams params_;
  Log& log_;
  snd_pcm_t* pcm_ = nullptr;
};

}  // namespace

std::unique_ptr<PlaybackSink> make_alsa_sink(const std::string& device, const PcmParams& params, Log& log) {
  log.info("playing into ALSA device ", device);
  return std::make_unique<AlsaSink>(device, params, log);
}

}  // namespace xensnd::backend
