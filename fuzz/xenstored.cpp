// The software Xen's xenstored, in process: a XenstoreServer on its EventLoop with dom0
// (privileged) and a guest, and the fuzzer's clients on their sockets sending any XenStore
// wire messages — mostly well-formed requests over the vsnd vocabulary (reads, writes,
// directories, permissions, watches, transactions by the ids it handed out, domains
// introduced and released), sometimes any header and bytes (lengths that lie, oversized
// messages, unknown types, missing NULs), on several connections at once, some closed
// midway.
//
// Checked: the service neither crashes nor spins (the loop goes quiet); every message it
// sends is well-formed (a header and at most XENSTORE_PAYLOAD_MAX bytes); on a connection
// whose framing the client kept, replies come in request order with the request's id,
// and events are watch events of two strings; a guest never holds more transactions
// than its quota; and once every client is gone, no domain has connections, watches or
// transactions left.
#include <fuzzer/FuzzedDataProvider.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <filesystem>
#include <memory>
#include <string>

#include "fuzz/fuzz_check.h"
#include "fuzz/run_dir.h"
#include "fuzz/sim_pump.h"
#include "fuzz/store_script.h"
#include "sim/xenstored/wire_format.h"
#include "sim/xenstored/xenstore_server.h"

namespace {

namespace fs = std::filesystem;
fs::path g_run_dir;  // one per fuzzer process (libFuzzer's entry points force a global)

struct Client {
  int fd = -1;
  uint16_t domid = 0;
  std::string received;
  std::deque<uint32_t> expected;        // req_ids of requests not answered yet
  std::vector<uint32_t> transactions;   // ids its TRANSACTION_STARTs returned
  bool framed = true;                   // false once it sent a header that lies
  bool eof = false;
};

int connect_to(const fs::path& socket) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  FUZZ_CHECK(fd >= 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", socket.c_str());
  FUZZ_CHECK(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  return fd;
}

class Harness {
 public:
  explicit Harness(FuzzedDataProvider& input) : in_(input) {
    server_ = std::make_unique<simxen::XenstoreServer>(loop_, g_run_dir);
    server_->add_domain(0);
    server_->add_domain(1);
  }

  void run() {
    open_client(0);
    open_client(1);
    while (in_.remaining_bytes() > 0) {
      int what = in_.ConsumeIntegralInRange<int>(0, 19);
      if (what == 0 && clients_.size() < 6) {
        open_client(in_.ConsumeBool() ? 0 : static_cast<uint16_t>(in_.ConsumeIntegralInRange<int>(1, 3)));
      } else if (what == 1 && !clients_.empty()) {
        close_client(in_.ConsumeIntegralInRange<size_t>(0, clients_.size() - 1));
      } else if (!clients_.empty()) {
        send(clients_[in_.ConsumeIntegralInRange<size_t>(0, clients_.size() - 1)]);
      }
      pump();
    }
    while (!clients_.empty()) close_client(0);
    pump();
    for (uint16_t domid : server_->domains()) {
      simxen::XenstoreCounts counts = server_->counts(domid);
      FUZZ_CHECK(counts.connections == 0 && counts.watches == 0 && counts.transactions == 0);
    }
  }

 private:
  void open_client(uint16_t domid) {
    if (!server_->has_domain(domid)) return;
    Client c;
    c.fd = connect_to(simxen::XenstoreServer::socket_path(g_run_dir, domid));
    c.domid = domid;
    clients_.push_back(std::move(c));
  }

  void close_client(size_t index) {
    ::close(clients_[index].fd);
    clients_.erase(clients_.begin() + static_cast<long>(index));
  }

  std::string payload_for(uint32_t type) {
    using xensnd::fuzz::pick;
    std::string p;
    auto add = [&](const std::string& s) { p += s + '\0'; };
    auto path = [&] {
      return pick(in_, {"/local/domain/1/device/vsnd/0/state", "device/vsnd/0", "device/vsnd/0/0/0/ring-ref", "/",
                        "/local", "/local/domain/1", "/local/domain/0/backend/vsnd/1/0/state", "/tool/xenstored",
                        "@introduceDomain", "@releaseDomain", "@other", "", "a//b", "/trailing/", "data",
                        "device/vsnd/0/0", "/local/domain/2/x"});
    };
    switch (type) {
      case XS_WRITE:
        add(path());
        p += xensnd::fuzz::config_value(in_);  // the value is not NUL-terminated
        break;
      case XS_SET_PERMS:
        add(path());
        for (int n = in_.ConsumeIntegralInRange<int>(0, 3); n > 0; --n)
          add(pick(in_, {"n0", "r1", "w1", "b1", "n1", "r0", "x1", "n", "r65535", "b0"}));
        break;
      case XS_WATCH:
      case XS_UNWATCH:
        add(path());
        add(pick(in_, {"token", "t1", "", "vsnd"}));
        break;
      case XS_INTRODUCE:
        add(pick(in_, {"1", "2", "3", "0", "32752", "x"}));
        add("1234");
        add("5");
        break;
      case XS_RELEASE:
      case XS_IS_DOMAIN_INTRODUCED:
      case XS_RESUME:
      case XS_GET_DOMAIN_PATH:
        add(pick(in_, {"1", "2", "3", "0", "32752", "", "01"}));
        break;
      case XS_TRANSACTION_END:
        add(pick(in_, {"T", "F", "", "X"}));
        break;
      case XS_DIRECTORY_PART:
        add(path());
        add(pick(in_, {"0", "1", "x"}));
        break;
      default:
        add(path());
        break;
    }
    if (in_.ConsumeIntegralInRange<int>(0, 15) == 0) p = in_.ConsumeRandomLengthString(64);
    return p;
  }

  void send(Client& c) {
    static constexpr uint32_t kTypes[] = {XS_READ, XS_WRITE, XS_DIRECTORY, XS_GET_PERMS, XS_WATCH, XS_UNWATCH,
                                          XS_TRANSACTION_START, XS_TRANSACTION_END, XS_MKDIR, XS_RM, XS_SET_PERMS,
                                          XS_INTRODUCE, XS_RELEASE, XS_GET_DOMAIN_PATH, XS_IS_DOMAIN_INTRODUCED,
                                          XS_RESUME, XS_SET_TARGET, XS_DIRECTORY_PART, XS_RESET_WATCHES,
                                          XS_CONTROL, XS_WATCH_EVENT, XS_ERROR};
    xsd_sockmsg header{};
    header.type = in_.ConsumeIntegralInRange<int>(0, 15) == 0
                      ? in_.ConsumeIntegral<uint32_t>()
                      : kTypes[in_.ConsumeIntegralInRange<size_t>(0, std::size(kTypes) - 1)];
    header.req_id = next_req_id_++;
    if (!c.transactions.empty() && in_.ConsumeIntegralInRange<int>(0, 2) == 0)
      header.tx_id = c.transactions[in_.ConsumeIntegralInRange<size_t>(0, c.transactions.size() - 1)];
    else if (in_.ConsumeIntegralInRange<int>(0, 15) == 0)
      header.tx_id = in_.ConsumeIntegral<uint32_t>();
    std::string payload = payload_for(header.type);
    header.len = static_cast<uint32_t>(payload.size());
    if (in_.ConsumeIntegralInRange<int>(0, 31) == 0) {
      header.len = in_.ConsumeBool() ? in_.ConsumeIntegral<uint32_t>() : in_.ConsumeIntegralInRange<uint32_t>(0, 5000);
      if (header.len != payload.size()) c.framed = false;
    }
    std::string bytes(reinterpret_cast<const char*>(&header), sizeof header);
    bytes += payload;
    if (in_.ConsumeIntegralInRange<int>(0, 31) == 0) {  // cut short
      bytes.resize(in_.ConsumeIntegralInRange<size_t>(0, bytes.size()));
      c.framed = false;
    }
    if (c.framed) c.expected.push_back(header.req_id);
    size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = ::send(c.fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
      } else if (n < 0 && errno == EAGAIN) {
        pump();
      } else {
        break;  // the service dropped this client
      }
    }
  }

  void read_from(int fd) {
    for (Client& c : clients_) {
      if (c.fd != fd) continue;
      char buffer[8192];
      for (;;) {
        ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n <= 0) {
          if (n == 0) c.eof = true;
          break;
        }
        c.received.append(buffer, static_cast<size_t>(n));
      }
      parse(c);
    }
  }

