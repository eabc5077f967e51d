// Grant tables: pages a domain shares (a memfd per share call, one grant per page) and
// the mappings other domains make of them.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <string>

#include "sim/hypervisor/service_state.h"

namespace simxen {
namespace {

// A read-only descriptor of the same memfd, so the kernel itself refuses a writable map of
// a read-only grant, whatever a client library does.
UniqueFd reopen_read_only(int fd) {
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  return UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
}

// A granter must not be able to pull pages from under a mapper (SIGBUS there): only sealed
// memfds large enough for the pages they claim are accepted.
bool is_sealed_memfd(int fd, uint64_t bytes) {
  int seals = ::fcntl(fd, F_GET_SEALS);
  if (seals < 0 || !(seals & F_SEAL_SHRINK)) return false;
  struct stat st{};
  return ::fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) >= bytes;
}

}  // namespace

void HypervisorService::Impl::share(Client& client, std::span<const std::byte> message,
                                    std::vector<UniqueFd>& fds) {
  wire::ShareRequest request;
  if (message.size() != sizeof(request) || fds.size() != 1) {
    reply_error(client, EINVAL);
    return;
  }
  std::memcpy(&request, message.data(), sizeof(request));
  Domain* dom = domain(client.domid);
  if (request.count == 0 || request.count > wire::kMaxPagesPerRequest || request.domid > 0xffff ||
      !dom || (request.notify_flags & ~(wire::kNotifyClearByte | wire::kNotifyPort)) ||
      ((request.notify_flags & wire::kNotifyClearByte) && request.notify_offset >= wire::kPageSize) ||
      !is_sealed_memfd(fds[0].get(), uint64_t{request.count} * wire::kPageSize)) {
    reply_error(client, EINVAL);
    return;
  }
  // gntalloc counts every grant the guest holds, revoked-but-still-mapped ones included.
  if (dom->grants.size() + request.count > kGrantLimitPerDomain) {
    reply_error(client, ENOSPC);
    return;
  }
  // The notify port must be bound in the domain, as gntalloc's evtchn_get requires.
  if ((request.notify_flags & wire::kNotifyPort) && !hold_port(client.domid, request.notify_port)) {
    reply_error(client, EINVAL);
    return;
  }
  auto owner_memfd = std::make_shared<UniqueFd>(std::move(fds[0]));
  auto memfd = request.writable ? owner_memfd : std::make_shared<UniqueFd>(reopen_read_only(owner_memfd->get()));
  if (!memfd->valid()) {
    int error = errno;
    if (request.notify_flags & wire::kNotifyPort) release_hold(client.domid, request.notify_port);
    reply_error(client, error);
    return;
  }
  std::vector<uint32_t> refs;
  refs.reserve(request.count);
  for (uint32_t page = 0; page < request.count; ++page) {
    // Next free reference after the last one handed out, never 0-7.
    uint32_t ref = dom->next_ref;
    while (dom->grants.count(ref)) ref = ref + 1 < kGrantRefCount ? ref + 1 : kFirstGrantRef;
    dom->next_ref = ref + 1 < kGrantRefCount ? ref + 1 : kFirstGrantRef;
    auto grant = std::make_shared<Grant>();
    grant->granter = client.domid;
    grant->ref = ref;
    grant->grantee = static_cast<uint16_t>(request.domid);
    grant->writable = request.writable != 0;
    grant->memfd = memfd;
    grant->page = page;
    if (page == 0 && request.notify_flags) {  // share_page_notify shares exactly one page
      grant->owner_memfd = owner_memfd;
      grant->notify_flags = request.notify_flags;
      grant->notify_offset = request.notify_offset;
      grant->notify_port = request.notify_port;
    }
    dom->grants.emplace(ref, grant);
    client.grants.emplace(ref, grant);
    refs.push_back(ref);
  }
  std::vector<std::byte> out(sizeof(wire::Reply) + refs.size() * sizeof(uint32_t));
  wire::Reply r{{wire::kReply, static_cast<uint32_t>(out.size())}, 0, 0, 0};
  std::memcpy(out.data(), &r, sizeof(r));
  std::memcpy(out.data() + sizeof(r), refs.data(), refs.size() * sizeof(uint32_t));
  reply(client, out.data(), out.size());
}

