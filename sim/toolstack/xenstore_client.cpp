#include "sim/toolstack/xenstore_client.h"

#include <cerrno>
#include <cstdlib>

namespace simxen::toolstack {

namespace {
[[noreturn]] void fail(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }
}  // namespace

XenstoreClient::XenstoreClient() {
  handle_ = xs_open(0);
  if (!handle_) fail("cannot connect to xenstored (is XENSTORED_PATH set to dom0's socket?)");
}

XenstoreClient::~XenstoreClient() { xs_close(handle_); }

std::optional<std::string> XenstoreClient::read(xs_transaction_t t, const std::string& path) {
  unsigned int length = 0;
  void* value = xs_read(handle_, t, path.c_str(), &length);
  if (!value) {
    if (errno == ENOENT) return std::nullopt;
    fail("xenstore read " + path);
  }
  std::string text(static_cast<char*>(value), length);
  std::free(value);
  return text;
}

std::vector<std::string> XenstoreClient::directory(xs_transaction_t t, const std::string& path) {
  unsigned int count = 0;
  char** names = xs_directory(handle_, t, path.c_str(), &count);
  if (!names) {
    if (errno == ENOENT) return {};
    fail("xenstore directory " + path);
  }
  std::vector<std::string> result(names, names + count);
  std::free(names);
  return result;
}

bool XenstoreClient::exists(xs_transaction_t t, const std::string& path) { return read(t, path).has_value(); }

void XenstoreClient::write(xs_transaction_t t, const std::string& path, const std::string& value) {
  if (!xs_write(handle_, t, path.c_str(), value.data(), value.size())) fail("xenstore write " + path);
}

void XenstoreClient::mkdir(xs_transaction_t t, const std::string& path) {
  if (!xs_mkdir(handle_, t, path.c_str())) fail("xenstore mkdir " + path);
}

void XenstoreClient::remove(xs_transaction_t t, const std::string& path) {
  if (!xs_rm(handle_, t, path.c_str()) && errno != ENOENT) fail("xenstore rm " + path);
}

void XenstoreClient::set_permissions(xs_transaction_t t, const std::string& path, std::vector<xs_permissions> perms) {
  if (!xs_set_permissions(handle_, t, path.c_str(), perms.data(), perms.size()))
    fail("xenstore set permissions " + path);
}

void XenstoreClient::in_transaction(const std::function<void(xs_transaction_t)>& body) {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    xs_transaction_t t = xs_transaction_start(handle_);
    if (t == XBT_NULL) fail("xenstore transaction start");
    try {
      body(t);
    } catch (...) {
      xs_transaction_end(handle_, t, true);
      throw;
    }
    if (xs_transaction_end(handle_, t, false)) return;
    if (errno != EAGAIN) fail("xenstore transaction end");
  }
  errno = EAGAIN;
  fail("xenstore transaction kept conflicting");
}

}  // namespace simxen::toolstack
