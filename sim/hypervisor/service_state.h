// The HypervisorService's bookkeeping, shared by its three source files:
// hypervisor_service.cpp (sockets, processes, dispatch), grant_service.cpp (grant tables)
// and event_channel_service.cpp (event channels). Everything runs on the daemon's single
// event-loop thread, so nothing here is locked.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <vector>

#include "sim/common/event_loop.h"
#include "sim/hypervisor/hypervisor_service.h"
#include "sim/hypervisor/hypervisor_wire.h"
#include "sim/hypervisor/port_state.h"
#include "sim/hypervisor/unique_fd.h"

namespace simxen {

using ClientId = uint64_t;

// Xen's limits as a guest sees them by default.
inline constexpr uint32_t kFirstGrantRef = 8;        // 0-7 are reserved (console, xenstore)
inline constexpr uint32_t kGrantRefCount = 32768;    // 64 grant frames of 512 v1 entries
inline constexpr size_t kGrantLimitPerDomain = 1024; // gntalloc's `limit` module parameter
inline constexpr uint32_t kPortLimitPerDomain = 1023;// xl's default max_event_channels

// A page granted by a domain. Shared by the granter's table and every mapping of it, so a
// mapping keeps the page's memfd alive after the grant is revoked, as the real page is.
struct Grant {
  uint16_t granter = 0;
  uint32_t ref = 0;
  uint16_t grantee = 0;
  bool writable = false;
  std::shared_ptr<UniqueFd> memfd;  // read-only descriptor for read-only grants
  std::shared_ptr<UniqueFd> owner_memfd;  // writable: for the owner's clear-byte notify
  uint32_t page = 0;                // page offset inside memfd
  uint32_t map_count = 0;
  bool revoked = false;  // released by its owner: no new maps, gone once unmapped
  // xengntshr_share_page_notify: done when the owner releases the page.
  uint32_t notify_flags = 0;
  uint32_t notify_offset = 0;
  uint32_t notify_port = 0;
};

struct Mapping {
  uint16_t mapper = 0;
  std::vector<std::shared_ptr<Grant>> grants;
  // xengnttab_map_grant_ref_notify: done when the mapping is released.
  uint32_t notify_flags = 0;
  uint32_t notify_offset = 0;
  uint32_t notify_port = 0;
};

struct Port {
  ClientId client = 0;  // the event-channel handle that bound it
  uint32_t slot = 0;    // its PortWord in that handle's memfd
  uint32_t generation = 0;
  bool connected = false;
  uint16_t remote_domid = 0;  // unbound: who may bind; connected: the peer's domain
  uint32_t remote_port = 0;   // connected only
  // Notify-on-release entries naming this port. As gntdev's evtchn_get, they keep the port
  // bound after its handle unbinds or dies, until the notification has gone out.
  uint32_t holds = 0;
  bool orphaned = false;  // its handle is gone; closed when the last hold is dropped
};

enum class ClientKind { kNone, kEvtchn, kGnttab, kGntshr };

struct Client {
  ClientId id = 0;
  uint16_t domid = 0;
  pid_t pid = 0;  // the owner: resources belong to this process, not to the socket
  UniqueFd sock;
  ClientKind kind = ClientKind::kNone;
  bool broken = false;  // a send failed: dropped once the current event is handled
  // kEvtchn
  UniqueFd eventfd;
  UniqueFd state_memfd;
  port_state::Word* slots = nullptr;  // mapped state_memfd, wire::kSlotsPerHandle words
  std::vector<bool> slot_used;
  std::set<uint32_t> ports;
  // kGntshr: grants by ref
  std::map<uint32_t, std::shared_ptr<Grant>> grants;
  // kGnttab
  std::map<uint64_t, Mapping> mappings;
};

struct Domain {
  uint16_t id = 0;
  std::filesystem::path socket_path;
  UniqueFd listener;
  std::map<uint32_t, std::shared_ptr<Grant>> grants;  // by ref, revoked-but-mapped included
  uint32_t next_ref = kFirstGrantRef;
  std::map<uint32_t, Port> ports;
  uint64_t mapped_pages = 0;
};

struct Process {
  UniqueFd pidfd;
  std::set<ClientId> clients;
};

struct HypervisorService::Impl {
  Impl(EventLoop& l, std::filesystem::path dir) : loop(l), run_dir(std::move(dir)) {}

  EventLoop& loop;
  std::filesystem::path run_dir;
  std::map<uint16_t, Domain> domains;
  std::map<ClientId, std::unique_ptr<Client>> clients;
  std::map<pid_t, Process> processes;
  ClientId next_client = 1;
  uint64_t next_mapping = 1;
  std::vector<ClientId> broken_clients;
  UniqueFd spare_fd;  // released to refuse a connection when descriptors run out

  // hypervisor_service.cpp
  void accept_clients(uint16_t domid);
  void serve(ClientId id);
  void dispatch(Client& client, std::span<const std::byte> message, std::vector<UniqueFd>& fds);
  void drop_broken();  // drops clients whose sends failed, outside any iteration
  void process_exited(pid_t pid);
  // Handles exits the loop has not served yet, so counts are exact when asked for.
  void reap_exited(ClientId asking = 0);
  HypervisorCounts domain_counts(uint16_t domid, ClientId asking = 0);
  void drop_client(ClientId id);  // releases everything the handle owns
  void drop_clients(std::set<ClientId> ids);  // a whole process or domain
  void release_resources(Client& client);
  bool reply(Client& client, const void* data, size_t size, std::span<const int> fds = {});
  bool reply_error(Client& client, int error, uint64_t value = 0);
  bool push(ClientId id, const void* data, size_t size, std::span<const int> fds = {});
  Domain* domain(uint32_t domid);

  // grant_service.cpp
  void share(Client& client, std::span<const std::byte> message, std::vector<UniqueFd>& fds);
  void unshare(Client& client, std::span<const std::byte> message);
  void map(Client& client, std::span<const std::byte> message);
  void unmap(Client& client, std::span<const std::byte> message);
  void revoke_grant(const std::shared_ptr<Grant>& grant);
  void release_mapping(Mapping& mapping);
  void notify_mapping_released(const Mapping& mapping);  // its clear byte and event, as asked
  void forget_if_unused(const std::shared_ptr<Grant>& grant);
  void notify_on_release(uint16_t domid, uint32_t flags, uint32_t offset, uint32_t port,
                         const UniqueFd* memfd, uint64_t byte_base);

  // event_channel_service.cpp
  void hello_evtchn(Client& client, std::vector<UniqueFd>& fds);
  void bind_unbound(Client& client, std::span<const std::byte> message);
  void bind_interdomain(Client& client, std::span<const std::byte> message);
  void unbind(Client& client, std::span<const std::byte> message);
  uint64_t close_port(uint16_t domid, uint32_t port);  // returns the port's old word
  void send_event(uint16_t domid, uint32_t port);       // as the port's owner would notify
  void raise_port(const Port& port);
  bool hold_port(uint16_t domid, uint32_t port);     // false: no such port
  void release_hold(uint16_t domid, uint32_t port);
  void unbind_port(Client& owner, uint32_t port);    // closes, or orphans a held port
  void release_ports(Client& client);
};

}  // namespace simxen
