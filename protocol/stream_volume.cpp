// SndifStream's volume requests: SET_VOLUME, GET_VOLUME, MUTE and UNMUTE. Their values travel
// in the shared buffer (sndif.h), here in the control area OPEN granted after the audio
// part, which the application's ring never covers; the request's offset and length name it.
#include <cerrno>
#include <cstring>
#include <string>

#include "protocol/errors.h"
#include "protocol/pcm_format.h"
#include "protocol/sndif_stream.h"

namespace xensnd {

uint32_t volume_control_bytes(uint8_t format, uint32_t channels) {
  // Volumes are one int32 per channel; mute flags one uint8 per channel (sndif.h's text).
  const uint32_t needed = channels * 4;
  const uint32_t frame = sndif_format_bytes_per_sample(format).value_or(0) * channels;
  if (frame == 0) return 0;
  return (needed + frame - 1) / frame * frame;
}

void SndifStream::volume_call(uint8_t operation, uint32_t length, const char* what) {
  require_connected();
  const std::string name = "stream " + config_.xenstore_path + " (" + config_.unique_id + "): " + what;
  if (!buffer_ || params_.control_bytes < length)
    throw RequestFailedError(EBADFD, name + " needs an open stream with a control area");
  xensnd_req req{};
  req.operation = operation;
  req.op.rw.offset = params_.buffer_bytes;
  req.op.rw.length = length;
  // Behind the data requests already queued, which the backend serves first.
  Completion c = call(req, timeouts_.response + buffer_duration());
  if (c.status.errno_value != 0) throw RequestFailedError(c.status.errno_value, name + ": " + c.status.message);
}

std::vector<int32_t> SndifStream::get_volume() {
  const uint32_t channels = params_.channels;
  volume_call(XENSND_OP_GET_VOLUME, channels * 4, "GET_VOLUME");
  // Copied out of the shared page before use: the backend may still write it.
  std::vector<int32_t> values(channels);
  std::memcpy(values.data(), buffer_->data().data() + params_.buffer_bytes, channels * 4);
  return values;
}

void SndifStream::set_volume(std::span<const int32_t> millidb) {
  if (!buffer_ || millidb.size() != params_.channels)
    throw RequestFailedError(EINVAL, "stream " + config_.xenstore_path + ": SET_VOLUME of " +
                                         std::to_string(millidb.size()) + " channels on a stream open with " +
                                         std::to_string(params_.channels));
  if (params_.control_bytes >= millidb.size_bytes())
    std::memcpy(buffer_->data().data() + params_.buffer_bytes, millidb.data(), millidb.size_bytes());
  volume_call(XENSND_OP_SET_VOLUME, static_cast<uint32_t>(millidb.size_bytes()), "SET_VOLUME");
}

void SndifStream::set_mute(const std::vector<bool>& muted) {
  if (!buffer_ || muted.size() != params_.channels)
    throw RequestFailedError(EINVAL, "stream " + config_.xenstore_path + ": MUTE of " +
                                         std::to_string(muted.size()) + " channels on a stream open with " +
                                         std::to_string(params_.channels));
  // One request selects the channels to mute, one those to unmute; a flag is non-zero to select.
  for (const bool mute : {true, false}) {
    bool any = false;
    for (bool m : muted) any = any || m == mute;
    if (!any) continue;
    if (params_.control_bytes >= muted.size()) {
      std::byte* cells = buffer_->data().data() + params_.buffer_bytes;
      for (size_t c = 0; c < muted.size(); ++c) cells[c] = std::byte{muted[c] == mute ? uint8_t{1} : uint8_t{0}};
    }
    volume_call(mute ? XENSND_OP_MUTE : XENSND_OP_UNMUTE, static_cast<uint32_t>(muted.size()),
                mute ? "MUTE" : "UNMUTE");
  }
}

}  // namespace xensnd