void HypervisorService::Impl::unshare(Client& client, std::span<const std::byte> message) {
  wire::RefList request;
  if (message.size() < sizeof(request)) {
    reply_error(client, EINVAL);
    return;
  }
  std::memcpy(&request, message.data(), sizeof(request));
  if (request.count > wire::kMaxPagesPerRequest ||
      message.size() != sizeof(request) + size_t{request.count} * sizeof(uint32_t)) {
    reply_error(client, EINVAL);
    return;
  }
  for (uint32_t i = 0; i < request.count; ++i) {
    uint32_t ref;
    std::memcpy(&ref, message.data() + sizeof(request) + i * sizeof(uint32_t), sizeof(ref));
    // Only this handle's own grants; refs it no longer owns (revoked by a save/restore) are
    // already gone, and releasing them is not an error, as on Linux.
    auto it = client.grants.find(ref);
    if (it == client.grants.end()) continue;
    std::shared_ptr<Grant> grant = it->second;
    client.grants.erase(it);
    revoke_grant(grant);
  }
  reply_error(client, 0);
}

void HypervisorService::Impl::revoke_grant(const std::shared_ptr<Grant>& grant) {
  if (grant->revoked) return;
  grant->revoked = true;
  notify_on_release(grant->granter, grant->notify_flags, grant->notify_offset, grant->notify_port,
                    grant->owner_memfd.get(), uint64_t{grant->page} * wire::kPageSize);
  grant->owner_memfd.reset();
  forget_if_unused(grant);
}

void HypervisorService::Impl::forget_if_unused(const std::shared_ptr<Grant>& grant) {
  if (!grant->revoked || grant->map_count > 0) return;
  Domain* dom = domain(grant->granter);
  if (!dom) return;
  auto it = dom->grants.find(grant->ref);
  if (it != dom->grants.end() && it->second == grant) dom->grants.erase(it);
}

void HypervisorService::Impl::map(Client& client, std::span<const std::byte> message) {
  wire::MapRequest request;
  if (message.size() < sizeof(request)) {
    reply_error(client, EINVAL);
    return;
  }
  std::memcpy(&request, message.data(), sizeof(request));
  if (request.count == 0 || request.count > wire::kMaxPagesPerRequest ||
      message.size() != sizeof(request) + size_t{request.count} * sizeof(wire::MapEntry) ||
      (request.notify_flags & ~(wire::kNotifyClearByte | wire::kNotifyPort)) ||
      ((request.notify_flags & wire::kNotifyClearByte) &&
       (request.notify_offset >= uint64_t{request.count} * wire::kPageSize || !request.writable))) {
    reply_error(client, EINVAL);
    return;
  }
  Mapping mapping;
  mapping.mapper = client.domid;
  mapping.notify_flags = request.notify_flags;
  mapping.notify_offset = request.notify_offset;
  mapping.notify_port = request.notify_port;
  for (uint32_t i = 0; i < request.count; ++i) {
    wire::MapEntry entry;
    std::memcpy(&entry, message.data() + sizeof(request) + i * sizeof(entry), sizeof(entry));
    // Xen answers GNTST_bad_domain / bad_gntref / permission_denied; gntdev turns each into
    // EINVAL and the library returns NULL.
    Domain* granter = domain(entry.domid);
    if (!granter) {
      reply_error(client, EINVAL);
      return;
    }
    auto it = granter->grants.find(entry.ref);
    if (it == granter->grants.end() || it->second->revoked || it->second->grantee != client.domid ||
        (request.writable && !it->second->writable)) {
      reply_error(client, EINVAL);
      return;
    }
    mapping.grants.push_back(it->second);
  }
  if ((request.notify_flags & wire::kNotifyPort) && !hold_port(client.domid, request.notify_port)) {
    reply_error(client, EINVAL);
    return;
  }
  // One descriptor per distinct memfd, in first-use order.
  std::map<const UniqueFd*, uint32_t> index;
  std::vector<int> fds;
  std::vector<wire::MapPage> pages;
  for (const auto& grant : mapping.grants) {
    auto [it, added] = index.emplace(grant->memfd.get(), static_cast<uint32_t>(fds.size()));
    if (added) fds.push_back(grant->memfd->get());
    pages.push_back({it->second, grant->page});
  }
  uint64_t id = next_mapping++;
  std::vector<std::byte> out(sizeof(wire::MapReply) + pages.size() * sizeof(wire::MapPage));
  wire::MapReply r{};
  r.r = {{wire::kReply, static_cast<uint32_t>(out.size())}, 0, 0, id};
  r.fd_count = static_cast<uint32_t>(fds.size());
  std::memcpy(out.data(), &r, sizeof(r));
  std::memcpy(out.data() + sizeof(r), pages.data(), pages.size() * sizeof(wire::MapPage));
  size_t first = std::min<size_t>(fds.size(), wire::kMaxFdsPerPacket);
  // Registered before sending: a client that fails to take the reply is dropped, and its
  // mapping released with it like any other.
  for (const auto& grant : mapping.grants) ++grant->map_count;
  if (Domain* mapper = domain(client.domid)) mapper->mapped_pages += mapping.grants.size();
  client.mappings.emplace(id, std::move(mapping));
  if (!reply(client, out.data(), out.size(), std::span<const int>(fds.data(), first))) return;
  for (size_t sent = first; sent < fds.size();) {
    size_t batch = std::min<size_t>(fds.size() - sent, wire::kMaxFdsPerPacket);
    wire::Header more{wire::kMoreFds, sizeof(wire::Header)};
    if (!reply(client, &more, sizeof(more), std::span<const int>(fds.data() + sent, batch))) return;
    sent += batch;
  }
}

