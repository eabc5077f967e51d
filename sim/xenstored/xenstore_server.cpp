#include "sim/xenstored/xenstore_server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <map>
#include <new>
#include <stdexcept>
#include <system_error>

#include "sim/xenstored/node_store.h"
#include "sim/xenstored/store_path.h"
#include "sim/xenstored/wire_format.h"

namespace simxen {

namespace fs = std::filesystem;
using xs::Request;

namespace {

// xenstored's per-domain quotas that a guest can hit with ordinary use.
constexpr size_t kGuestWatchLimit = 128;
constexpr size_t kGuestTransactionLimit = 10;
// A guest gets one ring to xenstored on Xen; here every process of it connects to its
// socket. Beyond this many at once the next is refused (closed at once), so that one guest
// cannot take every descriptor the daemon has from the others.
constexpr size_t kGuestConnectionLimit = 128;
// A client that stops reading while events pile up is cut off rather than eat memory.
constexpr size_t kOutputLimit = 16 * 1024 * 1024;

struct Watch {
  std::string path;             // absolute, or a special "@..." name
  std::string token;
  std::string relative_prefix;  // "/local/domain/<id>" when registered with a relative path
};

struct Transaction {
  explicit Transaction(const xs::NodeStore& main) : store(main, &log) {}
  xs::AccessLog log;    // before the store, which records into it
  xs::NodeStore store;  // an overlay of the main store: only what the transaction touched
  std::vector<xs::ChangeEvent> events;  // fired only if the commit succeeds
};

struct Connection {
  int fd = -1;
  uint16_t domid = 0;
  bool privileged = false;
  bool dead = false;            // to be closed once the current callback is done
  std::string input;            // bytes received, not yet a complete message
  std::string output;           // bytes queued, from output_sent on
  size_t output_sent = 0;
  std::vector<Watch> watches;
  std::map<uint32_t, std::unique_ptr<Transaction>> transactions;
  xs::Caller caller() const { return {domid, privileged}; }
};

struct Domain {
  int listen_fd = -1;
  fs::path socket;
  uint64_t requests = 0;  // served since the domain was introduced, for benchmarks
};

std::optional<uint32_t> parse_domid(std::string_view text) {
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value >= 0x7ff0)
    return std::nullopt;
  return value;
}

std::string with_nul(std::string_view text) { return std::string(text) + '\0'; }

}  // namespace

