#include "sim/libxengnttab/grant_handle.h"

#include <unistd.h>

#include <cerrno>
#include <new>

#include "sim/hypervisor/hypervisor_client.h"

bool xengntdev_handle::owned_by_caller() const { return owner == ::getpid(); }

namespace simxen::gnttab {

xengntdev_handle* open_handle(uint32_t hello_op) {
  auto* handle = new (std::nothrow) xengntdev_handle;
  if (!handle) return fail<xengntdev_handle*>(ENOMEM, nullptr);
  handle->owner = ::getpid();
  int rc = client::connect_hypervisor(handle->sock, "xengnttab");
  client::Response response;
  if (rc == 0) {
    wire::Header hello{hello_op, sizeof(wire::Header)};
    rc = client::transact(handle->sock.get(), &hello, sizeof(hello), {}, response);
    if (rc == 0) rc = response.error;
  }
  if (rc != 0) {
    delete handle;
    return fail<xengntdev_handle*>(rc, nullptr);
  }
  return handle;
}

namespace {

void say_goodbye(xengntdev_handle* handle) {
  if (!handle->owned_by_caller()) return;  // a forked child: nothing here is its own
  wire::Header bye{wire::kClose, sizeof(wire::Header)};
  client::Response response;
  client::transact(handle->sock.get(), &bye, sizeof(bye), {}, response);
}

}  // namespace

int close_handle(xengntdev_handle* handle) {
  if (!handle) return 0;
  {
    std::lock_guard guard(handle->lock);
    handle->closed = true;
    if (!handle->idle()) return 0;
    say_goodbye(handle);
  }
  delete handle;
  return 0;
}

void finish_if_closed(xengntdev_handle* handle) {
  {
    std::lock_guard guard(handle->lock);
    if (!handle->closed || !handle->idle()) return;
    say_goodbye(handle);
  }
  delete handle;
}

}  // namespace simxen::gnttab
