#include "plugin/shared_stream.h"

#include <algorithm>

namespace xensnd::plugin {
namespace {

uint32_t control_channels(const StreamLimits& limits) {
  // An ALSA integer element holds at most 128 values.
  return std::clamp<uint32_t>(limits.channels_max, 1, 128);
}

}  // namespace

uint32_t volume_control_reserve(const StreamLimits& limits) {
  uint32_t reserve = 0;
  for (uint8_t format = 0; format < 64; ++format)
    if (limits.formats & (uint64_t{1} << format))
      reserve = std::max(reserve, volume_control_bytes(format, limits.channels_max));
  return reserve;
}

SharedStream::SharedStream(Stream& inner, Warn warn)
    : inner_(inner), warn_(std::move(warn)), config_(inner.config()), mixer_(control_channels(config_.limits)) {
  const uint32_t reserve = volume_control_reserve(config_.limits);
  config_.limits.buffer_bytes = config_.limits.buffer_bytes > reserve ? config_.limits.buffer_bytes - reserve : 0;
}

std::optional<HwParamRanges> SharedStream::query_hw_params(const HwParamRanges& request) {
  std::lock_guard lock(mutex_);
  return inner_.query_hw_params(request);
}

void SharedStream::open(const StreamParams& params) {
  std::lock_guard lock(mutex_);
  StreamParams with_control = params;
  with_control.control_bytes = volume_control_bytes(params.format, params.channels);
  // A buffer past the reduced limit (an application that ignored config()) opens without one.
  if (uint64_t{params.buffer_bytes} + params.silence_bytes + with_control.control_bytes >
      inner_.config().limits.buffer_bytes)
    with_control.control_bytes = 0;
  open_channels_ = 0;
  inner_.open(with_control);
  if (with_control.control_bytes == 0) return;
  open_channels_ = params.channels;
  if (std::optional<std::string> warning = mixer_.apply_after_open(inner_, open_channels_)) warn_(*warning);
}

void SharedStream::close() {
  std::lock_guard lock(mutex_);
  open_channels_ = 0;
  inner_.close();
}

bool SharedStream::is_open() const {
  std::lock_guard lock(mutex_);
  return inner_.is_open();
}

void SharedStream::trigger(Trigger t) {
  std::lock_guard lock(mutex_);
  inner_.trigger(t);
}

std::span<std::byte> SharedStream::buffer() {
  std::lock_guard lock(mutex_);
  return inner_.buffer();
}

std::span<std::byte> SharedStream::silence_area() {
  std::lock_guard lock(mutex_);
  return inner_.silence_area();
}

std::vector<int32_t> SharedStream::get_volume() {
  std::lock_guard lock(mutex_);
  return inner_.get_volume();
}

void SharedStream::set_volume(std::span<const int32_t> millidb) {
  std::lock_guard lock(mutex_);
  inner_.set_volume(millidb);
}

void SharedStream::set_mute(const std::vector<bool>& muted) {
  std::lock_guard lock(mutex_);
  inner_.set_mute(muted);
}

size_t SharedStream::free_slots() const {
  std::lock_guard lock(mutex_);
  return inner_.free_slots();
}

size_t SharedStream::in_flight() const {
  std::lock_guard lock(mutex_);
  return inner_.in_flight();
}

void SharedStream::send_write(uint32_t offset, uint32_t length, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  inner_.send_write(offset, length, now);
}

void SharedStream::send_read(uint32_t offset, uint32_t length, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  inner_.send_read(offset, length, now);
}

void SharedStream::send_silence(uint32_t length, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  inner_.send_silence(length, now);
}

uint64_t SharedStream::completed_write_bytes() const {
  std::lock_guard lock(mutex_);
  return inner_.completed_write_bytes();
}

uint64_t SharedStream::completed_read_bytes() const {
  std::lock_guard lock(mutex_);
  return inner_.completed_read_bytes();
}

int SharedStream::poll_fd() const {
  std::lock_guard lock(mutex_);
  return inner_.poll_fd();
}

void SharedStream::process() {
  std::lock_guard lock(mutex_);
  inner_.process();
}

void SharedStream::process_keeping_notifications(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  inner_.process_keeping_notifications(now);
}

size_t SharedStream::take_notifications() {
  std::lock_guard lock(mutex_);
  return inner_.take_notifications();
}

uint64_t SharedStream::notifications_taken() const {
  std::lock_guard lock(mutex_);
  return inner_.notifications_taken();
}

bool SharedStream::has_unconsumed_notified() const {
  std::lock_guard lock(mutex_);
  return inner_.has_unconsumed_notified();
}

void SharedStream::wait(std::chrono::milliseconds timeout) {
  std::lock_guard lock(mutex_);
  inner_.wait(timeout);
}

bool SharedStream::arm_response_notification() {
  std::lock_guard lock(mutex_);
  return inner_.arm_response_notification();
}

uint64_t SharedStream::position_bytes() const {
  std::lock_guard lock(mutex_);
  return inner_.position_bytes();
}

std::chrono::steady_clock::time_point SharedStream::position_time() const {
  std::lock_guard lock(mutex_);
  return inner_.position_time();
}

uint64_t SharedStream::event_overruns() const {
  std::lock_guard lock(mutex_);
  return inner_.event_overruns();
}

uint64_t SharedStream::positions_ahead() const {
  std::lock_guard lock(mutex_);
  return inner_.positions_ahead();
}

uint64_t SharedStream::position_rebases() const {
  std::lock_guard lock(mutex_);
  return inner_.position_rebases();
}

std::string SharedStream::last_position_anomaly() const {
  std::lock_guard lock(mutex_);
  return inner_.last_position_anomaly();
}

bool SharedStream::disconnected() const {
  std::lock_guard lock(mutex_);
  return inner_.disconnected();
}

std::string SharedStream::disconnect_reason() const {
  std::lock_guard lock(mutex_);
  return inner_.disconnect_reason();
}

void SharedStream::mark_disconnected(const std::string& reason) {
  std::lock_guard lock(mutex_);
  inner_.mark_disconnected(reason);
}

}  // namespace xensnd::plugin
