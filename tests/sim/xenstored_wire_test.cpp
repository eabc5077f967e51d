// The daemon's XenStore wire protocol, spoken by hand: replies and error strings as
// xenstored sends them, and malformed input survived without disturbing other clients.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <string>

#include "raw_xenstore_client.h"
#include "sim_daemon.h"

namespace simtest {
namespace {

using namespace std::string_literals;

class XenstoredWire : public ::testing::Test {
 protected:
  SimDaemon daemon;
  RawXenstoreClient dom0{daemon.xenstored_path(0)};
};

TEST_F(XenstoredWire, RepliesEchoRequestIdAndCarryValuesVerbatim) {
  dom0.send(XS_WRITE, "/a/b\0"s + "bin\0ary"s, 0, 4242);
  auto reply = dom0.receive();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->header.type, static_cast<uint32_t>(XS_WRITE));
  EXPECT_EQ(reply->header.req_id, 4242u);
  EXPECT_EQ(reply->payload, "OK\0"s);
  EXPECT_EQ(dom0.call(XS_READ, strings0({"/a/b"})), "bin\0ary"s);  // READ has no trailing NUL
  EXPECT_EQ(dom0.call(XS_DIRECTORY, strings0({"/a"})), strings0({"b"}));
  EXPECT_EQ(dom0.call(XS_GET_PERMS, strings0({"/a/b"})), strings0({"n0"}));
  EXPECT_EQ(dom0.call(XS_GET_DOMAIN_PATH, strings0({"7"})), strings0({"/local/domain/7"}));
}

TEST_F(XenstoredWire, ErrorsAreXenstoredNames) {
  EXPECT_EQ(dom0.call(XS_READ, strings0({"/nowhere"})), "ERROR:ENOENT");
  EXPECT_EQ(dom0.call(XS_READ, strings0({"/bad//path"})), "ERROR:EINVAL");
  EXPECT_EQ(dom0.call(XS_READ, strings0({"/trailing/"})), "ERROR:EINVAL");
  EXPECT_EQ(dom0.call(XS_READ, strings0({"/bad char"})), "ERROR:EINVAL");
  EXPECT_EQ(dom0.call(XS_READ, strings0({"/" + std::string(3100, 'x')})), "ERROR:EINVAL");
  EXPECT_EQ(dom0.call(XS_RM, strings0({"/"})), "ERROR:EINVAL");
  EXPECT_EQ(dom0.call(XS_RM, strings0({"/no/parent/here"})), "ERROR:ENOENT");
  EXPECT_EQ(dom0.call(XS_RM, strings0({"/local/absent"})), "OK\0"s);  // parent exists: fine
  EXPECT_EQ(dom0.call(XS_READ, strings0({"/local/domain/0/domid"}), 99), "ERROR:ENOENT");  // unknown transaction
  EXPECT_EQ(dom0.call(XS_TRANSACTION_END, strings0({"T"})), "ERROR:ENOENT");
  EXPECT_EQ(dom0.call(XS_UNWATCH, strings0({"/a", "tok"})), "ERROR:ENOENT");
  EXPECT_EQ(dom0.call(XS_SET_PERMS, strings0({"/local", "x5"})), "ERROR:EINVAL");
}

TEST_F(XenstoredWire, GarbageTypeGetsAnErrorAndTheConnectionGoesOn) {
  EXPECT_EQ(dom0.call(0xdeadbeef, "junk"), "ERROR:ENOSYS");
  EXPECT_EQ(dom0.call(XS_WATCH_EVENT, strings0({"/a", "t"})), "ERROR:ENOSYS");
  EXPECT_EQ(dom0.call(XS_ERROR, ""), "ERROR:ENOSYS");
  EXPECT_EQ(dom0.call(XS_READ, strings0({"/local/domain/0/domid"})), "0");
}

TEST_F(XenstoredWire, UnterminatedOrMissingStringsGetEinval) {
  EXPECT_EQ(dom0.call(XS_READ, "/local/domain/0/domid"), "ERROR:EINVAL");  // no NUL
  EXPECT_EQ(dom0.call(XS_READ, ""), "ERROR:EINVAL");
  EXPECT_EQ(dom0.call(XS_READ, strings0({"/a", "/b"})), "ERROR:EINVAL");  // two arguments
  EXPECT_EQ(dom0.call(XS_WRITE, "/no/terminator"), "ERROR:EINVAL");
  EXPECT_EQ(dom0.call(XS_WATCH, "/a\0tok"s), "ERROR:EINVAL");  // token unterminated
  EXPECT_EQ(dom0.call(XS_INTRODUCE, strings0({"5"})), "ERROR:EINVAL");
  EXPECT_EQ(dom0.call(XS_GET_DOMAIN_PATH, strings0({"five"})), "ERROR:EINVAL");
  EXPECT_EQ(dom0.call(XS_TRANSACTION_END, strings0({"maybe"})), "ERROR:EINVAL");
}

TEST_F(XenstoredWire, PayloadLimitIsXenstoreMax) {
  // A write whose payload is exactly XENSTORE_PAYLOAD_MAX is fine.
  std::string path = "/big";
  std::string value(XENSTORE_PAYLOAD_MAX - path.size() - 1, 'v');
  EXPECT_EQ(dom0.call(XS_WRITE, path + '\0' + value), "OK\0"s);
  EXPECT_EQ(dom0.call(XS_READ, strings0({path})), value);
  // A listing longer than a reply may be is refused with E2BIG.
  for (int i = 0; i < 200; ++i)
    ASSERT_EQ(dom0.call(XS_WRITE, "/many/child-with-a-rather-long-name-" + std::to_string(i) + '\0'), "OK\0"s);
  EXPECT_EQ(dom0.call(XS_DIRECTORY, strings0({"/many"})), "ERROR:E2BIG");
}

TEST_F(XenstoredWire, OversizedLengthClosesOnlyThatConnection) {
  RawXenstoreClient bystander(daemon.xenstored_path(0));
  RawXenstoreClient attacker(daemon.xenstored_path(0));
  attacker.send(XS_READ, std::string(XENSTORE_PAYLOAD_MAX + 1, 'x'));
  EXPECT_FALSE(attacker.receive()) << "the daemon must drop a client announcing an oversized message";
  EXPECT_EQ(bystander.call(XS_READ, strings0({"/local/domain/0/name"})), "Domain-0");
  EXPECT_EQ(dom0.call(XS_READ, strings0({"/local/domain/0/name"})), "Domain-0");
  RawXenstoreClient newcomer(daemon.xenstored_path(0));
  EXPECT_EQ(newcomer.call(XS_READ, strings0({"/local/domain/0/domid"})), "0");
  EXPECT_EQ(daemon.counts(0).at("xs_connections"), 3u);  // dom0, bystander, newcomer
}

TEST_F(XenstoredWire, HalfAMessageDoesNotHoldUpOthers) {
  RawXenstoreClient slow(daemon.xenstored_path(0));
  const std::string payload = strings0({"/tool"});
  xsd_sockmsg header{XS_READ, 1, 0, static_cast<uint32_t>(payload.size())};
  std::string bytes(reinterpret_cast<const char*>(&header), sizeof header);
  bytes += payload;
  slow.send_bytes(bytes.substr(0, 7));  // half a header
  EXPECT_EQ(dom0.call(XS_READ, strings0({"/local/domain/0/domid"})), "0");
  slow.send_bytes(bytes.substr(7, 12));  // rest of the header, part of the payload
  EXPECT_EQ(dom0.call(XS_DIRECTORY, strings0({"/tool"})), strings0({"xenstored"}));
  slow.send_bytes(bytes.substr(19));
  auto reply = slow.receive();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->header.type, static_cast<uint32_t>(XS_READ));
  EXPECT_EQ(reply->payload, "");
}

