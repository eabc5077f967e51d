// What an exception escaping the opening of a PCM or a CTL becomes for alsa-lib: a negative
// errno, with the message logged. The one place open failures stop before C (the callbacks of
// an open object have theirs in ioplug_callbacks.cpp and ctl_callbacks.cpp).
#pragma once

#include <exception>

namespace xensnd::plugin {

// `error` must hold an exception (std::current_exception() inside a catch).
int open_error_result(std::exception_ptr error) noexcept;

}  // namespace xensnd::plugin