struct XenstoreServer::Impl {
  Impl(EventLoop& l, fs::path dir, DomainHooks h) : loop(l), run_dir(std::move(dir)), hooks(std::move(h)) {
    reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  ~Impl() {
    if (reserve_fd >= 0) ::close(reserve_fd);
  }

  EventLoop& loop;
  fs::path run_dir;
  DomainHooks hooks;
  xs::NodeStore store;
  std::map<uint16_t, Domain> domains;
  std::map<int, std::unique_ptr<Connection>> connections;
  uint32_t next_transaction_id = 1;
  // A descriptor kept in reserve: when accept fails for want of descriptors, it is freed to
  // take the pending client and close it (else the listening socket stays readable and the
  // loop spins). Listeners that could not even do that wait here until a connection closes.
  int reserve_fd = -1;
  std::map<int, uint16_t> paused_listeners;  // listen fd -> domid
  uint64_t refused_clients = 0;

  void add_domain(uint16_t domid);
  void remove_domain(uint16_t domid);
  void accept_on(int listen_fd, uint16_t domid);
  bool refuse_for_want_of_descriptors(int listen_fd, uint16_t domid);
  void resume_listeners();
  size_t connections_of(uint16_t domid) const;
  void on_readable(int fd);
  void on_writable(int fd);
  void close_connection(int fd);
  void reap();
  void queue(Connection& conn, std::string bytes);
  void flush(Connection& conn);

  void handle(Connection& conn, const Request& request);
  void handle_node_request(Connection& conn, const Request& request, Transaction* txn);
  void handle_watch(Connection& conn, const Request& request);
  void handle_unwatch(Connection& conn, const Request& request);
  void handle_transaction_start(Connection& conn, const Request& request, Transaction* txn);
  void handle_transaction_end(Connection& conn, const Request& request, Transaction* txn);
  void handle_domain_request(Connection& conn, const Request& request);

  void reply(Connection& conn, const Request& request, std::string_view payload) {
    queue(conn, xs::encode_message(request.header.type, request.header.req_id, request.header.tx_id, payload));
  }
  void reply_ok(Connection& conn, const Request& request) { reply(conn, request, std::string_view("OK", 3)); }
  void reply_error(Connection& conn, const Request& request, int error) {
    queue(conn, xs::encode_message(XS_ERROR, request.header.req_id, request.header.tx_id,
                                   with_nul(xs::error_name(error))));
  }
  void fire(const std::vector<xs::ChangeEvent>& events);
  void fire_special(const std::string& name);
  void send_event(Connection& conn, const Watch& watch, const std::string& path);
};

// ---- domains and sockets ----------------------------------------------------------------

fs::path XenstoreServer::socket_path(const fs::path& run_dir, uint16_t domid) {
  return run_dir / ("dom" + std::to_string(domid)) / "xenstored";
}

void XenstoreServer::Impl::add_domain(uint16_t domid) {
  if (domains.count(domid)) return;
  fs::path path = socket_path(run_dir, domid);
  fs::create_directories(path.parent_path());
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.native().size() >= sizeof address.sun_path)
    throw std::runtime_error("socket path too long for a unix socket: " + path.native());
  std::strcpy(address.sun_path, path.c_str());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
  ::unlink(path.c_str());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0 || ::listen(fd, 64) < 0) {
    int error = errno;
    ::close(fd);
    throw std::system_error(error, std::generic_category(), "bind/listen " + path.native());
  }
  domains[domid] = Domain{fd, path};
  loop.add(fd, [this, fd, domid] { accept_on(fd, domid); });
}

void XenstoreServer::Impl::remove_domain(uint16_t domid) {
  auto it = domains.find(domid);
  if (it == domains.end()) return;
  std::vector<int> doomed;
  for (const auto& [fd, conn] : connections)
    if (conn->domid == domid) doomed.push_back(fd);
  for (int fd : doomed) close_connection(fd);
  paused_listeners.erase(it->second.listen_fd);
  loop.remove(it->second.listen_fd);
  ::close(it->second.listen_fd);
  ::unlink(it->second.socket.c_str());
  std::error_code ignored;
  fs::remove(it->second.socket.parent_path(), ignored);  // only if nothing else lives there
  domains.erase(it);
}

void XenstoreServer::Impl::accept_on(int listen_fd, uint16_t domid) {
  for (;;) {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        if (refuse_for_want_of_descriptors(listen_fd, domid)) continue;
      }
      return;  // EAGAIN (spurious wake-up or drained), a client gone already, or paused
    }
    if (domid != 0 && connections_of(domid) >= kGuestConnectionLimit) {
      if (refused_clients++ % 1000 == 0)
        std::fprintf(stderr, "xensnd-simxen: refused a dom%u client: it has %zu connections open, the limit\n",
                     static_cast<unsigned>(domid), kGuestConnectionLimit);
      ::close(fd);
      continue;
    }
    auto conn = std::make_unique<Connection>();
    conn->fd = fd;
    conn->domid = domid;
    conn->privileged = domid == 0;
    connections[fd] = std::move(conn);
    loop.add(fd, [this, fd] { on_readable(fd); });
  }
}

