// The software Xen's grant-table and event-channel service, in process: a HypervisorService
// on its EventLoop with three domains, and the fuzzer's clients (library handles) on its
// SOCK_SEQPACKET sockets sending any sequence of requests — hellos of each kind, shares with
// sealed memfds (or wrong descriptors), unshares, maps and unmaps of the references and
// mappings it handed out (or others), binds (unbound and interdomain to the ports it handed
// out), unbinds, counts, closes — mostly well-formed, sometimes any bytes, sizes and
// descriptors, with handles closed midway.
//
// Checked: the service neither crashes nor spins (the loop goes quiet); every packet it
// sends is a known message whose size field is the packet's size; each request gets
// exactly one reply, after any pushes; and once every client is gone, no domain has
// grants, mappings, ports or clients left.
#include <fuzzer/FuzzedDataProvider.h>

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "fuzz/run_dir.h"
#include "fuzz/sim_pump.h"
#include "sim/hypervisor/hypervisor_service.h"
#include "sim/hypervisor/hypervisor_wire.h"

namespace {

namespace fs = std::filesystem;
namespace wire = simxen::wire;
fs::path g_run_dir;  // one per fuzzer process (libFuzzer's entry points force a global)

constexpr uint16_t kDomains = 3;

struct Client {
  int fd = -1;
  uint16_t domid = 0;
  uint32_t kind = 0;  // the hello it sent (wire::kHello*), 0 before
  int replies = 0;  // Reply packets received
  uint32_t last_op = 0;
  std::vector<uint32_t> ports;
  std::vector<uint64_t> mappings;
};

int memfd(size_t bytes, bool sealed) {
  int fd = memfd_create("xensnd-fuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  FUZZ_CHECK(fd >= 0);
  FUZZ_CHECK(ftruncate(fd, static_cast<off_t>(bytes)) == 0);
  if (sealed) FUZZ_CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0);
  return fd;
}

class Harness {
 public:
  explicit Harness(FuzzedDataProvider& input) : in_(input) {
    service_ = std::make_unique<simxen::HypervisorService>(loop_, g_run_dir);
    for (uint16_t d = 0; d < kDomains; ++d) service_->add_domain(d);
  }
  ~Harness() {
    for (Client& c : clients_) ::close(c.fd);
  }

  void run() {
    while (in_.remaining_bytes() > 0) {
      int what = in_.ConsumeIntegralInRange<int>(0, 15);
      if ((what == 0 || clients_.empty()) && clients_.size() < 8) {
        open_client(in_.ConsumeIntegralInRange<uint16_t>(0, kDomains - 1));
      } else if (what == 1 && !clients_.empty()) {
        size_t i = in_.ConsumeIntegralInRange<size_t>(0, clients_.size() - 1);
        ::close(clients_[i].fd);
        clients_.erase(clients_.begin() + static_cast<long>(i));
      } else if (!clients_.empty()) {
        request(clients_[in_.ConsumeIntegralInRange<size_t>(0, clients_.size() - 1)]);
      }
      pump();
    }
    for (Client& c : clients_) ::close(c.fd);
    clients_.clear();
    pump();
    for (uint16_t d = 0; d < kDomains; ++d) FUZZ_CHECK(service_->counts(d) == simxen::HypervisorCounts{});
  }

