// xengntshr_*: granting our pages to another domain. Pages live in a sealed memfd, so the
// grantee maps the very same memory; the service keeps the descriptor under fresh refs.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
extern "C" {  // the header has no C++ guard of its own
#include <xengnttab.h>
}

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "sim/hypervisor/hypervisor_client.h"
#include "sim/libxengnttab/grant_handle.h"

using simxen::gnttab::fail;
namespace wire = simxen::wire;
namespace client = simxen::client;

namespace {

constexpr uint32_t kNoNotify = static_cast<uint32_t>(-1);

void* share(xengntdev_handle* xgs, uint32_t domid, int count, uint32_t* refs, int writable,
            uint32_t notify_offset, uint32_t notify_port) {
  if (!xgs || !refs || count <= 0) return fail<void*>(EINVAL, nullptr);
  // More than a guest may ever grant: gntalloc's answer to exceeding its limit.
  if (static_cast<uint32_t>(count) > wire::kMaxPagesPerRequest) return fail<void*>(ENOSPC, nullptr);
  size_t bytes = size_t(count) * wire::kPageSize;
  simxen::UniqueFd memfd(::memfd_create("xen-granted-pages", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!memfd.valid()) return nullptr;
  // Sealed against shrinking: a grantee's mapping can never lose its pages (SIGBUS).
  if (::ftruncate(memfd.get(), static_cast<off_t>(bytes)) < 0 ||
      ::fcntl(memfd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
    return nullptr;
  void* addr = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd.get(), 0);
  if (addr == MAP_FAILED) return nullptr;

  wire::ShareRequest request{};
  request.h = {wire::kShare, sizeof(request)};
  request.domid = domid;
  request.count = static_cast<uint32_t>(count);
  request.writable = writable ? 1 : 0;
  // As libxengnttab: an offset inside the page clears that byte, a port gets an event.
  if (notify_offset != kNoNotify) {
    if (notify_offset < wire::kPageSize) {
      request.notify_flags |= wire::kNotifyClearByte;
      request.notify_offset = notify_offset;
    }
    if (notify_port != kNoNotify) {
      request.notify_flags |= wire::kNotifyPort;
      request.notify_port = notify_port;
    }
  }
  std::lock_guard guard(xgs->lock);
  if (xgs->closed) {
    ::munmap(addr, bytes);
    return fail<void*>(EBADF, nullptr);
  }
  client::Response response;
  int fd = memfd.get();
  int rc = client::transact(xgs->sock.get(), &request, sizeof(request), {&fd, 1}, response);
  if (rc == 0) rc = response.error;
  if (rc == 0 && response.bytes.size() != sizeof(wire::Reply) + size_t(count) * sizeof(uint32_t)) rc = EPROTO;
  if (rc != 0) {
    ::munmap(addr, bytes);
    return fail<void*>(rc, nullptr);
  }
  std::memcpy(refs, response.bytes.data() + sizeof(wire::Reply), size_t(count) * sizeof(uint32_t));
  xgs->shares.push_back({static_cast<std::byte*>(addr), std::vector<uint32_t>(refs, refs + count),
                         std::vector<bool>(static_cast<size_t>(count), true)});
  return addr;
}

int unshare(xengntdev_handle* xgs, void* start_address, uint32_t count) {
  std::lock_guard guard(xgs->lock);
  auto* start = static_cast<std::byte*>(start_address);
  // Any whole pages of one share call, as munmap on gntalloc's mapping allows.
  auto it = std::find_if(xgs->shares.begin(), xgs->shares.end(), [&](const auto& s) {
    return start >= s.addr && start < s.addr + s.refs.size() * wire::kPageSize;
  });
  if (it == xgs->shares.end() || count == 0) return fail(EINVAL, -1);
  size_t offset = static_cast<size_t>(start - it->addr);
  size_t first = offset / wire::kPageSize;
  if (offset % wire::kPageSize != 0 || first + count > it->refs.size()) return fail(EINVAL, -1);
  if (::munmap(start, size_t{count} * wire::kPageSize) < 0) return -1;
  std::vector<uint32_t> released;
  for (size_t page = first; page < first + count; ++page) {
    if (it->live[page]) released.push_back(it->refs[page]);
    it->live[page] = false;
  }
  if (std::none_of(it->live.begin(), it->live.end(), [](bool live) { return live; })) xgs->shares.erase(it);
  if (released.empty() || !xgs->owned_by_caller()) return 0;
  std::vector<std::byte> request(sizeof(wire::RefList) + released.size() * sizeof(uint32_t));
  wire::RefList header{{wire::kUnshare, static_cast<uint32_t>(request.size())},
                       static_cast<uint32_t>(released.size()), 0};
  std::memcpy(request.data(), &header, sizeof(header));
  std::memcpy(request.data() + sizeof(header), released.data(), released.size() * sizeof(uint32_t));
  client::Response response;
  int rc = client::transact(xgs->sock.get(), request.data(), request.size(), {}, response);
  if (rc == 0) rc = response.error;
  return rc == 0 ? 0 : fail(rc, -1);
}

}  // namespace

extern "C" {

xengntshr_handle* xengntshr_open(struct xentoollog_logger* /*logger*/, unsigned /*open_flags*/) {
  return simxen::gnttab::open_handle(wire::kHelloGntshr);
}

int xengntshr_close(xengntshr_handle* xgs) { return simxen::gnttab::close_handle(xgs); }

int xengntshr_fd(xengntshr_handle* xgs) { return xgs ? xgs->sock.get() : fail(EBADF, -1); }

void* xengntshr_share_pages(xengntshr_handle* xgs, uint32_t domid, int count, uint32_t* refs, int writable) {
  return share(xgs, domid, count, refs, writable, kNoNotify, kNoNotify);
}

void* xengntshr_share_page_notify(xengntshr_handle* xgs, uint32_t domid, uint32_t* ref, int writable,
                                  uint32_t notify_offset, evtchn_port_t notify_port) {
  return share(xgs, domid, 1, ref, writable, notify_offset, notify_port);
}

int xengntshr_unshare(xengntshr_handle* xgs, void* start_address, uint32_t count) {
  if (!xgs) return fail(EBADF, -1);
  int rc = unshare(xgs, start_address, count);
  simxen::gnttab::finish_if_closed(xgs);
  return rc;
}

}  // extern "C"