bool XenstoreServer::Impl::refuse_for_want_of_descriptors(int listen_fd, uint16_t domid) {
  const int cause = errno;
  if (reserve_fd >= 0) {
    // accept reports EMFILE before it looks for a client: with a descriptor free, either
    // one is waiting (refused: it sees its connection closed) or none is (EAGAIN).
    ::close(reserve_fd);
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    const int error = errno;
    if (fd >= 0) ::close(fd);
    reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      if (refused_clients++ % 1000 == 0)
        std::fprintf(stderr, "xensnd-simxen: refused a dom%u client: out of file descriptors (%s)\n",
                     static_cast<unsigned>(domid), std::strerror(cause));
      return true;
    }
    if (error == EAGAIN || error == EWOULDBLOCK) return false;  // nobody waiting
  }
  // Not even that: stop watching this socket (its clients wait in the backlog) until a
  // connection closes and gives a descriptor back.
  std::fprintf(stderr, "xensnd-simxen: dom%u clients wait: out of file descriptors (%s)\n",
               static_cast<unsigned>(domid), std::strerror(cause));
  loop.remove(listen_fd);
  paused_listeners[listen_fd] = domid;
  return false;
}

void XenstoreServer::Impl::resume_listeners() {
  std::map<int, uint16_t> paused;
  paused.swap(paused_listeners);
  for (const auto& [listen_fd, domid] : paused) {
    const int fd = listen_fd;
    const uint16_t id = domid;
    loop.add(fd, [this, fd, id] { accept_on(fd, id); });
  }
  if (reserve_fd < 0) reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

size_t XenstoreServer::Impl::connections_of(uint16_t domid) const {
  size_t count = 0;
  for (const auto& [fd, conn] : connections) count += conn->domid == domid;
  return count;
}

void XenstoreServer::Impl::close_connection(int fd) {
  auto it = connections.find(fd);
  if (it == connections.end()) return;
  loop.remove(fd);
  ::close(fd);
  connections.erase(it);
  if (!paused_listeners.empty() || reserve_fd < 0) resume_listeners();
}

void XenstoreServer::Impl::reap() {
  std::vector<int> doomed;
  for (const auto& [fd, conn] : connections)
    if (conn->dead) doomed.push_back(fd);
  for (int fd : doomed) close_connection(fd);
}

// ---- connection I/O ---------------------------------------------------------------------

void XenstoreServer::Impl::on_readable(int fd) {
  auto it = connections.find(fd);
  if (it == connections.end()) return;
  Connection& conn = *it->second;
  char buffer[65536];
  // Bounded per wake-up so that one chatty client cannot starve the others.
  for (int round = 0; round < 16 && !conn.dead; ++round) {
    ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got > 0) {
      conn.input.append(buffer, static_cast<size_t>(got));
      if (static_cast<size_t>(got) < sizeof buffer) break;
      continue;
    }
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) break;
    conn.dead = true;  // end of file or a socket error
  }
  size_t consumed = 0;
  while (!conn.dead && conn.input.size() - consumed >= sizeof(xsd_sockmsg)) {
    Request request;
    std::memcpy(&request.header, conn.input.data() + consumed, sizeof request.header);
    if (request.header.len > XENSTORE_PAYLOAD_MAX) {
      // xenstored drops a client that announces an oversized message: it cannot resync.
      std::fprintf(stderr, "xensnd-simxen: dropped a dom%u client announcing a %u-byte message\n",
                   static_cast<unsigned>(conn.domid), request.header.len);
      conn.dead = true;
      break;
    }
    if (conn.input.size() - consumed < sizeof request.header + request.header.len) break;
    request.payload.assign(conn.input, consumed + sizeof request.header, request.header.len);
    consumed += sizeof request.header + request.header.len;
    if (auto domain = domains.find(conn.domid); domain != domains.end()) ++domain->second.requests;
    try {
      handle(conn, request);
    } catch (const std::bad_alloc&) {
      reply_error(conn, request, ENOMEM);
    }
  }
  conn.input.erase(0, consumed);
  reap();
}

