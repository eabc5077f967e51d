// A card connected through connect_card() to the in-process FakeBackend.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "protocol/card_connection.h"
#include "protocol/errors.h"
#include "tests/unit/fakes/fake_backend.h"

namespace xensnd::testing {

class ConnectedCardTest : public ::testing::Test {
 protected:
  void SetUp() override { write_toolstack_nodes(store); }

  ConnectOptions options() {
    ConnectOptions o;
    o.device_id = 0;
    o.handshake_timeout = std::chrono::milliseconds(2000);
    o.response_timeout = std::chrono::milliseconds(300);
    o.teardown_timeout = std::chrono::milliseconds(300);
    o.page_size = 4096;
    o.warn = [this](const std::string& m) { warnings.push_back(m); };
    o.debug = [this](const std::string& m) { debug_notes.push_back(m); };
    return o;
  }
  void connect() { card = connect_card(platform, options()); }
  Stream& stream0() { return *card->stream(0, 0); }
  // 16-bit stereo 48 kHz, buffer 4 periods of 1024 frames.
  static StreamParams default_params() {
    StreamParams p;
    p.format = XENSND_PCM_FORMAT_S16_LE;
    p.channels = 2;
    p.rate = 48000;
    p.period_bytes = 4096;
    p.buffer_bytes = 16384;
    return p;
  }
  void open_default() { stream0().open(default_params()); }
  // The errno of the RequestFailedError `f` throws; 0 if it throws none.
  static int request_error_of(const std::function<void()>& f) {
    try {
      f();
    } catch (const RequestFailedError& e) {
      return e.errno_value();
    }
    return 0;
  }

  FakeXenStore store{kFrontendDomain};
  FakeGrantTable grants;
  FakeEventHub hub;
  FakeBackend backend{store, grants, hub};
  FakePlatform platform{store, grants, hub};
  std::vector<std::string> warnings;
  std::vector<std::string> debug_notes;
  std::unique_ptr<CardConnection> card;
};

}  // namespace xensnd::testing
