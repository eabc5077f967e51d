// A whole SndifStream (connected through connect_card() to the in-process FakeBackend)
// driven by the input as the plugin drives it — HW_PARAM_QUERY, OPEN, TRIGGER, pipelined
// WRITE/READ, process/wait/arm, CLOSE — against a backend the input scripts: any status,
// dropped answers, answers held and sent late or twice, wrong ids and operations, raw
// responses, rsp_prod bumped past what was asked, CUR_POS positions (plausible or not),
// in_prod anywhere, floods of events and of notifications, the backend leaving Connected.
//
// Checked: every call returns within its deadline (its timeouts: the response timeout plus
// the buffer's duration for a WRITE or CLOSE, once for a free slot and once for the answer),
// asserted with a clock; only FrontendErrors escape; a BackendGoneError leaves the stream
// disconnected with a reason, and from then on every request throws BackendGoneError; a
// HW_PARAM_QUERY result is never wider than the request; the pipeline never holds more
// requests than the ring; and once the card is gone nothing is left: no grants, no bound
// event channels, no open transactions, no watches.
#include <fuzzer/FuzzedDataProvider.h>

#include <cerrno>
#include <chrono>
#include <deque>

#include "fuzz/call_timer.h"
#include "fuzz/fuzz_check.h"
#include "protocol/card_connection.h"
#include "protocol/errors.h"
#include "protocol/sndif_stream.h"
#include "tests/unit/fakes/fake_backend.h"

namespace {

using namespace xensnd::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using xensnd::Stream;

constexpr auto kResponseTimeout = 2ms;
// On top of a deadline: what the calls' own work may take under ASan (time spent waiting
// for a CPU is not counted, see call_timer.h), far less than libFuzzer's hang timeout.
constexpr auto kSlack = 500ms;

class Harness {
 public:
  explicit Harness(FuzzedDataProvider& input) : in_(input) {}

  void run() {
    write_toolstack_nodes(store_);
    std::string fe = backend_.frontend_path();
    // Fast rates and small buffers keep a buffer's duration (a WRITE's allowance) short.
    store_.write(fe + "/sample-rates", "96000,192000");
    store_.write(fe + "/buffer-size", "2048");
    store_.write(fe + "/0/1/type", "c");
    store_.write(fe + "/0/1/unique-id", "alsa<capture>");
    capture_ = in_.ConsumeBool();
    index_ = capture_ ? 1 : 0;

    backend_.answer_hook = [this](size_t stream, const xensnd_req& req, xensnd_resp answer) {
      return answer_for(stream, req, answer);
    };
    backend_.hw_param_answer = [this](const xensnd_query_hw_param& asked) { return hw_answer(asked); };
    backend_.always_notify = in_.ConsumeBool();

    xensnd::ConnectOptions options;
    options.device_id = 0;
    options.handshake_timeout = 1000ms;
    options.response_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(kResponseTimeout);
    options.teardown_timeout = 0ms;
    options.page_size = 4096;
    options.warn = [](const std::string&) {};
    {
      std::unique_ptr<xensnd::CardConnection> card = xensnd::connect_card(platform_, options);
      stream_ = card->stream(0, index_);
      FUZZ_CHECK(stream_ != nullptr);
      while (in_.remaining_bytes() > 0) step(*card);
      stream_ = nullptr;
    }
    // Nothing left behind.
    FUZZ_CHECK(grants_.live_grants() == 0);
    FUZZ_CHECK(hub_.bound_ports() == 0);
    FUZZ_CHECK(store_.open_transactions() == 0);
    FUZZ_CHECK(store_.active_watches() == 0);
  }

 private:
  // --- the backend's side ---
  std::optional<xensnd_resp> answer_for(size_t, const xensnd_req& req, xensnd_resp answer) {
    if (in_.remaining_bytes() == 0) return answer;
    switch (in_.ConsumeIntegralInRange<int>(0, 15)) {
      case 0:
        answer.status = pick_status();
        return answer;
      case 1:
        return std::nullopt;  // never answered
      case 2:
        held_.push_back(answer);  // answered later (or twice)
        return std::nullopt;
      case 3:
        answer.id = in_.ConsumeBool() ? static_cast<uint16_t>(req.id + 1) : in_.ConsumeIntegral<uint16_t>();
        return answer;
      case 4:
        answer.operation = in_.ConsumeIntegral<uint8_t>();
        return answer;
      default:
        return answer;
    }
  }

  int32_t pick_status() {
    static constexpr int32_t kStatuses[] = {-EINVAL, -EIO, -EBUSY, -ENOSYS, -EOPNOTSUPP, -524, -ENOMEM,
                                            -EAGAIN, -EPIPE, 1, 0};
    if (in_.ConsumeBool()) return in_.ConsumeIntegral<int32_t>();
    return kStatuses[in_.ConsumeIntegralInRange<size_t>(0, std::size(kStatuses) - 1)];
  }

