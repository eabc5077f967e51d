#include "plugin/ctl_stream_mixer.h"

#include <algorithm>
#include <cerrno>

#include "protocol/errors.h"
#include "protocol/pcm_format.h"

namespace xensnd::plugin {
namespace {

// The first `count` values: an open stream's channels are the control's first ones.
template <typename T>
std::vector<T> first(const std::vector<T>& values, uint32_t count) {
  return std::vector<T>(values.begin(), values.begin() + std::min<size_t>(count, values.size()));
}

}  // namespace

StreamMixer::StreamMixer(uint32_t channels) : millidb_(channels, 0), muted_(channels, false) {}

void StreamMixer::probe(Stream& stream, const std::optional<StreamParams>& probe) {
  if (support_ != Support::kUnknown) return;
  const bool opened_here = !stream.is_open();
  if (opened_here) {
    if (!probe) {
      support_ = Support::kNo;
      refusal_ = "no format of the stream has a fixed frame size";
      return;
    }
    try {
      stream.open(*probe);
    } catch (const RequestFailedError& error) {
      support_ = Support::kNo;
      refusal_ = std::string("the backend refused an OPEN made to ask for the volume: ") + error.what();
      return;
    }
  }
  try {
    const std::vector<int32_t> values = stream.get_volume();
    support_ = Support::kYes;
    if (!written_)
      for (size_t c = 0; c < values.size() && c < millidb_.size(); ++c) millidb_[c] = values[c];
  } catch (const RequestFailedError& error) {
    support_ = Support::kNo;
    refusal_ = error.what();
  } catch (...) {
    if (opened_here) stream.close();
    throw;
  }
  if (opened_here) stream.close();
}

bool StreamMixer::write_volume(Stream& stream, uint32_t open_channels, const std::vector<int32_t>& millidb) {
  if (millidb.size() != millidb_.size())
    throw RequestFailedError(EINVAL, "a volume of " + std::to_string(millidb.size()) +
                                         " channels for a control of " + std::to_string(millidb_.size()));
  if (millidb == millidb_) return false;
  if (open_channels > 0) stream.set_volume(first(millidb, open_channels));
  millidb_ = millidb;
  written_ = true;
  return true;
}

bool StreamMixer::write_muted(Stream& stream, uint32_t open_channels, const std::vector<bool>& muted) {
  if (muted.size() != muted_.size())
    throw RequestFailedError(EINVAL, "a switch of " + std::to_string(muted.size()) + " channels for a control of " +
                                         std::to_string(muted_.size()));
  if (muted == muted_) return false;
  if (open_channels > 0) stream.set_mute(first(muted, open_channels));
  muted_ = muted;
  written_ = true;
  return true;
}

std::optional<std::string> StreamMixer::apply_after_open(Stream& stream, uint32_t open_channels) {
  if (!written_ || support_ == Support::kNo || open_channels == 0) return std::nullopt;
  try {
    stream.set_volume(first(millidb_, open_channels));
    stream.set_mute(first(muted_, open_channels));
  } catch (const RequestFailedError& error) {
    support_ = Support::kNo;
    refusal_ = error.what();
    return std::string("the mixer's volume could not be restored after OPEN: ") + error.what();
  }
  return std::nullopt;
}

std::optional<StreamParams> volume_probe_params(const StreamConfig& config) {
  const StreamLimits& limits = config.limits;
  if (limits.rates.empty() || limits.channels_min == 0) return std::nullopt;
  for (uint8_t format = 0; format < 64; ++format) {
    if (!(limits.formats & (uint64_t{1} << format))) continue;
    const uint32_t sample = sndif_format_bytes_per_sample(format).value_or(0);
    if (sample == 0) continue;
    StreamParams p;
    p.format = format;
    p.channels = static_cast<uint8_t>(std::min<uint32_t>(limits.channels_min, 255));
    p.rate = limits.rates.front();
    const uint32_t frame = sample * p.channels;
    p.control_bytes = volume_control_bytes(format, p.channels);
    // Two periods in one page (or less when the card allows less), whole frames.
    uint32_t room = limits.buffer_bytes > p.control_bytes ? limits.buffer_bytes - p.control_bytes : 0;
    const uint32_t period = std::min<uint32_t>(2048, room / 2) / frame * frame;
    if (period == 0) continue;
    p.period_bytes = period;
    p.buffer_bytes = 2 * period;
    return p;
  }
  return std::nullopt;
}

}  // namespace xensnd::plugin