void XenstoreServer::Impl::queue(Connection& conn, std::string bytes) {
  if (conn.dead) return;
  if (conn.output.size() - conn.output_sent + bytes.size() > kOutputLimit) {
    std::fprintf(stderr, "xensnd-simxen: dropped a dom%u client that stopped reading its replies\n",
                 static_cast<unsigned>(conn.domid));
    conn.dead = true;
    return;
  }
  conn.output.append(bytes);
  flush(conn);
}

void XenstoreServer::Impl::flush(Connection& conn) {
  while (conn.output_sent < conn.output.size()) {
    ssize_t sent = ::send(conn.fd, conn.output.data() + conn.output_sent,
                          conn.output.size() - conn.output_sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      conn.dead = true;
      return;
    }
    conn.output_sent += static_cast<size_t>(sent);
  }
  if (conn.output_sent == conn.output.size()) {
    conn.output.clear();
    conn.output_sent = 0;
    loop.set_writable(conn.fd, nullptr);
  } else {
    int fd = conn.fd;
    loop.set_writable(fd, [this, fd] { on_writable(fd); });
  }
}

void XenstoreServer::Impl::on_writable(int fd) {
  auto it = connections.find(fd);
  if (it == connections.end()) return;
  flush(*it->second);
  reap();
}

// ---- requests ---------------------------------------------------------------------------

void XenstoreServer::Impl::handle(Connection& conn, const Request& request) {
  const uint32_t type = request.header.type;
  switch (type) {
    case XS_WATCH: return handle_watch(conn, request);
    case XS_UNWATCH: return handle_unwatch(conn, request);
    case XS_INTRODUCE:
    case XS_RELEASE:
    case XS_IS_DOMAIN_INTRODUCED:
    case XS_RESUME:
    case XS_SET_TARGET:
    case XS_CONTROL:
      if (!conn.privileged) return reply_error(conn, request, EACCES);
      return handle_domain_request(conn, request);
    case XS_GET_DOMAIN_PATH: {
      auto arg = xs::single_argument(request.payload);
      auto domid = arg ? parse_domid(*arg) : std::nullopt;
      if (!domid) return reply_error(conn, request, EINVAL);
      return reply(conn, request, with_nul(xs::domain_path(*domid)));
    }
    case XS_RESET_WATCHES:
      conn.watches.clear();
      conn.transactions.clear();
      return reply_ok(conn, request);
    case XS_READ:
    case XS_DIRECTORY:
    case XS_DIRECTORY_PART:
    case XS_GET_PERMS:
    case XS_WRITE:
    case XS_MKDIR:
    case XS_RM:
    case XS_SET_PERMS:
    case XS_TRANSACTION_START:
    case XS_TRANSACTION_END: {
      Transaction* txn = nullptr;
      if (request.header.tx_id != 0) {
        auto it = conn.transactions.find(request.header.tx_id);
        if (it == conn.transactions.end()) return reply_error(conn, request, ENOENT);
        txn = it->second.get();
      }
      if (type == XS_TRANSACTION_START) return handle_transaction_start(conn, request, txn);
      if (type == XS_TRANSACTION_END) return handle_transaction_end(conn, request, txn);
      return handle_node_request(conn, request, txn);
    }
    default:
      return reply_error(conn, request, ENOSYS);  // as xenstored answers unknown operations
  }
}

