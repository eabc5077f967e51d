// A backend rewriting its `state` node in a loop, against the real libxenstore: its reader
// thread keeps every watch event in memory until it is taken. xenio takes them as they come
// and keeps one per path and token, so neither a look nor an idle connection holds a flood.
// Under ASan this also checks that no event is leaked on the way.
#include <gtest/gtest.h>
#include <malloc.h>
#include <stdlib.h>

#include <chrono>
#include <thread>
#if defined(__SANITIZE_ADDRESS__)
// From the sanitizer runtime (<sanitizer/allocator_interface.h>, which GCC 12 does not ship).
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#endif

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
  // A look takes what is queued for up to a few milliseconds, not one batch of 64.
  EXPECT_LT(left, size_t{kWrites} - 64) << "events still queued after one look at a flood of " << kWrites;
}

// Bytes the process holds in malloc'd blocks now (ASan's count under ASan: freed blocks sit
// in its quarantine, so resident memory would not come down).
size_t live_heap_bytes() {
#if defined(__SANITIZE_ADDRESS__)
  return __sanitizer_get_current_allocated_bytes();
#else
  return mallinfo2().uordblks;
#endif
}

// The case of an open PCM that nobody calls while its backend floods `state`: the events
// must not pile up in the process waiting to be taken.
TEST(WatchFlood, AConnectionNobodyAsksForEventsKeepsNoFloodInMemory) {
  // One malloc arena, so that mallinfo2() also counts what libxenstore's reader thread holds.
  mallopt(M_ARENA_MAX, 1);
  SoftwareXen xen;
  std::unique_ptr<xenio::XenStore> guest = open_as(xen.guest_env());
  std::unique_ptr<xenio::XenStore> dom0 = open_as(xen.dom0_env());
  XenbusFrontend frontend(*guest, "device/vsnd/0");
  frontend.watch();

  const std::string state = frontend.backend_path() + "/state";
  const std::optional<std::string> value = dom0->read(state);
  ASSERT_TRUE(value.has_value());
  const size_t before = live_heap_bytes();
  constexpr int kWrites = 50000;  // ~6 MB of queued events when they pile up
  for (int i = 0; i < kWrites; ++i) dom0->write(state, *value);
  // Once the guest's own request is answered, its reader thread has received the whole flood.
  ASSERT_TRUE(guest->read(state).has_value());

  // Nothing takes the guest's events; what the flood left must come down by itself.
  constexpr size_t kAllowedBytes = 512 * 1024;
  auto held = [&] { return live_heap_bytes() > before ? live_heap_bytes() - before : 0; };
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (held() > kAllowedBytes && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  EXPECT_LE(held(), kAllowedBytes) << "bytes still held after a flood of " << kWrites
                                   << " writes nobody asked for";

  // And the flood still reaches whoever looks, as a hint, not as the flood.
  size_t events = 0;
  while (guest->next_watch_event() && events < size_t{kWrites}) ++events;
  EXPECT_GE(events, 1u);
  EXPECT_LE(events, 4u);
}

}  // namespace
}  // namespace xensnd::e2e
