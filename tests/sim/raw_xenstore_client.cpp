#include "raw_xenstore_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace simtest {

RawXenstoreClient::RawXenstoreClient(const std::string& socket_path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_path.c_str(), sizeof address.sun_path - 1);
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0)
    throw std::runtime_error("cannot connect to " + socket_path + ": " + std::strerror(errno));
}

RawXenstoreClient::~RawXenstoreClient() { ::close(fd_); }

bool RawXenstoreClient::write_all(const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) return false;
    if (n <= 0) throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    sent += static_cast<size_t>(n);
  }
  return true;
}

void RawXenstoreClient::send_bytes(const std::string& bytes) {
  if (!write_all(bytes)) throw std::runtime_error("send: the daemon closed the connection");
}

namespace {
std::string framed(uint32_t type, const std::string& payload, uint32_t tx_id, uint32_t req_id) {
  xsd_sockmsg header{type, req_id, tx_id, static_cast<uint32_t>(payload.size())};
  return std::string(reinterpret_cast<const char*>(&header), sizeof header) + payload;
}
}  // namespace

void RawXenstoreClient::send(uint32_t type, const std::string& payload, uint32_t tx_id, uint32_t req_id) {
  send_bytes(framed(type, payload, tx_id, req_id));
}

bool RawXenstoreClient::send_unless_closed(uint32_t type, const std::string& payload) {
  return write_all(framed(type, payload, 0, 7));
}

bool RawXenstoreClient::read_exactly(char* data, size_t size) {
  size_t got = 0;
  while (got < size) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) throw std::runtime_error("no reply from the daemon within 10s");
    ssize_t n = ::read(fd_, data + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

std::optional<WireMessage> RawXenstoreClient::receive() {
  WireMessage message;
  if (!read_exactly(reinterpret_cast<char*>(&message.header), sizeof message.header)) return std::nullopt;
  message.payload.resize(message.header.len);
  if (!read_exactly(message.payload.data(), message.payload.size())) return std::nullopt;
  return message;
}

WireMessage RawXenstoreClient::request(uint32_t type, const std::string& payload, uint32_t tx_id) {
  send(type, payload, tx_id);
  for (;;) {
    auto message = receive();
    if (!message) throw std::runtime_error("connection closed instead of a reply");
    if (message->header.type != XS_WATCH_EVENT) return *message;
  }
}

std::string RawXenstoreClient::call(uint32_t type, const std::string& payload, uint32_t tx_id) {
  WireMessage reply = request(type, payload, tx_id);
  if (reply.header.type == XS_ERROR) {
    std::string name = reply.payload;
    if (!name.empty() && name.back() == '\0') name.pop_back();
    return "ERROR:" + name;
  }
  return reply.payload;
}

std::string strings0(std::initializer_list<std::string> parts) {
  std::string joined;
  for (const auto& part : parts) joined += part + std::string(1, '\0');
  return joined;
}

}  // namespace simtest