void XenstoreServer::Impl::handle_node_request(Connection& conn, const Request& request,
                                               Transaction* txn) {
  const uint32_t type = request.header.type;
  auto strings = xs::split_strings(request.payload);
  std::string_view name;
  if (type == XS_WRITE || type == XS_SET_PERMS || type == XS_DIRECTORY_PART) {
    if (strings.empty()) return reply_error(conn, request, EINVAL);
    name = strings[0];
  } else {
    auto arg = xs::single_argument(request.payload);
    if (!arg) return reply_error(conn, request, EINVAL);
    name = *arg;
  }
  auto path = xs::canonicalize(name, conn.domid);
  bool special = path && path->front() == '@';
  if (!path || (special && type != XS_SET_PERMS)) return reply_error(conn, request, EINVAL);

  xs::NodeStore& store_in_use = txn ? txn->store : store;
  std::vector<xs::ChangeEvent> events;
  int error = 0;
  std::string payload;
  switch (type) {
    case XS_READ:
      error = store_in_use.read(*path, conn.caller(), &payload);
      break;
    case XS_DIRECTORY:
    case XS_DIRECTORY_PART: {
      std::vector<std::string> children;
      uint64_t generation = 0;
      error = store_in_use.directory(*path, conn.caller(), &children, &generation);
      if (error) break;
      std::string listing;
      for (const auto& child : children) listing += with_nul(child);
      if (type == XS_DIRECTORY) {
        payload = std::move(listing);
        break;
      }
      // DIRECTORY_PART: "<generation>\0" then the children from the byte offset asked for,
      // an empty string marking the end.
      if (strings.size() != 2) { error = EINVAL; break; }
      size_t offset = 0;
      std::from_chars(strings[1].data(), strings[1].data() + strings[1].size(), offset);
      payload = with_nul(std::to_string(generation));
      size_t room = XENSTORE_PAYLOAD_MAX - payload.size() - 1;
      if (offset >= listing.size()) { payload += '\0'; break; }
      std::string_view rest = std::string_view(listing).substr(offset);
      size_t take = 0;
      while (take < rest.size()) {
        size_t end = rest.find('\0', take) + 1;
        if (end > room) break;
        take = end;
      }
      payload.append(rest.substr(0, take));
      if (take == rest.size()) payload += '\0';
      break;
    }
    case XS_GET_PERMS: {
      xs::PermList perms;
      error = store_in_use.get_perms(*path, conn.caller(), &perms);
      for (const auto& entry : perms) payload += with_nul(xs::format_perm(entry));
      break;
    }
    case XS_WRITE: {
      size_t value_start = strings[0].size() + 1;
      error = store_in_use.write(*path, request.payload.substr(value_start), conn.caller(), &events);
      break;
    }
    case XS_MKDIR:
      error = store_in_use.mkdir(*path, conn.caller(), &events);
      break;
    case XS_RM:
      error = store_in_use.remove(*path, conn.caller(), &events);
      break;
    case XS_SET_PERMS: {
      if (strings.size() < 2) { error = EINVAL; break; }
      xs::PermList perms;
      for (size_t i = 1; i < strings.size(); ++i) {
        auto entry = xs::parse_perm(strings[i]);
        if (!entry) { error = EINVAL; break; }
        perms.push_back(*entry);
      }
      if (error) break;
      if (special) {  // permissions of @introduceDomain etc.: only the privileged may
        error = conn.privileged ? 0 : EACCES;
        break;
      }
      error = store_in_use.set_perms(*path, std::move(perms), conn.caller(), &events);
      break;
    }
  }
  if (error) return reply_error(conn, request, error);
  if (payload.size() > XENSTORE_PAYLOAD_MAX) return reply_error(conn, request, E2BIG);
  if (txn)
    txn->events.insert(txn->events.end(), events.begin(), events.end());
  else
    fire(events);
  if (type == XS_READ || type == XS_DIRECTORY || type == XS_DIRECTORY_PART || type == XS_GET_PERMS)
    reply(conn, request, payload);
  else
    reply_ok(conn, request);
}

void XenstoreServer::Impl::handle_watch(Connection& conn, const Request& request) {
  auto strings = xs::split_strings(request.payload);
  if (strings.size() != 2) return reply_error(conn, request, EINVAL);
  auto path = xs::canonicalize(strings[0], conn.domid);
  if (!path) return reply_error(conn, request, EINVAL);
  Watch watch{*path, std::string(strings[1]), {}};
  if (path->front() != '@' && strings[0].substr(0, 1) != "/") watch.relative_prefix = xs::domain_path(conn.domid);
  for (const auto& existing : conn.watches)
    if (existing.path == watch.path && existing.token == watch.token) return reply_error(conn, request, EEXIST);
  if (!conn.privileged && conn.watches.size() >= kGuestWatchLimit) return reply_error(conn, request, E2BIG);
  conn.watches.push_back(watch);
  reply_ok(conn, request);
  // xenstored fires every new watch once, whether or not the node exists.
  send_event(conn, watch, watch.path);
}

