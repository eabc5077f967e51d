// The frontend's request ring against a backend scripted by the input: pushes interleaved
// with collects, responses with any id, operation and status, rsp_prod set anywhere
// (behind, far ahead, wrapping), slots rewritten and rsp_prod bumped *during* collect()
// (after each copy it makes), rsp_event and req_event scribbled on, deadlines.
//
// A model of the outstanding requests says what collect() must do: every completion it
// returns answers an outstanding request with that operation, each once; it throws
// BackendGoneError exactly when what it saw broke the protocol (an unknown id, a wrong
// operation, rsp_prod more responses ahead than requests are outstanding); request ids are
// never reused while outstanding. Deadlines, on a clock the input moves: only the oldest
// request's runs, from when it became the oldest (pushed onto an empty ring, or the one
// before it completed), and an oldest READ/WRITE's not while data requests are held
// (stopped or paused) unless a control request waits behind it.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "fuzz/shared_copy_hook.h"
#include "protocol/errors.h"
#include "protocol/request_ring.h"

namespace {

using xensnd::RequestRing;
using Clock = RequestRing::Clock;

struct Outstanding {
  uint16_t id;
  uint8_t operation;
  Clock::duration allowance;
};

bool is_data(uint8_t operation) { return operation == XENSND_OP_WRITE || operation == XENSND_OP_READ; }

class Harness {
 public:
  explicit Harness(FuzzedDataProvider& input) : in_(input), ring_(page_) {
    sring_ = reinterpret_cast<xen_sndif_sring*>(page_);
  }

  void run() {
    while (in_.remaining_bytes() > 0 && !broken_) step();
  }

 private:
  // One backend action: write a response, publish, or misbehave.
  void backend_action() {
    switch (in_.ConsumeIntegralInRange<int>(0, 5)) {
      case 0:
      case 1: {  // answer an outstanding request (or not quite)
        xensnd_resp r{};
        if (!model_.empty() && in_.ConsumeBool()) {
          const Outstanding& o = model_[in_.ConsumeIntegralInRange<size_t>(0, model_.size() - 1)];
          r.id = o.id;
          r.operation = o.operation;
          if (in_.ConsumeIntegralInRange<int>(0, 15) == 0) r.operation ^= 1 + in_.ConsumeIntegral<uint8_t>() % 15;
        } else {
          r.id = in_.ConsumeIntegral<uint16_t>();
          r.operation = in_.ConsumeIntegral<uint8_t>();
        }
        r.status = in_.ConsumeBool() ? 0 : in_.ConsumeIntegral<int32_t>();
        std::memcpy(&sring_->ring[backend_prod_ % capacity()].rsp, &r, sizeof r);
        ++backend_prod_;
        if (in_.ConsumeBool()) publish(backend_prod_);
        break;
      }
      case 2:
        publish(backend_prod_);
        break;
      case 3:  // rsp_prod anywhere
        publish(backend_prod_ = in_.ConsumeIntegral<uint32_t>());
        break;
      case 4:  // rsp_prod a little behind or ahead of what it should be
        publish(backend_prod_ += in_.ConsumeIntegralInRange<int32_t>(-40, 40));
        break;
      case 5:  // the backend's own fields, or the request slots
        sring_->rsp_event = in_.ConsumeIntegral<uint32_t>();
        if (in_.ConsumeBool()) sring_->req_event = in_.ConsumeIntegral<uint32_t>();
        if (in_.ConsumeBool()) sring_->ring[in_.ConsumeIntegral<uint8_t>() % capacity()].req.id = in_.ConsumeIntegral<uint16_t>();
        break;
    }
  }

  void publish(uint32_t prod) { std::atomic_ref<uint32_t>(sring_->rsp_prod).store(prod); }
  uint32_t capacity() const { return static_cast<uint32_t>(ring_.capacity()); }

  void step() {
    switch (in_.ConsumeIntegralInRange<int>(0, 6)) {
      case 0:
      case 1:
        push();
        break;
      case 2:
      case 3:
        backend_action();
        break;
      case 4:
        collect();
        break;
      case 5: {
        // ring.h: rsp_event is set only when nothing was waiting, then rsp_prod looked at again.
        bool waiting = sring_->rsp_prod != cons_;
        bool more = ring_.arm_response_notification();
        FUZZ_CHECK(more == waiting);
        if (!waiting) {
          FUZZ_CHECK(sring_->rsp_event == cons_ + 1);
          FUZZ_CHECK(ring_.response_notification_armed());
        }
        break;
      }
      case 6:
        deadlines();
        break;
    }
  }

  void push() {
    if (ring_.free_slots() == 0) {
      FUZZ_CHECK(model_.size() == capacity());
      return;
    }
    xensnd_req req{};
    req.operation = in_.ConsumeIntegral<uint8_t>();
    req.id = in_.ConsumeIntegral<uint16_t>();  // ignored: the ring chooses
    if (in_.ConsumeBool()) req.operation = in_.ConsumeBool() ? XENSND_OP_WRITE : XENSND_OP_READ;
    auto allowance = std::chrono::milliseconds(in_.ConsumeIntegralInRange<int>(0, 10000));
    uint32_t req_prod_before = sring_->req_prod;
    bool was_running = clock_runs();
    RequestRing::Pushed pushed = ring_.push(req, allowance, now_);
    for (const Outstanding& o : model_) FUZZ_CHECK(o.id != pushed.id);
    model_.push_back({pushed.id, req.operation, allowance});
    if (!was_running && clock_runs()) front_since_ = now_;
    FUZZ_CHECK(ring_.outstanding() == model_.size());
    FUZZ_CHECK(ring_.is_outstanding(pushed.id));
    // Published, in the slot it was pushed to, with the ring's id.
    FUZZ_CHECK(sring_->req_prod == req_prod_before + 1);
    const xensnd_req& slot = sring_->ring[req_prod_before % capacity()].req;
    FUZZ_CHECK(slot.id == pushed.id && slot.operation == req.operation);
  }

