// The toolstack's view of XenStore through the real libxenstore, as xl/libxl use it: one
// dom0 connection (XENSTORED_PATH), errors as exceptions carrying errno.
#pragma once

// libxenstore's header declares no C linkage of its own.
extern "C" {
#include <xenstore.h>
}

#include <functional>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace simxen::toolstack {

class XenstoreClient {
 public:
  XenstoreClient();  // xs_open(0); throws std::system_error when no xenstored answers
  ~XenstoreClient();
  XenstoreClient(const XenstoreClient&) = delete;
  XenstoreClient& operator=(const XenstoreClient&) = delete;

  xs_handle* handle() const { return handle_; }

  std::optional<std::string> read(xs_transaction_t t, const std::string& path);
  std::vector<std::string> directory(xs_transaction_t t, const std::string& path);  // empty if none
  bool exists(xs_transaction_t t, const std::string& path);
  void write(xs_transaction_t t, const std::string& path, const std::string& value);
  void mkdir(xs_transaction_t t, const std::string& path);
  void remove(xs_transaction_t t, const std::string& path);  // absent is fine
  void set_permissions(xs_transaction_t t, const std::string& path, std::vector<xs_permissions> perms);

  // Runs `body` in a transaction, starting again while the commit fails with EAGAIN (as
  // libxl's retry_transaction loops do).
  void in_transaction(const std::function<void(xs_transaction_t)>& body);

 private:
  xs_handle* handle_ = nullptr;
};

}  // namespace simxen::toolstack
