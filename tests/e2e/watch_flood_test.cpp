// A backend rewriting its `state` node in a loop, against the real libxenstore: its reader
// thread keeps every watch event in memory until it is taken, so the frontend must shed a
// flood rather than take it in batches (the batches fell behind and the queue grew).
#include <gtest/gtest.h>
#include <stdlib.h>

#include "protocol/xenbus_frontend.h"
#include "tests/e2e/e2e_helpers.h"
#include "xenio/xenstore.h"

namespace xensnd::e2e {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<xenio::XenStore> open_as(const Environment& env) {
  ::setenv("XENSTORED_PATH", env.at("XENSTORED_PATH").c_str(), 1);
  return xenio::open_xenstore();
}

TEST(WatchFlood, OneLookShedsAFloodQueuedByTheRealLibrary) {
  SoftwareXen xen;
  std::unique_ptr<xenio::XenStore> guest = open_as(xen.guest_env());
  std::unique_ptr<xenio::XenStore> dom0 = open_as(xen.dom0_env());
  XenbusFrontend frontend(*guest, "device/vsnd/0");
  frontend.watch();

  const std::string state = frontend.backend_path() + "/state";
  const std::optional<std::string> value = dom0->read(state);
  ASSERT_TRUE(value.has_value());
  constexpr int kWrites = 20000;
  for (int i = 0; i < kWrites; ++i) dom0->write(state, *value);  // the same state, again and again
  // A request of the guest's own connection is answered after every event xenstored queued
  // for it before: once it returns, the library's reader thread has queued the whole flood.
  ASSERT_TRUE(guest->read(state).has_value());

  EXPECT_TRUE(frontend.drain_watch_events());
  size_t left = 0;
  while (guest->next_watch_event() && left < size_t{kWrites}) ++left;
  // What may remain: the two registration events of the re-registered watches.
  EXPECT_LE(left, 2u) << "events still queued after one look at a flood of " << kWrites;
}

}  // namespace
}  // namespace xensnd::e2e
