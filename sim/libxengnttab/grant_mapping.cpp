// xengnttab_*: mapping pages other domains granted to us. The service checks the grants and
// hands over the granters' memfds; the pages are mapped here, contiguously, so reads and
// writes never involve the service.
#include <sys/mman.h>
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

// Maps the pages the MapReply describes into one reserved range. Returns MAP_FAILED + errno.
void* map_pages(const wire::MapPage* pages, uint32_t count, const std::vector<simxen::UniqueFd>& fds, int prot) {
  size_t bytes = size_t{count} * wire::kPageSize;
  void* base = ::mmap(nullptr, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) return MAP_FAILED;
  auto* bytes_base = static_cast<std::byte*>(base);
  for (uint32_t i = 0; i < count;) {
    // One mmap per run of consecutive pages of the same memfd (the usual case: a whole
    // buffer shared in one call is one run).
    uint32_t run = 1;
    while (i + run < count && pages[i + run].fd_index == pages[i].fd_index &&
           pages[i + run].page == pages[i].page + run)
      ++run;
    if (pages[i].fd_index >= fds.size()) {
      ::munmap(base, bytes);
      errno = EPROTO;
      return MAP_FAILED;
    }
    void* at = ::mmap(bytes_base + size_t{i} * wire::kPageSize, size_t{run} * wire::kPageSize, prot,
                      MAP_SHARED | MAP_FIXED, fds[pages[i].fd_index].get(),
                      static_cast<off_t>(size_t{pages[i].page} * wire::kPageSize));
    if (at == MAP_FAILED) {
      int error = errno;
      ::munmap(base, bytes);
      errno = error;
      return MAP_FAILED;
    }
    i += run;
  }
  return base;
}

void forget_mapping(xengntdev_handle* xgt, uint64_t id) {
  wire::UnmapRequest request{{wire::kUnmap, sizeof(request)}, id};
  client::Response response;
  client::transact(xgt->sock.get(), &request, sizeof(request), {}, response);
}

void* map_refs(xengntdev_handle* xgt, uint32_t count, const uint32_t* domids, uint32_t domid_stride,
               const uint32_t* refs, int prot, uint32_t notify_offset, uint32_t notify_port) {
  if (!xgt || !refs || !domids || count == 0 || count > wire::kMaxPagesPerRequest ||
      !(prot & (PROT_READ | PROT_WRITE)))
    return fail<void*>(EINVAL, nullptr);
  std::lock_guard guard(xgt->lock);
  if (xgt->closed) return fail<void*>(EBADF, nullptr);
  std::vector<std::byte> request(sizeof(wire::MapRequest) + size_t{count} * sizeof(wire::MapEntry));
  wire::MapRequest header{};
  header.h = {wire::kMap, static_cast<uint32_t>(request.size())};
  header.count = count;
  header.writable = (prot & PROT_WRITE) ? 1 : 0;
  // As libxengnttab: an offset inside the mapping clears that byte, a port gets an event.
  if (notify_offset != kNoNotify) {
    if (notify_offset < size_t{count} * wire::kPageSize) {
      header.notify_flags |= wire::kNotifyClearByte;
      header.notify_offset = notify_offset;
    }
    if (notify_port != kNoNotify) {
      header.notify_flags |= wire::kNotifyPort;
      header.notify_port = notify_port;
    }
  }
  std::memcpy(request.data(), &header, sizeof(header));
  for (uint32_t i = 0; i < count; ++i) {
    wire::MapEntry entry{domids[size_t{i} * domid_stride], refs[i]};
    std::memcpy(request.data() + sizeof(header) + i * sizeof(entry), &entry, sizeof(entry));
  }
  client::Response response;
  int rc = client::transact(xgt->sock.get(), request.data(), request.size(), {}, response);
  if (rc != 0) return fail<void*>(rc, nullptr);
  if (response.error != 0) return fail<void*>(response.error, nullptr);
  wire::MapReply reply;
  if (response.bytes.size() != sizeof(reply) + size_t{count} * sizeof(wire::MapPage))
    return fail<void*>(EPROTO, nullptr);
  std::memcpy(&reply, response.bytes.data(), sizeof(reply));
  rc = client::receive_more_fds(xgt->sock.get(), reply.fd_count, response.fds);
  if (rc != 0) return fail<void*>(rc, nullptr);
  std::vector<wire::MapPage> pages(count);
  std::memcpy(pages.data(), response.bytes.data() + sizeof(reply), count * sizeof(wire::MapPage));
  void* addr = map_pages(pages.data(), count, response.fds, prot & (PROT_READ | PROT_WRITE));
  if (addr == MAP_FAILED) {
    int error = errno;
    forget_mapping(xgt, reply.r.value);
    return fail<void*>(error, nullptr);
  }
  xgt->mappings.push_back({static_cast<std::byte*>(addr), count, reply.r.value});
  return addr;
}

}  // namespace

extern "C" {

xengnttab_handle* xengnttab_open(struct xentoollog_logger* /*logger*/, unsigned /*open_flags*/) {
  return simxen::gnttab::open_handle(wire::kHelloGnttab);
}

int xengnttab_close(xengnttab_handle* xgt) { return simxen::gnttab::close_handle(xgt); }

int xengnttab_fd(xengnttab_handle* xgt) { return xgt ? xgt->sock.get() : fail(EBADF, -1); }

void* xengnttab_map_grant_ref(xengnttab_handle* xgt, uint32_t domid, uint32_t ref, int prot) {
  return map_refs(xgt, 1, &domid, 0, &ref, prot, kNoNotify, kNoNotify);
}

void* xengnttab_map_grant_refs(xengnttab_handle* xgt, uint32_t count, uint32_t* domids, uint32_t* refs,
                               int prot) {
  return map_refs(xgt, count, domids, 1, refs, prot, kNoNotify, kNoNotify);
}

void* xengnttab_map_domain_grant_refs(xengnttab_handle* xgt, uint32_t count, uint32_t domid, uint32_t* refs,
                                      int prot) {
  return map_refs(xgt, count, &domid, 0, refs, prot, kNoNotify, kNoNotify);
}

void* xengnttab_map_grant_ref_notify(xengnttab_handle* xgt, uint32_t domid, uint32_t ref, int prot,
                                     uint32_t notify_offset, evtchn_port_t notify_port) {
  return map_refs(xgt, 1, &domid, 0, &ref, prot, notify_offset, notify_port);
}

int xengnttab_unmap(xengnttab_handle* xgt, void* start_address, uint32_t count) {
  if (!xgt) return fail(EBADF, -1);
  {
    std::lock_guard guard(xgt->lock);
    auto it = std::find_if(xgt->mappings.begin(), xgt->mappings.end(),
                           [&](const auto& m) { return m.addr == start_address; });
    // As gntdev: only a whole mapping, named by its start and page count.
    if (it == xgt->mappings.end() || it->count != count) return fail(EINVAL, -1);
    if (::munmap(it->addr, size_t{count} * wire::kPageSize) < 0) return -1;
    uint64_t id = it->id;
    xgt->mappings.erase(it);
    if (xgt->owned_by_caller()) forget_mapping(xgt, id);
  }
  simxen::gnttab::finish_if_closed(xgt);
  return 0;
}

int xengnttab_set_max_grants(xengnttab_handle* xgt, uint32_t /*nr_grants*/) {
  // Linux's gntdev no longer limits a handle; the call is accepted as it is there.
  return xgt ? 0 : fail(EBADF, -1);
}

}  // extern "C"
