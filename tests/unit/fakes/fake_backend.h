// A sndif backend in the test process, behaving like snd_be where the frontend depends on
// it: xenbus states (including its brief Closing/Closed at start), all-or-nothing binding
// of every stream's rings, requests answered with RING_PUSH_RESPONSES_AND_CHECK_NOTIFY
// (notify only when rsp_event asks), CUR_POS events on the event page. Tests make it
// hostile through the knobs below.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/sndif_abi.h"
#include "tests/unit/fakes/fake_event_channels.h"
#include "tests/unit/fakes/fake_grants.h"
#include "tests/unit/fakes/fake_xenstore.h"
#include "xenio/platform.h"

namespace xensnd::testing {

inline constexpr xenio::DomainId kFrontendDomain = 1;
inline constexpr xenio::DomainId kBackendDomain = 0;

// Writes what the toolstack writes for vsnd device `devid` of domain 1 (backend domain 0):
// both directories, both states Initialising, and a card with one playback stream.
void write_toolstack_nodes(FakeXenStore& store, unsigned devid = 0);

class FakeBackend {
 public:
  FakeBackend(FakeXenStore& store, FakeGrantTable& grants, FakeEventHub& hub, unsigned devid = 0);
  ~FakeBackend();

  std::string frontend_path() const;  // absolute device/vsnd/<id>
  std::string backend_path() const;

  // --- xenbus behaviour ---
  bool start_transients = true;    // 5 -> 6 -> 1 -> 2 on first seeing the frontend at 1
  bool refuse_connection = false;  // frontend Initialised -> Closed
  bool never_connect = false;      // frontend Initialised -> stays InitWait
  void set_state(int state);
  int state() const;

  // --- serving ---
  struct Stream {
    xen_sndif_back_ring_t ring{};
    xensnd_event_page* events = nullptr;
    xenio::EventPort ring_port = 0;
    xenio::EventPort event_port = 0;
    std::vector<std::byte*> buffer_pages;
    uint32_t buffer_bytes = 0;
    bool open = false;
    std::vector<uint8_t> played;  // WRITE data, in order
    uint8_t channels = 0;         // of the last OPEN
    // Per channel, reset at every OPEN like the reference backend: 0.001 dB steps, mute flags.
    std::vector<int32_t> volume;
    std::vector<bool> muted;
    uint16_t next_event_id = 0;
  };
  size_t connected_streams() const { return streams_.size(); }
  Stream& stream(size_t i) { return streams_.at(i); }

  // Requests as received, per stream (copies).
  std::vector<std::vector<xensnd_req>> requests;
  // When true, requests are queued instead of answered; answer_held() answers them, oldest
  // first (as snd_be serves a ring: in order), at most `max` of them.
  bool hold = false;
  void answer_held(size_t max = SIZE_MAX);
  size_t held_count() const { return held_.size(); }
  // Replaces the default answer; may return nullopt to never answer.
  std::function<std::optional<xensnd_resp>(size_t stream, const xensnd_req&, xensnd_resp default_answer)> answer_hook;
  // HW_PARAM_QUERY answer; default: the request with rates.max 192000 (the whole device).
  std::function<xensnd_query_hw_param(const xensnd_query_hw_param&)> hw_param_answer;
  // Answer SET_VOLUME/GET_VOLUME/MUTE/UNMUTE with -EINVAL, as snd_be does.
  bool refuse_volume = false;
  // Notify after every response, not only when rsp_event asks.
  bool always_notify = false;
  int notifications_sent = 0;

  // Pushes a raw response (any id/operation) as if it answered something.
  void push_raw_response(size_t stream, const xensnd_resp& response);
  // Advances rsp_prod by `count` without writing responses.
  void bump_rsp_prod(size_t stream, uint32_t count);
  // Events
  void send_position(size_t stream, uint64_t position, uint8_t type = XENSND_EVT_CUR_POS);
  void set_in_prod(size_t stream, uint32_t value, bool notify = true);

 private:
  void on_store_change(const std::string& path);
  void on_frontend_state(int state);
  bool bind_streams();
  void serve(size_t index);
  xensnd_resp handle(size_t index, const xensnd_req& req);
  void respond(size_t index, const xensnd_resp& response);

  FakeXenStore& store_;
  FakeGrantTable& grants_;
  FakeEventHub& hub_;
  unsigned devid_;
  std::string frontend_state_path_;
  std::vector<Stream> streams_;
  std::deque<std::pair<size_t, xensnd_req>> held_;
  bool saw_frontend_ = false;
  int last_frontend_state_ = -1;
};

// A Platform over the fakes; each open_xenstore() is a view of the one FakeXenStore.
class FakePlatform final : public xenio::Platform {
 public:
  FakePlatform(FakeXenStore& store, FakeGrantTable& grants, FakeEventHub& hub)
      : store_(store), grants_(grants), hub_(hub) {}
  std::unique_ptr<xenio::XenStore> open_xenstore() override;
  std::unique_ptr<xenio::GrantSharer> open_grant_sharer() override {
    return std::make_unique<FakeGrantSharer>(grants_);
  }
  std::unique_ptr<xenio::EventChannels> open_event_channels() override {
    return std::make_unique<FakeEventChannels>(hub_);
  }

 private:
  FakeXenStore& store_;
  FakeGrantTable& grants_;
  FakeEventHub& hub_;
};

}  // namespace xensnd::testing
