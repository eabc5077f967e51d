// XenStore over the real libxenstore.
// The Xen library headers declare no C linkage of their own.
extern "C" {
#include <xenstore.h>
}

#include <cerrno>
#include <cstdlib>
#include <string>

#include "xenio/lib_watch_pump.h"
#include "xenio/xenstore.h"

namespace xenio {
namespace {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
template <typename T>
using Malloced = std::unique_ptr<T, FreeDeleter>;

std::string where(std::string_view verb, std::string_view path) {
  return "XenStore " + std::string(verb) + " " + std::string(path);
}

struct XsCloser {
  void operator()(xs_handle* h) const { xs_close(h); }
};
using XsHandle = std::unique_ptr<xs_handle, XsCloser>;

XsHandle open_handle() {
  errno = 0;
  xs_handle* handle = xs_open(0);
  if (!handle) {
    const char* socket = std::getenv("XENSTORED_PATH");
    throw_errno(std::string("cannot open XenStore (") +
                (socket ? socket : "/var/run/xenstored/socket or /dev/xen/xenbus") + ")");
  }
  return XsHandle(handle);
}

// Requests and watches go on two connections. libxenstore starts a reader thread on a
// connection at its first watch, and from then on every answer on it is read by that thread
// and handed over to the caller through a condition variable: a request cost three thread
// wake-ups (xenstored, the reader, the caller) instead of two. A connection that never
// watches is read by the caller itself. Events are only hints to read again, so their
// arriving apart from the answers changes nothing: an answer read after an event came is as
// new as the change the event told of.
class LibXenStore final : public XenStore {
 public:
  explicit LibXenStore(XsHandle requests) : requests_(std::move(requests)), handle_(requests_.get()) {}

  std::optional<std::string> read(std::string_view path, Transaction t) override {
    unsigned len = 0;
    errno = 0;
    Malloced<char> value(static_cast<char*>(xs_read(handle_, t, std::string(path).c_str(), &len)));
    if (!value) {
      if (errno == ENOENT) return std::nullopt;
      throw_errno(where("read", path));
    }
    return std::string(value.get(), len);
  }

  void write(std::string_view path, std::string_view value, Transaction t) override {
    errno = 0;
    if (!xs_write(handle_, t, std::string(path).c_str(), value.data(), value.size()))
      throw_errno(where("write", path));
  }

  void mkdir(std::string_view path, Transaction t) override {
    errno = 0;
    if (!xs_mkdir(handle_, t, std::string(path).c_str())) throw_errno(where("mkdir", path));
  }

  void remove(std::string_view path, Transaction t) override {
    errno = 0;
    if (!xs_rm(handle_, t, std::string(path).c_str()) && errno != ENOENT)
      throw_errno(where("rm", path));
  }

  std::optional<std::vector<std::string>> directory(std::string_view path, Transaction t) override {
    unsigned count = 0;
    errno = 0;
    Malloced<char*> entries(xs_directory(handle_, t, std::string(path).c_str(), &count));
    if (!entries) {
      if (errno == ENOENT) return std::nullopt;
      // An empty directory comes back as NULL with errno 0 on some versions.
      if (errno == 0) return std::vector<std::string>{};
      throw_errno(where("directory", path));
    }
    return std::vector<std::string>(entries.get(), entries.get() + count);
  }

  std::vector<XenStorePermission> permissions(std::string_view path, Transaction t) override {
    unsigned count = 0;
    errno = 0;
    Malloced<xs_permissions> perms(xs_get_permissions(handle_, t, std::string(path).c_str(), &count));
    if (!perms) throw_errno(where("get permissions of", path));
    std::vector<XenStorePermission> result;
    for (unsigned i = 0; i < count; ++i) {
      const xs_permissions& p = perms.get()[i];
      result.push_back({static_cast<DomainId>(p.id), static_cast<unsigned>(p.perms) & 3u});
    }
    return result;
  }

  void set_permissions(std::string_view path, const std::vector<XenStorePermission>& perms,
                       Transaction t) override {
    std::vector<xs_permissions> raw;
    for (const auto& p : perms) {
      xs_permissions entry{};
      entry.id = p.domain;
      entry.perms = p.access;
      raw.push_back(entry);
    }
    errno = 0;
    if (!xs_set_permissions(handle_, t, std::string(path).c_str(), raw.data(),
                            static_cast<unsigned>(raw.size())))
      throw_errno(where("set permissions of", path));
  }

  Transaction begin_transaction() override {
    errno = 0;
    xs_transaction_t t = xs_transaction_start(handle_);
    if (t == XBT_NULL) throw_errno("XenStore transaction start");
    return t;
  }

  bool commit_transaction(Transaction t) override {
    errno = 0;
    if (xs_transaction_end(handle_, t, false)) return true;
    if (errno == EAGAIN) return false;
    throw_errno("XenStore transaction commit");
  }

  void abort_transaction(Transaction t) override {
    // Aborting only discards; a failure here leaves nothing behind worth reporting.
    xs_transaction_end(handle_, t, true);
  }

  void watch(std::string_view path, std::string_view token) override {
    if (!watches_) watches_ = open_handle();
    errno = 0;
    if (!xs_watch(watches_.get(), std::string(path).c_str(), std::string(token).c_str()))
      throw_errno(where("watch", path));
    watch_pump_.start(watches_.get());
  }

  void unwatch(std::string_view path, std::string_view token) override {
    if (!watches_) return;  // nothing was ever watched
    errno = 0;
    if (!xs_unwatch(watches_.get(), std::string(path).c_str(), std::string(token).c_str()) && errno != ENOENT)
      throw_errno(where("unwatch", path));
  }

  // Events come through the pump, never from libxenstore's own queue (see lib_watch_pump.h).
  int watch_fd() const override { return watch_pump_.fd(); }
  std::optional<XenStoreWatchEvent> next_watch_event() override { return watch_pump_.next(); }

  std::string domain_path(DomainId domid) override {
    errno = 0;
    Malloced<char> path(xs_get_domain_path(handle_, domid));
    if (!path) throw_errno("XenStore domain path of domain " + std::to_string(domid));
    return path.get();
  }

 private:
  XsHandle requests_;  // reads, writes, transactions: never watched
  xs_handle* handle_;
  // Opened by the first watch(). Declared before the pump, so closed after it: the pump's
  // thread stops before the handle it reads closes.
  XsHandle watches_;
  LibWatchPump watch_pump_;
};

}  // namespace

std::unique_ptr<XenStore> open_xenstore() { return std::make_unique<LibXenStore>(open_handle()); }

}  // namespace xenio
