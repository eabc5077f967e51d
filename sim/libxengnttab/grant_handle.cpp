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
  int rc = client::connect_hypervisor(handle->sock);
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

int close_handle(xengntdev_handle* handle) {
  if (!handle) return 0;
  if (handle->owned_by_caller()) {
    std::lock_guard guard(handle->lock);
    wire::Header bye{wire::kClose, sizeof(wire::Header)};
    client::Response response;
    client::transact(handle->sock.get(), &bye, sizeof(bye), {}, response);
  }
  // Pages stay mapped, as after closing /dev/xen/gntdev: the caller unmaps them.
  delete handle;
  return 0;
}

}  // namespace simxen::gnttab