  void parse(Client& c) {
    while (c.received.size() >= sizeof(xsd_sockmsg)) {
      xsd_sockmsg h;
      std::memcpy(&h, c.received.data(), sizeof h);
      FUZZ_CHECK(h.len <= XENSTORE_PAYLOAD_MAX);
      if (c.received.size() < sizeof h + h.len) return;
      std::string payload = c.received.substr(sizeof h, h.len);
      c.received.erase(0, sizeof h + h.len);
      if (h.type == XS_WATCH_EVENT && h.req_id == 0) {
        FUZZ_CHECK(simxen::xs::split_strings(payload).size() >= 2);
        continue;
      }
      if (!c.framed) continue;
      FUZZ_CHECK(!c.expected.empty());
      FUZZ_CHECK(h.req_id == c.expected.front());
      c.expected.pop_front();
      if (h.type == XS_TRANSACTION_START && !payload.empty())
        c.transactions.push_back(static_cast<uint32_t>(std::strtoul(payload.c_str(), nullptr, 10)));
    }
  }

  void pump() {
    std::vector<int> fds;
    for (const Client& c : clients_) fds.push_back(c.fd);
    pump_.run(fds, [this](int fd) { read_from(fd); });
    for (uint16_t domid : server_->domains())
      if (domid != 0) FUZZ_CHECK(server_->counts(domid).transactions <= 10 * 6);
  }

  FuzzedDataProvider& in_;
  simxen::EventLoop loop_;
  xensnd::fuzz::LoopPump pump_{loop_};
  std::unique_ptr<simxen::XenstoreServer> server_;
  std::vector<Client> clients_;
  uint32_t next_req_id_ = 1;
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_run_dir = xensnd::fuzz::make_run_dir("xenstored");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  Harness harness(input);
  harness.run();
  return 0;
}
