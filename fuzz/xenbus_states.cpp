// The xenbus handshake (connect_card(): stale-state reset, Initialising, publishing,
// Connected, and the teardown of the destructor) against a backend scripted by the input:
// whenever the frontend writes its state, the backend answers with any states (valid or
// not), rewrites the configuration, removes the device or its own directory, publishes
// odd `versions`, or makes transactions conflict. The store starts as a toolstack left it,
// or as a dead process left it (any states, stale transport nodes).
//
// Checked: connect_card() returns or throws a FrontendError (nothing else), within its
// handshake and teardown timeouts; a card that connected has its streams; and whatever
// happened, once the card is gone nothing is left behind: no grants, no bound event
// channels, no open transactions, no watches.
#include <fuzzer/FuzzedDataProvider.h>

#include <chrono>

#include "fuzz/call_timer.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/store_script.h"
#include "protocol/card_connection.h"
#include "protocol/errors.h"
#include "tests/unit/fakes/fake_backend.h"

namespace {

using namespace xensnd::testing;

const std::string kFrontend = "/local/domain/1/device/vsnd/0";
const std::string kBackend = "/local/domain/0/backend/vsnd/1/0";

std::string state_value(FuzzedDataProvider& in) {
  return xensnd::fuzz::pick(in, {"1", "2", "3", "4", "5", "6", "4", "2", "6", "0", "7", "8", "", "x", "4 ", "99"});
}

// One thing a backend (or toolstack) does.
void backend_action(FuzzedDataProvider& in, FakeXenStore& store) {
  switch (in.ConsumeIntegralInRange<int>(0, 9)) {
    case 0: case 1: case 2: case 3:
      store.write(kBackend + "/state", state_value(in));
      break;
    case 4:
      store.write(xensnd::fuzz::config_node(in, kFrontend), xensnd::fuzz::config_value(in));
      break;
    case 5:
      store.write(kBackend + "/versions", xensnd::fuzz::pick(in, {"2", "1", "1,2", "2,3", "3", "", "02"}));
      break;
    case 6:
      store.fail_next_commits(in.ConsumeIntegralInRange<int>(1, 3));
      break;
    case 7:
      if (in.ConsumeIntegralInRange<int>(0, 3) == 0) store.remove(in.ConsumeBool() ? kFrontend : kBackend);
      break;
    case 8:
      store.write(kFrontend + "/" + xensnd::fuzz::pick(in, {"backend", "backend-id", "state"}),
                  xensnd::fuzz::pick(in, {"0", "1", kBackend.c_str(), "/local/domain/0/backend/vsnd/1/1", "", "x"}));
      break;
    case 9:
      store.write(kFrontend + "/0/0/" + xensnd::fuzz::pick(in, {"ring-ref", "event-channel", "evt-ring-ref",
                                                                 "evt-event-channel"}),
                  xensnd::fuzz::config_value(in));
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  FakeXenStore store(kFrontendDomain);
  FakeGrantTable grants;
  FakeEventHub hub;
  FakePlatform platform(store, grants, hub);
  write_toolstack_nodes(store);
  // How a previous run may have left it.
  for (int n = in.ConsumeIntegralInRange<int>(0, 4); n > 0; --n) backend_action(in, store);
  if (in.ConsumeBool()) store.write(kFrontend + "/state", state_value(in));

  // The backend reacts to every state the frontend writes.
  bool reacting = false;
  store.set_change_hook([&](const std::string& path) {
    if (reacting || path != kFrontend + "/state") return;
    reacting = true;
    for (int n = in.ConsumeIntegralInRange<int>(0, 3); n > 0 && in.remaining_bytes() > 0; --n)
      backend_action(in, store);
    reacting = false;
  });

  xensnd::ConnectOptions options;
  options.device_id = 0;
  // The backend answers synchronously, so a zero timeout still lets every answered wait
  // succeed; a millisecond now and then also takes the paths that really wait.
  auto timeout = [&] { return std::chrono::milliseconds(in.ConsumeIntegralInRange<int>(0, 7) == 0 ? 1 : 0); };
  options.handshake_timeout = timeout();
  options.response_timeout = std::chrono::milliseconds(1);
  options.teardown_timeout = timeout();
  options.page_size = 4096;
  options.warn = [](const std::string& message) { FUZZ_CHECK(!message.empty()); };

  // Bounded: the handshake, a stale reset and a teardown, each within its timeout (plus
  // slack, far below libFuzzer's hang timeout; time spent waiting for a CPU not counted).
  auto bound = 3 * options.handshake_timeout + 2 * options.teardown_timeout + std::chrono::milliseconds(500);
  xensnd::fuzz::CallTimer timer;
  try {
    std::unique_ptr<xensnd::CardConnection> card = xensnd::connect_card(platform, options);
    FUZZ_CHECK(card->connected());
    FUZZ_CHECK(!card->config().pcm_devices.empty());
    for (const xensnd::PcmDeviceConfig& pcm : card->config().pcm_devices)
      for (const xensnd::StreamConfig& s : pcm.streams) FUZZ_CHECK(card->stream(pcm.index, s.stream_index) != nullptr);
    FUZZ_CHECK(card->stream(card->config().pcm_devices.size(), 0) == nullptr);
    // The backend goes on after the handshake.
    while (in.remaining_bytes() > 0 && in.ConsumeBool()) {
      backend_action(in, store);
      bool connected = card->check_backend();
      FUZZ_CHECK(connected == card->connected());
    }
  } catch (const xensnd::FrontendError& e) {
    FUZZ_CHECK(*e.what() != '\0');
  }
  FUZZ_CHECK(timer.elapsed() < bound);
  store.set_change_hook(nullptr);

  // Nothing left behind.
  FUZZ_CHECK(grants.live_grants() == 0);
  FUZZ_CHECK(hub.bound_ports() == 0);
  FUZZ_CHECK(store.open_transactions() == 0);
  FUZZ_CHECK(store.active_watches() == 0);
  return 0;
}