  xensnd_query_hw_param hw_answer(const xensnd_query_hw_param& asked) {
    xensnd_query_hw_param answer = asked;
    if (in_.ConsumeBool()) return answer;
    answer.formats = in_.ConsumeBool() ? asked.formats : in_.ConsumeIntegral<uint64_t>();
    auto range = [&](uint32_t& min, uint32_t& max) {
      if (in_.ConsumeBool()) return;
      min = in_.ConsumeIntegral<uint32_t>();
      max = in_.ConsumeIntegral<uint32_t>();
    };
    range(answer.rates.min, answer.rates.max);
    range(answer.channels.min, answer.channels.max);
    range(answer.buffer.min, answer.buffer.max);
    range(answer.period.min, answer.period.max);
    return answer;
  }

  bool backend_serving() const { return backend_.connected_streams() > index_; }

  uint64_t pick_position() {
    switch (in_.ConsumeIntegralInRange<int>(0, 3)) {
      case 0: return in_.ConsumeIntegral<uint64_t>();
      case 1: return stream_->completed_write_bytes() + stream_->completed_read_bytes();
      case 2: return stream_->position_bytes() + in_.ConsumeIntegralInRange<uint64_t>(0, 8192);
      default: return last_position_ += in_.ConsumeIntegralInRange<uint64_t>(0, 2048);
    }
  }

  void backend_step() {
    if (!backend_serving()) return;
    switch (in_.ConsumeIntegralInRange<int>(0, 8)) {
      case 0:
      case 1:
        backend_.send_position(index_, pick_position(),
                               in_.ConsumeIntegralInRange<int>(0, 15) == 0 ? in_.ConsumeIntegral<uint8_t>()
                                                                          : XENSND_EVT_CUR_POS);
        break;
      case 2:  // a flood of events, overrunning the page
        for (int n = in_.ConsumeIntegralInRange<int>(1, 200); n > 0; --n) backend_.send_position(index_, pick_position());
        break;
      case 3:
        backend_.set_in_prod(index_, in_.ConsumeIntegral<uint32_t>(), in_.ConsumeBool());
        break;
      case 4:
        if (!held_.empty()) {
          backend_.push_raw_response(index_, held_.front());
          if (in_.ConsumeIntegralInRange<int>(0, 7) != 0) held_.pop_front();  // else again later
        }
        break;
      case 5: {
        xensnd_resp r{};
        r.id = in_.ConsumeIntegral<uint16_t>();
        r.operation = in_.ConsumeIntegral<uint8_t>();
        r.status = pick_status();
        backend_.push_raw_response(index_, r);
        break;
      }
      case 6:
        backend_.bump_rsp_prod(index_, in_.ConsumeIntegralInRange<uint32_t>(1, 40));
        break;
      case 7: {  // a flood of notifications
        auto& s = backend_.stream(index_);
        for (int n = in_.ConsumeIntegralInRange<int>(1, 500); n > 0; --n)
          hub_.notify_frontend(in_.ConsumeBool() ? s.ring_port : s.event_port);
        break;
      }
      case 8:
        if (in_.ConsumeIntegralInRange<int>(0, 7) == 0) backend_.set_state(in_.ConsumeIntegralInRange<int>(0, 8));
        break;
    }
  }

  // --- the frontend's side ---
  // The longest any call may take: a free slot (the oldest request's allowance), then its
  // own answer; a WRITE's or CLOSE's allowance adds the buffer's duration.
  Clock::duration bound() const {
    auto* sndif = dynamic_cast<xensnd::SndifStream*>(stream_);
    auto allowance = kResponseTimeout + (sndif ? sndif->buffer_duration() : 0ms);
    return 2 * allowance + kSlack;
  }

