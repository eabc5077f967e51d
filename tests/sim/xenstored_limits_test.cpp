// The XenStore half's resource limits: a daemon out of file descriptors refuses the pending
// client instead of spinning on accept, and a guest cannot hold more than its share of
// connections (kGuestConnectionLimit in xenstore_server.cpp, 128).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "raw_xenstore_client.h"
#include "sim_daemon.h"
#include "xenstore_handle.h"

namespace simtest {
namespace {

constexpr size_t kGuestConnectionLimit = 128;

// Whether `client` gets an answer to a read (true) or sees its connection closed (false).
// The refusal may arrive before the request is written (send sees EPIPE) or after.
bool answered(RawXenstoreClient& client, const std::string& path) {
  if (!client.send_unless_closed(XS_READ, path + '\0')) return false;
  return client.receive().has_value();
}

// A new client answered, once the daemon has noticed the closed ones: bounded by attempts,
// each a full round trip, not by time.
bool a_new_client_is_answered(const std::string& socket, const std::string& path) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    RawXenstoreClient client(socket);
    if (answered(client, path)) return true;
  }
  return false;
}

// Runs in a child process (a death test): the daemon raises its soft descriptor limit to
// the hard one, so the hard limit is lowered, which cannot be undone.
int run_out_of_descriptors() {
  rlimit small{64, 64};
  if (setrlimit(RLIMIT_NOFILE, &small) != 0) return 10;
  SimDaemon daemon;
  const std::string socket = daemon.xenstored_path(0);
  std::vector<std::unique_ptr<RawXenstoreClient>> clients;
  size_t replies = 0, refused = 0;
  try {
    for (int i = 0; i < 56; ++i) {
      clients.push_back(std::make_unique<RawXenstoreClient>(socket));
      // Before the fix a client beyond the daemon's limit was never accepted: no answer,
      // no close (receive() gives up after 10 s) while the daemon spun on its socket.
      if (answered(*clients.back(), "/local/domain/0/domid"))
        ++replies;
      else
        ++refused;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "after %zu replies and %zu refusals: %s\n", replies, refused, e.what());
    return 1;
  }
  std::fprintf(stderr, "%zu replies, %zu refused\n", replies, refused);
  if (replies < 10) return 2;
  if (refused == 0) return 3;  // the limit was never reached: the test proves nothing
  // Descriptors free again: the daemon serves the clients it kept and new ones.
  RawXenstoreClient& kept = *clients.front();
  clients.erase(clients.begin() + 1, clients.end());
  if (!answered(kept, "/local/domain/0/domid")) return 4;
  if (!a_new_client_is_answered(socket, "/local/domain/0/domid")) return 5;
  return 0;
}

TEST(XenstoredLimits, OutOfDescriptorsTheDaemonRefusesClientsInsteadOfSpinning) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(std::exit(run_out_of_descriptors()), ::testing::ExitedWithCode(0), "");
}

TEST(XenstoredLimits, AGuestCannotOpenMoreThanItsShareOfConnections) {
  SimDaemon daemon;
  XenstoreHandle dom0(daemon, 0);
  ASSERT_TRUE(xs_introduce_domain(dom0.get(), 5, 0, 0));
  ASSERT_TRUE(dom0.write("/local/domain/5/domid", "5"));
  ASSERT_TRUE(dom0.set_perms("/local/domain/5/domid", {"n0", "r5"}));
  const std::string socket = daemon.xenstored_path(5);
  std::vector<std::unique_ptr<RawXenstoreClient>> clients;
  for (size_t i = 0; i < kGuestConnectionLimit; ++i) {
    clients.push_back(std::make_unique<RawXenstoreClient>(socket));
    ASSERT_TRUE(answered(*clients.back(), "/local/domain/5/domid")) << "connection " << i;
  }
  RawXenstoreClient one_too_many(socket);
  EXPECT_FALSE(answered(one_too_many, "/local/domain/5/domid")) << "connection " << kGuestConnectionLimit;
  EXPECT_EQ(daemon.counts(5).at("xs_connections"), kGuestConnectionLimit);
  // dom0 is not limited by the guest's connections.
  RawXenstoreClient admin(daemon.xenstored_path(0));
  EXPECT_TRUE(answered(admin, "/local/domain/5/domid"));
  // One closes, another may come.
  clients.pop_back();
  EXPECT_TRUE(a_new_client_is_answered(socket, "/local/domain/5/domid"));
}

}  // namespace
}  // namespace simtest