void XenstoreServer::Impl::handle_unwatch(Connection& conn, const Request& request) {
  auto strings = xs::split_strings(request.payload);
  if (strings.size() != 2) return reply_error(conn, request, EINVAL);
  auto path = xs::canonicalize(strings[0], conn.domid);
  if (!path) return reply_error(conn, request, EINVAL);
  for (auto it = conn.watches.begin(); it != conn.watches.end(); ++it) {
    if (it->path == *path && it->token == strings[1]) {
      conn.watches.erase(it);
      return reply_ok(conn, request);
    }
  }
  reply_error(conn, request, ENOENT);
}

void XenstoreServer::Impl::handle_transaction_start(Connection& conn, const Request& request,
                                                    Transaction* txn) {
  if (txn) return reply_error(conn, request, EBUSY);
  if (!conn.privileged && conn.transactions.size() >= kGuestTransactionLimit)
    return reply_error(conn, request, ENOSPC);
  uint32_t id = next_transaction_id++;
  if (next_transaction_id == 0) next_transaction_id = 1;  // 0 means "no transaction"
  conn.transactions[id] = std::make_unique<Transaction>(store);
  reply(conn, request, with_nul(std::to_string(id)));
}

void XenstoreServer::Impl::handle_transaction_end(Connection& conn, const Request& request,
                                                  Transaction* txn) {
  auto arg = xs::single_argument(request.payload);
  if (!arg || (*arg != "T" && *arg != "F")) return reply_error(conn, request, EINVAL);
  if (!txn) return reply_error(conn, request, ENOENT);
  auto owned = std::move(conn.transactions[request.header.tx_id]);
  conn.transactions.erase(request.header.tx_id);
  if (*arg == "T") {
    if (int error = store.commit(owned->store, owned->log)) return reply_error(conn, request, error);
    fire(owned->events);
  }
  reply_ok(conn, request);
}

void XenstoreServer::Impl::handle_domain_request(Connection& conn, const Request& request) {
  auto strings = xs::split_strings(request.payload);
  const uint32_t type = request.header.type;
  if (type == XS_CONTROL) return reply_error(conn, request, EINVAL);  // no debug commands here
  if (type == XS_SET_TARGET) return strings.size() >= 2 ? reply_ok(conn, request) : reply_error(conn, request, EINVAL);
  size_t needed = type == XS_INTRODUCE ? 3 : 1;
  if (strings.size() < needed) return reply_error(conn, request, EINVAL);
  auto domid = parse_domid(strings[0]);
  if (!domid) return reply_error(conn, request, EINVAL);
  const bool known = *domid == 0 || domains.count(static_cast<uint16_t>(*domid));
  switch (type) {
    case XS_IS_DOMAIN_INTRODUCED:
      return reply(conn, request, std::string_view(known ? "T" : "F", 2));
    case XS_RESUME:
      return known ? reply_ok(conn, request) : reply_error(conn, request, ENOENT);
    case XS_INTRODUCE:
      if (*domid == 0) return reply_error(conn, request, EINVAL);
      if (!known) {
        try {
          add_domain(static_cast<uint16_t>(*domid));
          if (hooks.introduced) hooks.introduced(static_cast<uint16_t>(*domid));
        } catch (const std::exception& error) {
          // A domain only half set up is worse than none: undo, and tell the toolstack.
          std::fprintf(stderr, "xensnd-simxen: cannot introduce domain %u: %s\n", *domid, error.what());
          if (hooks.released) hooks.released(static_cast<uint16_t>(*domid));
          remove_domain(static_cast<uint16_t>(*domid));
          return reply_error(conn, request, EIO);
        }
        fire_special("@introduceDomain");
      }
      return reply_ok(conn, request);
    case XS_RELEASE:
      if (*domid == 0) return reply_error(conn, request, EINVAL);
      if (!known) return reply_error(conn, request, ENOENT);
      if (hooks.released) hooks.released(static_cast<uint16_t>(*domid));
      remove_domain(static_cast<uint16_t>(*domid));
      fire_special("@releaseDomain");
      return reply_ok(conn, request);
  }
}

