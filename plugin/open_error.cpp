#include "plugin/open_error.h"

#include <alsa/asoundlib.h>

#include <algorithm>
#include <cerrno>
#include <new>
#include <stdexcept>

#include "plugin/plugin_options.h"
#include "protocol/errors.h"

namespace xensnd::plugin {

int open_error_result(std::exception_ptr error) noexcept {
  try {
    std::rethrow_exception(error);
  } catch (const OptionError& e) {
    SNDERR("xensnd: %s", e.what());
    return -EINVAL;
  } catch (const std::invalid_argument& e) {
    SNDERR("xensnd: %s", e.what());
    return -EINVAL;
  } catch (const FrontendError& e) {
    SNDERR("xensnd: %s", e.what());
    return -std::max(e.errno_value(), 1);
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  } catch (const std::exception& e) {
    SNDERR("xensnd: %s", e.what());
    return -EIO;
  } catch (...) {
    return -EIO;
  }
}

}  // namespace xensnd::plugin
