#include "xenstore_handle.h"

#include <poll.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>

extern "C" {
#include <xenstore_lib.h>
}

namespace simtest {

XenstoreHandle::XenstoreHandle(const SimDaemon& daemon, unsigned domid) {
  use_domain(daemon, domid);
  handle_ = xs_open(0);
  if (!handle_) throw std::runtime_error("xs_open failed for domain " + std::to_string(domid));
}

XenstoreHandle::~XenstoreHandle() { xs_close(handle_); }

std::optional<std::string> XenstoreHandle::read(const std::string& path, xs_transaction_t t) {
  unsigned int length = 0;
  void* value = xs_read(handle_, t, path.c_str(), &length);
  if (!value) {
    last_errno_ = errno;
    return std::nullopt;
  }
  std::string text(static_cast<char*>(value), length);
  std::free(value);
  return text;
}

bool XenstoreHandle::write(const std::string& path, const std::string& value, xs_transaction_t t) {
  bool ok = xs_write(handle_, t, path.c_str(), value.data(), value.size());
  if (!ok) last_errno_ = errno;
  return ok;
}

std::vector<std::string> XenstoreHandle::perms(const std::string& path) {
  unsigned int count = 0;
  xs_permissions* perms = xs_get_permissions(handle_, XBT_NULL, path.c_str(), &count);
  if (!perms) {
    last_errno_ = errno;
    return {};
  }
  std::vector<std::string> result;
  for (unsigned i = 0; i < count; ++i) {
    static constexpr char letters[] = {'n', 'r', 'w', 'b'};
    result.push_back(letters[perms[i].perms & (XS_PERM_READ | XS_PERM_WRITE)] + std::to_string(perms[i].id));
  }
  std::free(perms);
  return result;
}

bool XenstoreHandle::set_perms(const std::string& path, const std::vector<std::string>& texts) {
  std::vector<xs_permissions> perms(texts.size());
  for (size_t i = 0; i < texts.size(); ++i)
    if (!xs_strings_to_perms(&perms[i], 1, texts[i].c_str())) throw std::runtime_error("bad perm " + texts[i]);
  bool ok = xs_set_permissions(handle_, XBT_NULL, path.c_str(), perms.data(), perms.size());
  if (!ok) last_errno_ = errno;
  return ok;
}

bool XenstoreHandle::watch(const std::string& path, const std::string& token) {
  bool ok = xs_watch(handle_, path.c_str(), token.c_str());
  if (!ok) last_errno_ = errno;
  return ok;
}

std::pair<std::string, std::string> XenstoreHandle::next_event() {
  for (;;) {
    if (char** event = xs_check_watch(handle_)) {
      std::pair<std::string, std::string> result{event[XS_WATCH_PATH], event[XS_WATCH_TOKEN]};
      std::free(event);
      return result;
    }
    pollfd p{xs_fileno(handle_), POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) throw std::runtime_error("no watch event within 10s");
  }
}

}  // namespace simtest