// ---- watches ----------------------------------------------------------------------------

void XenstoreServer::Impl::send_event(Connection& conn, const Watch& watch, const std::string& path) {
  std::string reported = path;
  if (!watch.relative_prefix.empty() && xs::is_same_or_below(path, watch.relative_prefix)) {
    reported = path.substr(watch.relative_prefix.size());
    if (!reported.empty() && reported.front() == '/') reported.erase(0, 1);
  }
  std::string payload = with_nul(reported) + with_nul(watch.token);
  if (payload.size() > XENSTORE_PAYLOAD_MAX) return;  // xenstored drops over-long events too
  queue(conn, xs::encode_message(XS_WATCH_EVENT, 0, 0, payload));
}

void XenstoreServer::Impl::fire(const std::vector<xs::ChangeEvent>& events) {
  for (const auto& event : events) {
    for (auto& [fd, conn] : connections) {
      if (conn->dead || !xs::NodeStore::event_visible(event, conn->caller())) continue;
      for (const auto& watch : conn->watches) {
        bool hit = event.exact ? watch.path == event.path : xs::is_same_or_below(event.path, watch.path);
        if (hit) send_event(*conn, watch, event.path);
      }
    }
  }
}

void XenstoreServer::Impl::fire_special(const std::string& name) {
  for (auto& [fd, conn] : connections) {
    if (conn->dead || !conn->privileged) continue;
    for (const auto& watch : conn->watches)
      if (watch.path == name) send_event(*conn, watch, name);
  }
}

// ---- public interface -------------------------------------------------------------------

XenstoreServer::XenstoreServer(EventLoop& loop, fs::path run_dir, DomainHooks hooks)
    : impl_(std::make_unique<Impl>(loop, std::move(run_dir), std::move(hooks))) {}

XenstoreServer::~XenstoreServer() {
  std::vector<uint16_t> all = domains();
  for (uint16_t domid : all) impl_->remove_domain(domid);
}

void XenstoreServer::add_domain(uint16_t domid) { impl_->add_domain(domid); }
void XenstoreServer::remove_domain(uint16_t domid) { impl_->remove_domain(domid); }
bool XenstoreServer::has_domain(uint16_t domid) const { return impl_->domains.count(domid) != 0; }

std::vector<uint16_t> XenstoreServer::domains() const {
  std::vector<uint16_t> ids;
  for (const auto& [domid, domain] : impl_->domains) ids.push_back(domid);
  return ids;
}

XenstoreCounts XenstoreServer::counts(uint16_t domid) const {
  XenstoreCounts counts;
  if (auto domain = impl_->domains.find(domid); domain != impl_->domains.end()) counts.requests = domain->second.requests;
  for (const auto& [fd, conn] : impl_->connections) {
    if (conn->domid != domid) continue;
    ++counts.connections;
    counts.watches += conn->watches.size();
    counts.transactions += conn->transactions.size();
  }
  return counts;
}

void XenstoreServer::write_as_dom0(const std::string& path, const std::string& value) {
  std::vector<xs::ChangeEvent> events;
  if (int error = impl_->store.write(path, value, {0, true}, &events))
    throw std::system_error(error, std::generic_category(), "xenstore write " + path);
  impl_->fire(events);
  impl_->reap();
}

}  // namespace simxen