TEST_F(XenstoredWire, SeveralRequestsInOneSendAreAllAnswered) {
  auto message = [](uint32_t type, const std::string& payload, uint32_t req_id) {
    xsd_sockmsg header{type, req_id, 0, static_cast<uint32_t>(payload.size())};
    return std::string(reinterpret_cast<const char*>(&header), sizeof header) + payload;
  };
  dom0.send_bytes(message(XS_WRITE, "/p\0one"s, 1) + message(XS_READ, strings0({"/p"}), 2) +
                  message(0x77, "", 3));
  auto first = dom0.receive(), second = dom0.receive(), third = dom0.receive();
  ASSERT_TRUE(first && second && third);
  EXPECT_EQ(first->header.req_id, 1u);
  EXPECT_EQ(second->header.req_id, 2u);
  EXPECT_EQ(second->payload, "one");
  EXPECT_EQ(third->header.req_id, 3u);
  EXPECT_EQ(third->header.type, static_cast<uint32_t>(XS_ERROR));
}

TEST_F(XenstoredWire, AClientThatNeverReadsDoesNotBlockTheDaemon) {
  RawXenstoreClient sleeper(daemon.xenstored_path(0));
  EXPECT_EQ(sleeper.call(XS_WATCH, strings0({"/flood", "t"})), "OK\0"s);
  // Thousands of events queue up for the sleeper (far more than a socket buffer holds)...
  std::string value(2000, 'z');
  for (int i = 0; i < 3000; ++i) dom0.send(XS_WRITE, "/flood/node\0"s + value, 0, 1);
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE(dom0.receive());
  // ...while everyone else is served.
  RawXenstoreClient other(daemon.xenstored_path(0));
  EXPECT_EQ(other.call(XS_READ, strings0({"/flood/node"})), value);
}