 private:
  void open_client(uint16_t domid) {
    int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    FUZZ_CHECK(fd >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s/dom%u/hypervisor", g_run_dir.c_str(), domid);
    FUZZ_CHECK(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    Client c;
    c.fd = fd;
    c.domid = domid;
    clients_.push_back(std::move(c));
    // Mostly a library handle that says hello at once, as the drop-in libraries do.
    if (in_.ConsumeIntegralInRange<int>(0, 7) != 0) {
      static constexpr uint32_t kHellos[] = {wire::kHelloEvtchn, wire::kHelloGnttab, wire::kHelloGntshr};
      request(clients_.back(), kHellos[in_.ConsumeIntegralInRange<size_t>(0, 2)]);
    }
  }

  // An operation that suits the handle's kind, mostly.
  uint32_t pick_op(const Client& c) {
    static constexpr uint32_t kOps[] = {wire::kHelloEvtchn, wire::kHelloGnttab, wire::kHelloGntshr, wire::kShare,
                                        wire::kUnshare,     wire::kMap,         wire::kUnmap,       wire::kBindUnbound,
                                        wire::kBindInterdomain, wire::kUnbind,  wire::kCounts,      wire::kClose,
                                        wire::kReply};
    if (in_.ConsumeIntegralInRange<int>(0, 15) == 0) return in_.ConsumeIntegral<uint32_t>();
    if (in_.ConsumeIntegralInRange<int>(0, 3) == 0 || c.kind == 0)
      return kOps[in_.ConsumeIntegralInRange<size_t>(0, std::size(kOps) - 1)];
    static constexpr uint32_t kShr[] = {wire::kShare, wire::kShare, wire::kUnshare, wire::kCounts, wire::kClose};
    static constexpr uint32_t kTab[] = {wire::kMap, wire::kMap, wire::kUnmap, wire::kCounts, wire::kClose};
    static constexpr uint32_t kEvt[] = {wire::kBindUnbound, wire::kBindInterdomain, wire::kBindInterdomain,
                                        wire::kUnbind, wire::kCounts, wire::kClose};
    if (c.kind == wire::kHelloGntshr) return kShr[in_.ConsumeIntegralInRange<size_t>(0, std::size(kShr) - 1)];
    if (c.kind == wire::kHelloGnttab) return kTab[in_.ConsumeIntegralInRange<size_t>(0, std::size(kTab) - 1)];
    return kEvt[in_.ConsumeIntegralInRange<size_t>(0, std::size(kEvt) - 1)];
  }

  // A grant: (granting domain, reference), mostly one that was handed out.
  std::pair<uint32_t, uint32_t> pick_grant() {
    if (!refs_.empty() && in_.ConsumeIntegralInRange<int>(0, 3) != 0)
      return refs_[in_.ConsumeIntegralInRange<size_t>(0, refs_.size() - 1)];
    return {pick_domid(), in_.ConsumeIntegralInRange<uint32_t>(0, 40)};
  }
  uint32_t pick_ref() { return pick_grant().second; }
  // An interdomain peer: (domain, port), mostly a port another handle bound.
  std::pair<uint32_t, uint32_t> pick_peer(const Client& c) {
    std::vector<std::pair<uint32_t, uint32_t>> all;
    for (const Client& o : clients_)
      for (uint32_t port : o.ports) all.push_back({o.domid, port});
    if (!all.empty() && in_.ConsumeIntegralInRange<int>(0, 3) != 0)
      return all[in_.ConsumeIntegralInRange<size_t>(0, all.size() - 1)];
    return {pick_domid(), pick_port(c)};
  }
  uint32_t pick_port(const Client& c) {
    std::vector<uint32_t> all;
    for (const Client& o : clients_)
      if (&o == &c || in_.ConsumeBool()) all.insert(all.end(), o.ports.begin(), o.ports.end());
    if (!all.empty() && in_.ConsumeIntegralInRange<int>(0, 3) != 0)
      return all[in_.ConsumeIntegralInRange<size_t>(0, all.size() - 1)];
    return in_.ConsumeIntegralInRange<uint32_t>(0, 10);
  }
  uint32_t pick_domid() {
    return in_.ConsumeIntegralInRange<int>(0, 7) == 0 ? in_.ConsumeIntegral<uint32_t>()
                                                      : in_.ConsumeIntegralInRange<uint32_t>(0, kDomains - 1);
  }

  template <typename T>
  void append(std::vector<std::byte>& bytes, const T& value) {
    auto* p = reinterpret_cast<const std::byte*>(&value);
    bytes.insert(bytes.end(), p, p + sizeof value);
  }

  void request(Client& c, uint32_t op = 0) {
    std::vector<std::byte> bytes;
    std::vector<int> fds;
    if (op == 0) op = pick_op(c);
    if ((op == wire::kHelloEvtchn || op == wire::kHelloGnttab || op == wire::kHelloGntshr) && c.kind == 0) c.kind = op;
    wire::Header h{op, 0};
    switch (op) {
      case wire::kHelloEvtchn:
        append(bytes, h);
        fds.push_back(in_.ConsumeIntegralInRange<int>(0, 7) ? eventfd(0, EFD_CLOEXEC) : memfd(64, true));
        fds.push_back(memfd(in_.ConsumeIntegralInRange<int>(0, 7) ? wire::kSlotsPerHandle * 8 : 100, in_.ConsumeIntegralInRange<int>(0, 7) != 0));
        break;
      case wire::kShare: {
        wire::ShareRequest r{h, pick_domid(), in_.ConsumeIntegralInRange<uint32_t>(0, 6), in_.ConsumeIntegralInRange<uint32_t>(0, 3) != 0, 0, 0, 0};
        if (in_.ConsumeIntegralInRange<int>(0, 3) == 0) {
          r.notify_flags = in_.ConsumeIntegralInRange<uint32_t>(0, 4);
          r.notify_offset = in_.ConsumeIntegralInRange<uint32_t>(0, 5000);
          r.notify_port = pick_port(c);
        }
        append(bytes, r);
        uint32_t pages = in_.ConsumeIntegralInRange<int>(0, 7) != 0 ? r.count : in_.ConsumeIntegralInRange<uint32_t>(0, 6);
        if (in_.ConsumeIntegralInRange<int>(0, 7) != 0) fds.push_back(memfd(4096u * pages, in_.ConsumeIntegralInRange<int>(0, 7) != 0));
        break;
      }
      case wire::kUnshare: {
        uint32_t count = in_.ConsumeIntegralInRange<uint32_t>(0, 4);
        append(bytes, wire::RefList{h, count, 0});
        for (uint32_t i = 0; i < count; ++i) append(bytes, pick_ref());
        break;
      }
      case wire::kMap: {
        uint32_t count = in_.ConsumeIntegralInRange<uint32_t>(0, 4);
        wire::MapRequest r{h, count, in_.ConsumeBool(), 0, 0, 0, 0};
        if (in_.ConsumeIntegralInRange<int>(0, 3) == 0) {
          r.notify_flags = in_.ConsumeIntegralInRange<uint32_t>(0, 4);
          r.notify_offset = in_.ConsumeIntegralInRange<uint32_t>(0, 5000);
          r.notify_port = pick_port(c);
        }
        append(bytes, r);
        for (uint32_t i = 0; i < count; ++i) {
          auto [domid, ref] = pick_grant();
          append(bytes, wire::MapEntry{domid, ref});
        }
        break;
      }
      case wire::kUnmap: {
        uint64_t id = !c.mappings.empty() && in_.ConsumeBool()
                          ? c.mappings[in_.ConsumeIntegralInRange<size_t>(0, c.mappings.size() - 1)]
                          : in_.ConsumeIntegralInRange<uint64_t>(0, 8);
        append(bytes, wire::UnmapRequest{h, id});
        break;
      }
      case wire::kBindUnbound:
        append(bytes, wire::BindRequest{h, pick_domid(), 0});
        break;
      case wire::kBindInterdomain: {
        auto [domid, port] = pick_peer(c);
        append(bytes, wire::BindRequest{h, domid, port});
        break;
      }
      case wire::kUnbind:
        append(bytes, wire::UnbindRequest{h, pick_port(c), 0});
        break;
      case wire::kCounts:
        append(bytes, wire::CountsRequest{h, pick_domid(), 0});
        break;
      default:
        append(bytes, h);
        break;
    }
    if (in_.ConsumeIntegralInRange<int>(0, 15) == 0) {  // any bytes
      std::vector<uint8_t> junk = in_.ConsumeBytes<uint8_t>(in_.ConsumeIntegralInRange<size_t>(0, 80));
      bytes.resize(std::min(bytes.size(), in_.ConsumeIntegralInRange<size_t>(0, bytes.size())));
      for (uint8_t b : junk) bytes.push_back(static_cast<std::byte>(b));
    }
    wire::Header fixed{};
    if (bytes.size() >= sizeof fixed) {
      std::memcpy(&fixed, bytes.data(), sizeof fixed);
      fixed.size = in_.ConsumeIntegralInRange<int>(0, 31) == 0 ? in_.ConsumeIntegral<uint32_t>()
                                                               : static_cast<uint32_t>(bytes.size());
      std::memcpy(bytes.data(), &fixed, sizeof fixed);
    }
    send(c, bytes, fds);
    for (int fd : fds) ::close(fd);
  }

  void send(Client& c, const std::vector<std::byte>& bytes, const std::vector<int>& fds) {
    msghdr msg{};
    iovec iov{const_cast<std::byte*>(bytes.data()), bytes.size()};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)] = {};
    if (!fds.empty()) {
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
      cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
    }
    int replies_before = c.replies;
    int fd = c.fd;
    if (::sendmsg(fd, &msg, MSG_NOSIGNAL) < 0) return;  // the service dropped this handle
    pump();
    // Exactly one reply (unless the service dropped the handle, e.g. after kClose).
    for (Client& now : clients_)
      if (now.fd == fd) FUZZ_CHECK(now.replies - replies_before <= 1);
  }