void HypervisorService::Impl::unmap(Client& client, std::span<const std::byte> message) {
  wire::UnmapRequest request;
  if (message.size() != sizeof(request)) {
    reply_error(client, EINVAL);
    return;
  }
  std::memcpy(&request, message.data(), sizeof(request));
  auto it = client.mappings.find(request.mapping_id);
  if (it == client.mappings.end()) {
    reply_error(client, EINVAL);
    return;
  }
  Mapping mapping = std::move(it->second);
  client.mappings.erase(it);
  release_mapping(mapping);
  reply_error(client, 0);
}

void HypervisorService::Impl::release_mapping(Mapping& mapping) {
  if (Domain* mapper = domain(mapping.mapper)) mapper->mapped_pages -= mapping.grants.size();
  notify_mapping_released(mapping);
  for (const auto& grant : mapping.grants) {
    --grant->map_count;
    forget_if_unused(grant);
  }
  mapping.grants.clear();
}

void HypervisorService::Impl::notify_mapping_released(const Mapping& mapping) {
  if (!mapping.notify_flags) return;
  // Only the byte to clear lives at notify_offset; the event does not. map() bounds the
  // offset by the mapping's size for a clear byte only, so an event-only notify may carry
  // any offset: were the event skipped with it, the port's hold would never be released
  // and the port would stay bound for ever after its handle is gone. gntdev likewise
  // sends the event and puts its reference on the port whatever the offset.
  const UniqueFd* memfd = nullptr;
  uint64_t byte_base = 0;
  uint32_t page = mapping.notify_offset / wire::kPageSize;
  if ((mapping.notify_flags & wire::kNotifyClearByte) && page < mapping.grants.size()) {
    memfd = mapping.grants[page]->memfd.get();
    byte_base = uint64_t{mapping.grants[page]->page} * wire::kPageSize;
  }
  notify_on_release(mapping.mapper, mapping.notify_flags, mapping.notify_offset % wire::kPageSize,
                    mapping.notify_port, memfd, byte_base);
}

void HypervisorService::Impl::notify_on_release(uint16_t domid, uint32_t flags, uint32_t offset,
                                                uint32_t port, const UniqueFd* memfd, uint64_t byte_base) {
  if ((flags & wire::kNotifyClearByte) && memfd && offset < wire::kPageSize) {
    // A read-only descriptor cannot be written: such a mapping refused the clear-byte flag.
    const char zero = 0;
    [[maybe_unused]] ssize_t written = ::pwrite(memfd->get(), &zero, 1, static_cast<off_t>(byte_base + offset));
  }
  if (flags & wire::kNotifyPort) {
    send_event(domid, port);
    release_hold(domid, port);
  }
}

}  // namespace simxen
