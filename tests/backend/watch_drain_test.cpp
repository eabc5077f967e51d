// The backend's main loop takes watch events in bounded batches: a frontend rewriting a node
// in a loop cannot keep it draining instead of acting on what it saw.
#include "backend/backend_service.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace xensnd::backend {
namespace {

// A XenStore whose watch queue never empties (as with a peer writing in a loop); every other
// call is a test failure.
class FloodingXenStore final : public xenio::XenStore {
 public:
  std::optional<xenio::XenStoreWatchEvent> next_watch_event() override {
    // A bound of our own, so that an unbounded drain fails here instead of hanging.
    if (++taken > 1'000'000) return std::nullopt;
    return xenio::XenStoreWatchEvent{"/local/domain/0/backend/vsnd/1/0/state", "token"};
  }
  size_t taken = 0;

  std::optional<std::string> read(std::string_view, Transaction) override { fail(); }
  void write(std::string_view, std::string_view, Transaction) override { fail(); }
  void mkdir(std::string_view, Transaction) override { fail(); }
  void remove(std::string_view, Transaction) override { fail(); }
  std::optional<std::vector<std::string>> directory(std::string_view, Transaction) override { fail(); }
  std::vector<xenio::XenStorePermission> permissions(std::string_view, Transaction) override { fail(); }
  void set_permissions(std::string_view, const std::vector<xenio::XenStorePermission>&, Transaction) override {
    fail();
  }
  Transaction begin_transaction() override { fail(); }
  bool commit_transaction(Transaction) override { fail(); }
  void abort_transaction(Transaction) override { fail(); }
  void watch(std::string_view, std::string_view) override { fail(); }
  void unwatch(std::string_view, std::string_view) override { fail(); }
  int watch_fd() const override { return -1; }
  std::string domain_path(xenio::DomainId) override { fail(); }

 private:
  [[noreturn]] static void fail() { throw std::logic_error("unexpected XenStore call"); }
};

TEST(WatchDrain, AFloodIsTakenInBoundedBatches) {
  FloodingXenStore store;
  Log log(LogLevel::kError);
  EXPECT_TRUE(drain_watch_events(store, log));
  EXPECT_EQ(store.taken, kMaxWatchEventsPerDrain);
  EXPECT_TRUE(drain_watch_events(store, log));
  EXPECT_EQ(store.taken, 2 * kMaxWatchEventsPerDrain);
}

}  // namespace
}  // namespace xensnd::backend