  void collect() {
    // What collect() copied out of the response slots, in order: the backend may act after
    // each copy (that is the window between a copy and the next look at rsp_prod).
    std::vector<xensnd_resp> seen;
    xensnd::fuzz::set_copy_hook([&](void* dst, const void* src, size_t size) {
      auto* s = static_cast<const std::byte*>(src);
      auto* first = reinterpret_cast<const std::byte*>(sring_);
      if (s < first || s >= first + xensnd::abi::kXenPageSize || size != sizeof(xensnd_resp)) return;
      xensnd_resp r;
      std::memcpy(&r, dst, sizeof r);
      seen.push_back(r);
      if (in_.remaining_bytes() > 0 && in_.ConsumeIntegralInRange<int>(0, 3) == 0) backend_action();
    });
    std::vector<xensnd::Completion> done;
    bool threw = false;
    const bool had_front = !model_.empty();
    const uint16_t front_before = had_front ? model_.front().id : 0;
    try {
      ring_.collect(done, now_);
    } catch (const xensnd::BackendGoneError&) {
      threw = true;
    }
    xensnd::fuzz::set_copy_hook(nullptr);

    // Replay what it saw against the model.
    size_t valid = 0;
    bool violation = false;
    for (const xensnd_resp& r : seen) {
      auto it = std::find_if(model_.begin(), model_.end(), [&](const Outstanding& o) { return o.id == r.id; });
      if (it == model_.end() || it->operation != r.operation) {
        violation = true;
        break;
      }
      model_.erase(it);
      ++valid;
    }
    if (threw) {
      // Only at a real violation: the last response copied, or rsp_prod too far ahead.
      if (violation) {
        FUZZ_CHECK(valid + 1 == seen.size());
      } else {
        uint32_t ahead = sring_->rsp_prod - static_cast<uint32_t>(cons_ + seen.size());
        FUZZ_CHECK(ahead > model_.size());
      }
      broken_ = true;  // the ring is unusable after a violation
      return;
    }
    FUZZ_CHECK(!violation);
    FUZZ_CHECK(done.size() == seen.size());
    for (size_t i = 0; i < done.size(); ++i) {
      FUZZ_CHECK(done[i].id == seen[i].id && done[i].operation == seen[i].operation);
      FUZZ_CHECK(done[i].raw_status == seen[i].status);
      FUZZ_CHECK((done[i].status.errno_value == 0) == (done[i].raw_status == 0));
      FUZZ_CHECK(done[i].status.errno_value >= 0);
    }
    cons_ += static_cast<uint32_t>(done.size());
    if (had_front && !model_.empty() && model_.front().id != front_before) front_since_ = now_;
    // It returns only once rsp_prod stands still at what it consumed.
    FUZZ_CHECK(sring_->rsp_prod == cons_);
    FUZZ_CHECK(ring_.outstanding() == model_.size());
  }

  bool clock_runs() const {
    if (model_.empty()) return false;
    if (!held_ || !is_data(model_.front().operation)) return true;
    return std::any_of(model_.begin() + 1, model_.end(), [](const Outstanding& o) { return !is_data(o.operation); });
  }

  void deadlines() {
    now_ += std::chrono::milliseconds(in_.ConsumeIntegralInRange<int>(0, 4000));
    if (in_.ConsumeBool()) {
      bool was_running = clock_runs();
      held_ = in_.ConsumeBool();
      ring_.hold_data_requests(held_, now_);
      if (!was_running && clock_runs()) front_since_ = now_;
    }
    std::optional<Clock::time_point> expected;
    if (clock_runs()) expected = front_since_ + model_.front().allowance;
    FUZZ_CHECK(ring_.next_deadline() == expected);
    bool threw = false;
    try {
      ring_.check_deadlines(now_);
    } catch (const xensnd::BackendGoneError&) {
      threw = true;
    }
    FUZZ_CHECK(threw == (expected && *expected <= now_));
  }

  FuzzedDataProvider& in_;
  alignas(4096) std::byte page_[xensnd::abi::kXenPageSize]{};
  RequestRing ring_;
  xen_sndif_sring* sring_;
  std::vector<Outstanding> model_;
  uint32_t cons_ = 0;          // responses the frontend consumed
  uint32_t backend_prod_ = 0;  // the backend's private producer index
  bool broken_ = false;
  bool held_ = false;  // data requests held (stream stopped or paused)
  // The ring's clock, moved by the input: deadlines are compared, never waited for.
  Clock::time_point now_ = Clock::time_point{} + std::chrono::hours(24);
  Clock::time_point front_since_{};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  auto harness = std::make_unique<Harness>(input);
  harness->run();
  return 0;
}