  void read_from(int fd) {
    Client* c = nullptr;
    for (Client& each : clients_)
      if (each.fd == fd) c = &each;
    if (!c) return;
    for (;;) {
      // The buffers are members: 64 KiB on the stack had ASan (un)poison its redzones on
      // every call, once per client per pass of the loop (a tenth of the target's time).
      std::byte* buffer = receive_buffer_.data();
      iovec iov{buffer, receive_buffer_.size()};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = receive_control_.data();
      msg.msg_controllen = receive_control_.size();
      ssize_t n = ::recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
      if (n <= 0) return;
      for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
          int received;
          std::memcpy(&received, CMSG_DATA(cmsg) + i * sizeof(int), sizeof received);
          ::close(received);
        }
      }
      FUZZ_CHECK(static_cast<size_t>(n) >= sizeof(wire::Header));
      wire::Header h;
      std::memcpy(&h, buffer, sizeof h);
      FUZZ_CHECK(h.size == static_cast<uint32_t>(n));
      FUZZ_CHECK(h.op == wire::kReply || h.op == wire::kMoreFds || h.op == wire::kPushPeer ||
                 h.op == wire::kPushPeerGone);
      if (h.op != wire::kReply) continue;
      ++c->replies;
      wire::Reply r;
      FUZZ_CHECK(static_cast<size_t>(n) >= sizeof r);
      std::memcpy(&r, buffer, sizeof r);
      if (r.error != 0) continue;
      // Remember what was handed out, for later requests to use.
      if (static_cast<size_t>(n) == sizeof(wire::BindReply)) c->ports.push_back(static_cast<uint32_t>(r.value));
      if (static_cast<size_t>(n) > sizeof(wire::MapReply) && (n - sizeof(wire::MapReply)) % sizeof(wire::MapPage) == 0)
        c->mappings.push_back(r.value);
      if (static_cast<size_t>(n) > sizeof r && (n - sizeof r) % sizeof(uint32_t) == 0 &&
          static_cast<size_t>(n) != sizeof(wire::BindReply) && static_cast<size_t>(n) != sizeof(wire::CountsReply)) {
        for (size_t at = sizeof r; at + sizeof(uint32_t) <= static_cast<size_t>(n) && refs_.size() < 64; at += sizeof(uint32_t)) {
          uint32_t ref;
          std::memcpy(&ref, buffer + at, sizeof ref);
          refs_.push_back({c->domid, ref});
        }
      }
    }
  }

  void pump() {
    std::vector<int> fds;
    for (const Client& c : clients_) fds.push_back(c.fd);
    pump_.run(fds, [this](int fd) { read_from(fd); });
  }

  FuzzedDataProvider& in_;
  simxen::EventLoop loop_;
  xensnd::fuzz::LoopPump pump_{loop_};
  std::unique_ptr<simxen::HypervisorService> service_;
  std::vector<Client> clients_;
  std::vector<std::pair<uint32_t, uint32_t>> refs_;  // (granting domain, reference) handed out
  std::vector<std::byte> receive_buffer_ = std::vector<std::byte>(wire::kMaxPacket);
  // cmsghdr-aligned: operator new aligns to at least alignof(max_align_t).
  std::vector<char> receive_control_ = std::vector<char>(CMSG_SPACE(sizeof(int) * 253));
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_run_dir = xensnd::fuzz::make_run_dir("hypervisor");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  Harness harness(input);
  harness.run();
  return 0;
}
