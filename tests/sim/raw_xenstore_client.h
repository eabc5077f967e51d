// Test helper: a XenStore client speaking the wire protocol by hand, to send what
// libxenstore never would (garbage types, bad lengths, half messages).
#pragma once

#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>

#include <xen/io/xs_wire.h>

namespace simtest {

struct WireMessage {
  xsd_sockmsg header{};
  std::string payload;
};

class RawXenstoreClient {
 public:
  explicit RawXenstoreClient(const std::string& socket_path);
  ~RawXenstoreClient();
  RawXenstoreClient(const RawXenstoreClient&) = delete;
  RawXenstoreClient& operator=(const RawXenstoreClient&) = delete;

  void send_bytes(const std::string& bytes);
  void send(uint32_t type, const std::string& payload, uint32_t tx_id = 0, uint32_t req_id = 7);
  // send(), but false instead of an exception when the daemon has already closed the
  // connection (EPIPE/ECONNRESET): a refused client may learn it on send or on receive.
  bool send_unless_closed(uint32_t type, const std::string& payload);
  // The next message, or nullopt if the daemon closed the connection. Fails (throws) after
  // a generous timeout so that a missing reply fails the test instead of hanging it.
  std::optional<WireMessage> receive();
  // send() then receive(), skipping watch events.
  WireMessage request(uint32_t type, const std::string& payload, uint32_t tx_id = 0);
  // A reply's payload, "ERROR:<name>" for an XS_ERROR reply.
  std::string call(uint32_t type, const std::string& payload, uint32_t tx_id = 0);

 private:
  bool read_exactly(char* data, size_t size);
  // Writes all of `bytes`; false if the peer closed the connection, throws on other errors.
  bool write_all(const std::string& bytes);
  int fd_ = -1;
};

// "a\0b\0" from {"a", "b"}.
std::string strings0(std::initializer_list<std::string> parts);

}  // namespace simtest