  template <typename F>
  void call(const char* what, F&& f) {
    bool was_disconnected = stream_->disconnected();
    xensnd::fuzz::CallTimer timer;
    auto limit = bound();
    try {
      f();
    } catch (const xensnd::BackendGoneError& e) {
      FUZZ_CHECK(stream_->disconnected());
      FUZZ_CHECK(!stream_->disconnect_reason().empty());
    } catch (const xensnd::FrontendError& e) {
      FUZZ_CHECK(*e.what() != '\0');
      // Once disconnected, requests say so (and nothing else).
      FUZZ_CHECK(!was_disconnected || std::string_view(what) == "close");
    }
    auto took = timer.elapsed();
    if (took > limit) {
      std::fprintf(stderr, "%s took %lld ms, more than its %lld ms\n", what,
                   static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()),
                   static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(limit).count()));
      FUZZ_CHECK(took <= limit);
    }
    FUZZ_CHECK(stream_->in_flight() <= 32);
    if (stream_->disconnected()) FUZZ_CHECK(!stream_->disconnect_reason().empty());
  }

  xensnd::StreamParams pick_params() {
    xensnd::StreamParams p;
    p.format = in_.ConsumeIntegralInRange<int>(0, 7) == 0 ? in_.ConsumeIntegral<uint8_t>()
               : in_.ConsumeBool()                         ? XENSND_PCM_FORMAT_S16_LE
                                                           : XENSND_PCM_FORMAT_S32_LE;
    p.channels = in_.ConsumeIntegralInRange<uint8_t>(0, 3);
    p.rate = in_.ConsumeBool() ? 192000 : in_.ConsumeBool() ? 96000 : in_.ConsumeIntegral<uint32_t>();
    uint32_t frame = 4 * std::max<uint32_t>(p.channels, 1);
    p.buffer_bytes = in_.ConsumeBool() ? frame * in_.ConsumeIntegralInRange<uint32_t>(1, 512) : in_.ConsumeIntegral<uint32_t>();
    p.period_bytes = in_.ConsumeBool() ? frame * in_.ConsumeIntegralInRange<uint32_t>(0, 512) : in_.ConsumeIntegral<uint32_t>();
    // A silence area (a playback run's lead) most of the time, whole frames or any size.
    p.silence_bytes = in_.ConsumeBool() ? frame * in_.ConsumeIntegralInRange<uint32_t>(0, 960) : in_.ConsumeIntegral<uint32_t>();
    return p;
  }

  void step(xensnd::CardConnection& card) {
    switch (in_.ConsumeIntegralInRange<int>(0, 13)) {
      case 0: {
        xensnd::HwParamRanges asked;
        asked.formats = in_.ConsumeBool() ? 0x3f : in_.ConsumeIntegral<uint64_t>();
        asked.rates = {in_.ConsumeIntegral<uint32_t>(), in_.ConsumeIntegral<uint32_t>()};
        asked.channels = {in_.ConsumeIntegralInRange<uint32_t>(0, 3), in_.ConsumeIntegralInRange<uint32_t>(0, 3)};
        asked.buffer_frames = {1, in_.ConsumeIntegral<uint16_t>()};
        asked.period_frames = {1, in_.ConsumeIntegral<uint16_t>()};
        call("query_hw_params", [&] {
          std::optional<xensnd::HwParamRanges> got = stream_->query_hw_params(asked);
          if (got) {
            FUZZ_CHECK((got->formats & ~asked.formats) == 0);
            FUZZ_CHECK(got->rates.min >= asked.rates.min && got->rates.max <= asked.rates.max);
            FUZZ_CHECK(got->channels.min >= asked.channels.min && got->channels.max <= asked.channels.max);
            FUZZ_CHECK(!got->rates.empty() && !got->channels.empty() && got->formats != 0);
          }
        });
        break;
      }
      case 1:
        call("open", [&] { stream_->open(pick_params()); });
        break;
      case 2:
        call("close", [&] { stream_->close(); });
        FUZZ_CHECK(!stream_->is_open());
        break;
      case 3:
        call("trigger", [&] { stream_->trigger(static_cast<xensnd::Trigger>(in_.ConsumeIntegralInRange<int>(0, 3))); });
        break;
      case 4:
      case 5:
        data_request();
        break;
      case 6:
        call("process", [&] { stream_->process(); });
        break;
      case 7: {
        auto timeout = std::chrono::milliseconds(in_.ConsumeIntegralInRange<int>(0, 2));
        xensnd::fuzz::CallTimer timer;
        call("wait", [&] { stream_->wait(timeout); });
        FUZZ_CHECK(timer.elapsed() <= timeout + bound());
        break;
      }
      case 8:
        call("arm_response_notification", [&] { stream_->arm_response_notification(); });
        break;
      case 9:
        call("check_backend", [&] { card.check_backend(); });
        break;
      default:
        backend_step();
        break;
    }
  }

  void data_request() {
    if (!stream_->is_open() || stream_->disconnected()) return;
    uint32_t size = static_cast<uint32_t>(stream_->buffer().size());
    uint32_t offset = in_.ConsumeBool() ? in_.ConsumeIntegralInRange<uint32_t>(0, size) : in_.ConsumeIntegral<uint32_t>();
    uint32_t length = in_.ConsumeBool() ? in_.ConsumeIntegralInRange<uint32_t>(0, size) : in_.ConsumeIntegral<uint32_t>();
    if (stream_->free_slots() == 0) {
      call("process", [&] { stream_->process(); });
      return;
    }
    if (!capture_ && in_.ConsumeIntegralInRange<int>(0, 3) == 0) {
      // Silence: within the area (always accepted when whole frames) or any length.
      const uint32_t area = static_cast<uint32_t>(stream_->silence_area().size());
      const uint32_t silence = in_.ConsumeBool() ? in_.ConsumeIntegralInRange<uint32_t>(0, area) : length;
      call("send_silence", [&] { stream_->send_silence(silence); });
      return;
    }
    call(capture_ ? "send_read" : "send_write", [&] {
      if (capture_) stream_->send_read(offset, length);
      else stream_->send_write(offset, length);
    });
  }

  FuzzedDataProvider& in_;
  FakeXenStore store_{kFrontendDomain};
  FakeGrantTable grants_;
  FakeEventHub hub_;
  FakeBackend backend_{store_, grants_, hub_};
  FakePlatform platform_{store_, grants_, hub_};
  Stream* stream_ = nullptr;
  bool capture_ = false;
  size_t index_ = 0;
  std::deque<xensnd_resp> held_;
  uint64_t last_position_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  Harness harness(input);
  harness.run();
  return 0;
}
