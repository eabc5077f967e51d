// The wire protocol between the drop-in libxengnttab/libxenevtchn and the HypervisorService.
//
// Transport: one AF_UNIX SOCK_SEQPACKET connection per library handle to
// <run_dir>/dom<id>/hypervisor; one packet is one message, file descriptors travel as
// SCM_RIGHTS. Every message starts with a Header. A client sends one request and reads
// packets until the Reply; the service may push unsolicited messages (kPushPeer,
// kPushPeerGone) to event-channel handles in between, which the client applies as it meets
// them. Structs are host-endian and fixed-size: both ends are on the same machine.
//
// Only set-up travels here. Notify/pending/unmask work on shared PortWord atomics and
// eventfds the service hands out at bind time (sim/hypervisor/port_state.h), and mapped
// grants are the granter's own memfd pages.
#pragma once

#include <cstddef>
#include <cstdint>

namespace simxen::wire {

enum Op : uint32_t {
  // Requests.
  kHelloEvtchn = 1,    // fds: [eventfd, port-state memfd]     -> Reply{value=handle id}
  kHelloGnttab = 2,    // (mapping side)                       -> Reply
  kHelloGntshr = 3,    // (sharing side)                       -> Reply
  kShare = 4,          // ShareRequest, fds: [memfd]           -> Reply + uint32_t refs[count]
  kUnshare = 5,        // RefList                              -> Reply
  kMap = 6,            // MapRequest + MapEntry[count]         -> MapReply + MapPage[count], fds
  kUnmap = 7,          // UnmapRequest                         -> Reply
  kBindUnbound = 8,    // BindRequest                          -> BindReply
  kBindInterdomain = 9,// BindRequest                          -> BindReply (+ peer fds)
  kUnbind = 10,        // UnbindRequest                        -> Reply{value=old port flags}
  kCounts = 11,        // CountsRequest                        -> CountsReply
  kClose = 12,         // the owner closes its handle          -> Reply
  // Service to client.
  kReply = 100,
  kMoreFds = 101,      // continuation of a MapReply: Header only, fds attached
  kPushPeer = 102,     // PushPeer, fds: [peer eventfd, peer port-state memfd]
  kPushPeerGone = 103, // PushPeerGone
};

struct Header {
  uint32_t op;
  uint32_t size;  // bytes of the whole message, header included
};

struct Reply {
  Header h;
  int32_t error;  // 0 or a positive errno value
  uint32_t pad;
  uint64_t value;
};

// Limits both ends enforce, so no message can exceed a socket buffer.
inline constexpr uint32_t kMaxPagesPerRequest = 4096;  // 16 MiB per share/map call
inline constexpr uint32_t kMaxFdsPerPacket = 250;      // below the kernel's SCM_MAX_FD (253)
inline constexpr size_t kMaxPacket = 64 * 1024;
inline constexpr uint32_t kPageSize = 4096;            // XEN_PAGE_SIZE
// Port-state slots per event-channel handle (the memfd holds one PortWord per slot).
inline constexpr uint32_t kSlotsPerHandle = 1024;

// Notify-on-release, as xengntshr_share_page_notify / xengnttab_map_grant_ref_notify.
enum NotifyFlags : uint32_t { kNotifyClearByte = 1, kNotifyPort = 2 };

struct ShareRequest {
  Header h;
  uint32_t domid;     // domain allowed to map
  uint32_t count;     // pages in the memfd, from offset 0
  uint32_t writable;  // 0: the grantee may only map read-only
  uint32_t notify_flags;
  uint32_t notify_offset;
  uint32_t notify_port;
};

struct RefList {
  Header h;
  uint32_t count;
  uint32_t pad;
  // uint32_t refs[count] follow
};

struct MapRequest {
  Header h;
  uint32_t count;
  uint32_t writable;
  uint32_t notify_flags;
  uint32_t notify_offset;
  uint32_t notify_port;
  uint32_t pad;
  // MapEntry[count] follow
};
struct MapEntry {
  uint32_t domid;  // granting domain
  uint32_t ref;
};
struct MapReply {
  Reply r;         // value = mapping id
  uint32_t fd_count;
  uint32_t pad;
  // MapPage[count] follow; the first kMaxFdsPerPacket fds ride on this packet, the rest on
  // kMoreFds packets right behind it.
};
struct MapPage {
  uint32_t fd_index;  // into the fds received, in order
  uint32_t page;      // page offset inside that memfd
};

struct UnmapRequest {
  Header h;
  uint64_t mapping_id;
};

struct BindRequest {
  Header h;
  uint32_t remote_domid;
  uint32_t remote_port;  // kBindInterdomain only
};

// Where a port's peer end lives: its handle's port-state memfd slot and that handle's
// eventfd (sent as fds). The generation guards against the slot being reused.
struct PeerInfo {
  uint64_t handle_id;
  uint32_t slot;
  uint32_t generation;
};

struct BindReply {
  Reply r;  // value = local port
  uint32_t slot;
  uint32_t generation;
  uint32_t has_peer;  // kBindInterdomain: 1, peer fds attached
  uint32_t pad;
  PeerInfo peer;
};

struct UnbindRequest {
  Header h;
  uint32_t port;
  uint32_t pad;
};

struct PushPeer {
  Header h;
  uint32_t port;  // the receiver's local port that now has a peer
  uint32_t pad;
  PeerInfo peer;
};

struct PushPeerGone {
  Header h;
  uint32_t port;
  uint32_t pad;
};

struct CountsRequest {
  Header h;
  uint32_t domid;
  uint32_t pad;
};
struct CountsReply {
  Reply r;
  uint64_t grants;
  uint64_t mappings;
  uint64_t ports;
  uint64_t clients;
};

}  // namespace simxen::wire
