// The service survives bad clients, and the drop-in libraries are the ones loaded into a
// program linked against Debian's.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
extern "C" {
#include <xenevtchn.h>
#include <xengnttab.h>
}

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "hypervisor_test_support.h"
#include "sim/hypervisor/hypervisor_wire.h"

namespace simxen::test {
namespace {

class RawClient {
 public:
  explicit RawClient(const std::string& socket_path) {
    fd_ = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, socket_path.c_str(), sizeof(address.sun_path) - 1);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~RawClient() { close(fd_); }
  bool connected() const { return connected_; }

  // Sends raw bytes (and descriptors) and returns the Reply's error, or -1 if none came.
  int send(const void* data, size_t size, std::vector<int> fds = {}) {
    iovec iov{const_cast<void*>(data), size};
    msghdr msg{};
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
    if (sendmsg(fd_, &msg, MSG_NOSIGNAL) < 0) return -1;
    wire::CountsReply reply{};
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 20000) != 1) return -1;
    ssize_t n = recv(fd_, &reply, sizeof(reply), 0);
    if (n < static_cast<ssize_t>(sizeof(wire::Reply)) || reply.r.h.op != wire::kReply) return -1;
    last_ = reply;
    return reply.r.error;
  }
  const wire::CountsReply& last() const { return last_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  wire::CountsReply last_{};
};

std::string socket_of(const HypervisorHarness& harness, uint16_t domid) {
  return harness.run_dir() + "/dom" + std::to_string(domid) + "/hypervisor";
}

TEST(HypervisorService, SurvivesMalformedMessages) {
  HypervisorHarness harness;
  RawClient bad(socket_of(harness, 1));
  ASSERT_TRUE(bad.connected());
  char one = 'x';
  EXPECT_EQ(bad.send(&one, 1), EINVAL) << "shorter than a header";
  wire::Header lying{wire::kMap, 4000};
  EXPECT_EQ(bad.send(&lying, sizeof(lying)), EINVAL) << "size field disagrees with the packet";
  wire::Header unknown{9999, sizeof(wire::Header)};
  EXPECT_EQ(bad.send(&unknown, sizeof(unknown)), EINVAL) << "unknown operation";
  wire::Header map_first{wire::kMap, sizeof(wire::Header)};
  EXPECT_EQ(bad.send(&map_first, sizeof(map_first)), EINVAL) << "map before saying which handle this is";
  std::vector<char> huge(wire::kMaxPacket + 4096, 0);
  EXPECT_EQ(bad.send(huge.data(), huge.size()), EMSGSIZE) << "oversized packet";

  // An event-channel hello whose descriptors are not an eventfd and a sealed memfd.
  int pipes[2];
  ASSERT_EQ(pipe(pipes), 0);
  wire::Header hello{wire::kHelloEvtchn, sizeof(wire::Header)};
  EXPECT_EQ(bad.send(&hello, sizeof(hello), {pipes[0], pipes[1]}), EINVAL);
  int efd = eventfd(0, 0);
  int small = memfd_create("too-small", 0);  // unsealed: the client could shrink it
  ASSERT_EQ(ftruncate(small, 8192), 0);
  EXPECT_EQ(bad.send(&hello, sizeof(hello), {efd, small}), EINVAL);
  close(pipes[0]);
  close(pipes[1]);

  // A share of an unsealed memfd, and with counts that do not match the message.
  RawClient sharer(socket_of(harness, 1));
  wire::Header shr{wire::kHelloGntshr, sizeof(wire::Header)};
  ASSERT_EQ(sharer.send(&shr, sizeof(shr)), 0);
  wire::ShareRequest share{{wire::kShare, sizeof(wire::ShareRequest)}, 0, 2, 1, 0, 0, 0};
  EXPECT_EQ(sharer.send(&share, sizeof(share), {small}), EINVAL) << "unsealed memfd";
  share.count = 0;
  EXPECT_EQ(sharer.send(&share, sizeof(share)), EINVAL) << "no memfd";
  wire::RefList unshare{{wire::kUnshare, sizeof(wire::RefList)}, 1000, 0};
  EXPECT_EQ(sharer.send(&unshare, sizeof(unshare)), EINVAL) << "ref count beyond the message";
  close(efd);
  close(small);

  RawClient mapper(socket_of(harness, 0));
  wire::Header tab{wire::kHelloGnttab, sizeof(wire::Header)};
  ASSERT_EQ(mapper.send(&tab, sizeof(tab)), 0);
  wire::MapRequest map{{wire::kMap, sizeof(wire::MapRequest)}, 0xffffffff, 1, 0, 0, 0, 0};
  EXPECT_EQ(mapper.send(&map, sizeof(map)), EINVAL) << "absurd page count";
  wire::UnmapRequest unmap{{wire::kUnmap, sizeof(wire::UnmapRequest)}, 12345};
  EXPECT_EQ(mapper.send(&unmap, sizeof(unmap)), EINVAL) << "unknown mapping";

  // Still serving: the counts of a well-formed request, and real clients work.
  wire::CountsRequest counts{{wire::kCounts, sizeof(wire::CountsRequest)}, 1, 0};
  EXPECT_EQ(bad.send(&counts, sizeof(counts)), 0);
  EXPECT_EQ(bad.last().grants, 0u);
  EXPECT_EQ(bad.last().clients, 1u) << "the sharer handle of this process";
  counts.domid = 4242;
  EXPECT_EQ(bad.send(&counts, sizeof(counts)), ESRCH);

  LinkPair link;
  DomainProcess guest(harness, 1, [&] {
    xengntshr_handle* shr_handle = xengntshr_open(nullptr, 0);
    uint32_t ref;
    require(xengntshr_share_pages(shr_handle, 0, 1, &ref, 1) != nullptr, "share after the abuse");
    xenevtchn_handle* xce = xenevtchn_open(nullptr, 0);
    require(xce && xenevtchn_bind_unbound_port(xce, 0) > 0, "bind after the abuse");
  });
  EXPECT_EQ(guest.wait(), 0);
}

TEST(HypervisorService, ClientsDisconnectingMidRequestAreForgotten) {
  HypervisorHarness harness;
  for (int i = 0; i < 20; ++i) {
    RawClient quitter(socket_of(harness, 1));
    wire::Header hello{wire::kHelloGnttab, sizeof(wire::Header)};
    ASSERT_EQ(quitter.send(&hello, sizeof(hello)), 0);
  }
  EXPECT_EQ(harness.counts(1).clients, 0u);
}

// A map request whose notify is event-only but still names an offset, one page past its
// single page. The drop-in library never sends one (it passes an offset only with the clear
// byte), but any process can speak the wire. The offset means nothing without the clear
// byte: as with gntdev, releasing the mapping sends the event and lets go of the port.
// Found by the hypervisor fuzz target: the service skipped the whole notify, so the port's
// hold was never released and, once its handle was gone, the port stayed bound for ever.
wire::UnmapRequest map_with_event_only_notify(RawClient& tab, uint32_t ref, int port) {
  struct {
    wire::MapRequest request;
    wire::MapEntry entry;
  } map{{{wire::kMap, sizeof(map)}, 1, 0, wire::kNotifyPort, wire::kPageSize, static_cast<uint32_t>(port), 0},
        {1, ref}};
  require(tab.send(&map, sizeof(map)) == 0, "map with an event-only notify and an offset past the page");
  return {{wire::kUnmap, sizeof(wire::UnmapRequest)}, tab.last().r.value};
}

TEST(HypervisorService, EventOnlyUnmapNotifyIgnoresItsOffset) {
  HypervisorHarness harness;
  LinkPair link;
  DomainProcess guest(harness, 1, [&] {
    xengntshr_handle* shr = xengntshr_open(nullptr, 0);
    uint32_t ref;
    require(xengntshr_share_pages(shr, 0, 1, &ref, 1) != nullptr, "share");
    xenevtchn_handle* xce = xenevtchn_open(nullptr, 0);
    int port = xenevtchn_bind_unbound_port(xce, 0);
    link.a.send_all({ref, static_cast<uint32_t>(port)});
    require(eventually_readable(xenevtchn_fd(xce)) && xenevtchn_pending(xce) == port, "event on unmap");
    require(xenevtchn_unmask(xce, static_cast<uint32_t>(port)) == 0, "unmask");
    link.a.send(1);
    require(eventually_readable(xenevtchn_fd(xce)) && xenevtchn_pending(xce) == port, "event on close");
  });
  DomainProcess backend(harness, 0, [&] {
    std::vector<uint32_t> got = link.b.receive_all();
    xenevtchn_handle* xce = xenevtchn_open(nullptr, 0);
    int local = xenevtchn_bind_interdomain(xce, 1, got[1]);
    require(local > 0, "bind");
    {
      RawClient tab(socket_of(harness, 0));
      wire::Header hello{wire::kHelloGnttab, sizeof(wire::Header)};
      require(tab.send(&hello, sizeof(hello)) == 0, "gnttab hello");
      wire::UnmapRequest unmap = map_with_event_only_notify(tab, got[0], local);
      map_with_event_only_notify(tab, got[0], local);
      // Both mappings hold the port now; its handle goes first, as in the fuzzer's input.
      xenevtchn_close(xce);
      require(tab.send(&unmap, sizeof(unmap)) == 0, "unmap");
      require(link.b.receive() == 1, "the guest saw the unmap's event");
    }  // the handle closes with the second mapping
  });
  EXPECT_EQ(backend.wait(), 0);
  EXPECT_EQ(guest.wait(), 0);
  EXPECT_EQ(harness.counts(0), HypervisorCounts{}) << "the port is closed with its last hold";
  EXPECT_EQ(harness.counts(1), HypervisorCounts{});
}

TEST(HypervisorService, RemovingADomainReleasesItAndLeavesPeersUnbound) {
  HypervisorHarness harness;
  LinkPair peers, to_backend, to_guest;
  DomainProcess guest(harness, 1, [&] {
    xenevtchn_handle* xce = xenevtchn_open(nullptr, 0);
    xengntshr_handle* shr = xengntshr_open(nullptr, 0);
    uint32_t ref;
    require(xengntshr_share_pages(shr, 0, 1, &ref, 1) != nullptr, "share");
    peers.a.send_all({static_cast<uint32_t>(xenevtchn_bind_unbound_port(xce, 0)), ref});
    to_guest.b.receive();  // parked until the test ends
  });
  DomainProcess backend(harness, 0, [&] {
    std::vector<uint32_t> got = peers.b.receive_all();
    xenevtchn_handle* xce = xenevtchn_open(nullptr, 0);
    int port = xenevtchn_bind_interdomain(xce, 1, got[0]);
    require(port > 0, "bind");
    to_backend.b.send(1);
    require(to_backend.b.receive() == 1, "domain 1 removed");
    require(xenevtchn_notify(xce, static_cast<uint32_t>(port)) == 0, "notify a destroyed domain's port: 0");
    xengnttab_handle* tab = xengnttab_open(nullptr, 0);
    errno = 0;
    require(xengnttab_map_grant_ref(tab, 1, got[1], PROT_READ) == nullptr && errno == EINVAL,
            "a destroyed domain's grant: EINVAL");
  });
  ASSERT_EQ(to_backend.a.receive(), 1u);
  EXPECT_EQ(harness.counts(1).ports, 1u);
  harness.remove(1);
  EXPECT_EQ(harness.counts(1), HypervisorCounts{});
  EXPECT_FALSE(std::filesystem::exists(socket_of(harness, 1)));
  EXPECT_EQ(harness.counts(0).ports, 1u) << "the backend's end stays, unbound";
  to_backend.a.send(1);
  EXPECT_EQ(backend.wait(), 0);
  to_guest.a.send(1);
  EXPECT_EQ(guest.wait(), 0);
}

TEST(DropInLibraries, AreTheOnesLoaded) {
  // The test binary links Debian's libraries; LD_LIBRARY_PATH must have put ours in place.
  for (void* symbol : {reinterpret_cast<void*>(&xengnttab_open), reinterpret_cast<void*>(&xenevtchn_open)}) {
    Dl_info info{};
    ASSERT_NE(dladdr(symbol, &info), 0);
    EXPECT_NE(std::string(info.dli_fname).find(SIMXEN_LIBDIR), std::string::npos) << info.dli_fname;
  }
}

TEST(DropInLibraries, FailCleanlyWithoutAHypervisor) {
  // A process outside any simulated domain: no XENSTORED_PATH.
  std::string saved = getenv("XENSTORED_PATH") ? getenv("XENSTORED_PATH") : "";
  unsetenv("XENSTORED_PATH");
  errno = 0;
  EXPECT_EQ(xengnttab_open(nullptr, 0), nullptr);
  EXPECT_EQ(errno, ENOENT);
  errno = 0;
  EXPECT_EQ(xenevtchn_open(nullptr, 0), nullptr);
  EXPECT_EQ(errno, ENOENT);
  setenv("XENSTORED_PATH", "/nonexistent/socket", 1);
  errno = 0;
  EXPECT_EQ(xengntshr_open(nullptr, 0), nullptr);
  EXPECT_EQ(errno, ENOENT);
  if (!saved.empty()) setenv("XENSTORED_PATH", saved.c_str(), 1);
  else unsetenv("XENSTORED_PATH");
}

TEST(DropInLibraries, APermissionErrorNamesTheDomainsHypervisorSocket) {
  HypervisorHarness harness;
  const std::string xenstored = harness.xenstored_path(1);
  const std::string socket = xenstored.substr(0, xenstored.rfind('/')) + "/hypervisor";
  // No access to the socket: its mode cleared, and a root test drops to "nobody" (root
  // would pass any permission check).
  ASSERT_EQ(::chmod(socket.c_str(), 0), 0);
  char log_template[] = "/tmp/xensnd-sim-stderr-XXXXXX";
  int log_fd = ::mkstemp(log_template);
  ASSERT_GE(log_fd, 0);
  DomainProcess guest(harness, 1, [&] {
    if (::geteuid() == 0) require(::setgid(65534) == 0 && ::setuid(65534) == 0, "drop to nobody");
    require(::dup2(log_fd, STDERR_FILENO) == STDERR_FILENO, "redirect stderr");
    errno = 0;
    require(xengnttab_open(nullptr, 0) == nullptr && errno == EACCES, "xengnttab_open fails with EACCES");
    errno = 0;
    require(xenevtchn_open(nullptr, 0) == nullptr && errno == EACCES, "xenevtchn_open fails with EACCES");
  });
  const int status = guest.wait();
  ::chmod(socket.c_str(), 0755);
  std::string log(4096, '\0');
  ssize_t got = ::pread(log_fd, log.data(), log.size(), 0);
  ::close(log_fd);
  ::unlink(log_template);
  log.resize(got > 0 ? static_cast<size_t>(got) : 0);
  ASSERT_EQ(status, 0) << log;
  // Each library names the socket at fault, not a device node.
  EXPECT_NE(log.find("xengnttab: cannot connect to " + socket), std::string::npos) << log;
  EXPECT_NE(log.find("xenevtchn: cannot connect to " + socket), std::string::npos) << log;
  EXPECT_NE(log.find("Permission denied"), std::string::npos) << log;
  EXPECT_EQ(log.find("/dev/xen"), std::string::npos) << log;
}

}  // namespace
}  // namespace simxen::test
