// The frontend's error types. Messages say what happened in words a user can act on.
#pragma once

#include <stdexcept>
#include <string>

namespace xensnd {

// Base of every error the frontend throws; errno_value() is what an ALSA callback returns
// (negated). The plugin catches these at the callback boundary.
class FrontendError : public std::runtime_error {
 public:
  FrontendError(int errno_value, const std::string& message)
      : std::runtime_error(message), errno_value_(errno_value) {}
  int errno_value() const { return errno_value_; }

 private:
  int errno_value_;
};

// The XenStore configuration of the card is missing or malformed. The message names the
// XenStore path and what is wrong with it. errno EINVAL.
class ConfigError : public FrontendError {
 public:
  explicit ConfigError(const std::string& message) : FrontendError(22 /*EINVAL*/, message) {}
};

// The backend broke the protocol (unknown response id, wrong operation, ring index out of
// bounds, position out of range...) or went away (state change, response timeout). The
// stream is unusable until it is reconnected. errno ENODEV.
class BackendGoneError : public FrontendError {
 public:
  explicit BackendGoneError(const std::string& message) : FrontendError(19 /*ENODEV*/, message) {}
};

// The backend answered a request with an error status; errno_value() is the mapped status.
class RequestFailedError : public FrontendError {
 public:
  using FrontendError::FrontendError;
};

}  // namespace xensnd