TEST_F(XenstoredWire, GuestMayNotUseDomainOperations) {
  ASSERT_EQ(dom0.call(XS_INTRODUCE, strings0({"3", "0", "0"})), "OK\0"s);
  RawXenstoreClient guest(daemon.xenstored_path(3));
  EXPECT_EQ(guest.call(XS_INTRODUCE, strings0({"4", "0", "0"})), "ERROR:EACCES");
  EXPECT_EQ(guest.call(XS_RELEASE, strings0({"3"})), "ERROR:EACCES");
  EXPECT_EQ(guest.call(XS_IS_DOMAIN_INTRODUCED, strings0({"3"})), "ERROR:EACCES");
  EXPECT_EQ(dom0.call(XS_IS_DOMAIN_INTRODUCED, strings0({"3"})), "T\0"s);
  EXPECT_EQ(dom0.call(XS_IS_DOMAIN_INTRODUCED, strings0({"4"})), "F\0"s);
  EXPECT_EQ(guest.call(XS_GET_DOMAIN_PATH, strings0({"3"})), strings0({"/local/domain/3"}));
  EXPECT_EQ(dom0.call(XS_INTRODUCE, strings0({"3", "0", "0"})), "OK\0"s);  // again: harmless
  EXPECT_EQ(dom0.call(XS_INTRODUCE, strings0({"0", "0", "0"})), "ERROR:EINVAL");
  EXPECT_EQ(dom0.call(XS_RELEASE, strings0({"0"})), "ERROR:EINVAL");
  EXPECT_EQ(dom0.call(XS_RELEASE, strings0({"4"})), "ERROR:ENOENT");
  EXPECT_EQ(dom0.call(XS_RELEASE, strings0({"3"})), "OK\0"s);
  EXPECT_FALSE(guest.receive()) << "a released domain's connections are closed";
  EXPECT_EQ(daemon.control("domains"), "ok 0");
}

}  // namespace
}  // namespace simtest

namespace simtest {
namespace {

using namespace std::string_literals;

TEST(XenstoredDaemon, PrintsTheEnvironmentAndStopsCleanlyOnSigterm) {
  SimDaemon daemon;
  EXPECT_EQ(daemon.environment().at("XENSTORED_PATH"), daemon.xenstored_path(0));
  EXPECT_TRUE(std::filesystem::is_directory(daemon.environment().at("LD_LIBRARY_PATH")));
  EXPECT_EQ(daemon.control("ping"), "ok");
  EXPECT_EQ(daemon.control("domains"), "ok 0");
  EXPECT_EQ(daemon.control("counts x"), "error bad domain id: x");
  EXPECT_EQ(daemon.control("counts 9"), "error unknown domain 9");
  EXPECT_EQ(daemon.control("reboot"), "error unknown command: reboot");
  {
    RawXenstoreClient client(daemon.xenstored_path(0));  // a client still connected at SIGTERM
    EXPECT_EQ(client.call(XS_WATCH, strings0({"/x", "t"})), "OK\0"s);
    int status = daemon.stop();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;  // also: no leak report
  }
  EXPECT_FALSE(std::filesystem::exists(daemon.xenstored_path(0)));
  EXPECT_FALSE(std::filesystem::exists(daemon.run_dir() / "control"));
  EXPECT_FALSE(std::filesystem::exists(daemon.run_dir() / "dom0"));
}

}  // namespace
}  // namespace simtest
