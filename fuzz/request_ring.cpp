// The frontend's request ring against a backend scripted by the input: pushes interleaved
// with collects, responses with any id, operation and status, rsp_prod set anywhere
// (behind, far ahead, wrapping), slots rewritten and rsp_prod bumped *during* collect()
// (after each copy it makes), rsp_event and req_event scribbled on, deadlines.
//
// A model of the outstanding requests says what collect() must do: every completion it
// returns answers an outstanding request with that operation, each once; it throws
// BackendGoneError exactly when what it saw broke the protocol (an unknown id, a wrong
// operation, rsp_prod more responses ahead than requests are outstanding); request ids are
// never reused while outstanding; deadlines are those pushed.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
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
  Clock::time_point deadline;
};

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
    auto deadline = base_ + std::chrono::milliseconds(in_.ConsumeIntegralInRange<int>(0, 10000));
    uint32_t req_prod_before = sring_->req_prod;
    RequestRing::Pushed pushed = ring_.push(req, deadline);
    for (const Outstanding& o : model_) FUZZ_CHECK(o.id != pushed.id);
    model_.push_back({pushed.id, req.operation, deadline});
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
    try {
      ring_.collect(done);
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
    // It returns only once rsp_prod stands still at what it consumed.
    FUZZ_CHECK(sring_->rsp_prod == cons_);
    FUZZ_CHECK(ring_.outstanding() == model_.size());
  }

  void deadlines() {
    std::optional<Clock::time_point> earliest;
    for (const Outstanding& o : model_)
      if (!earliest || o.deadline < *earliest) earliest = o.deadline;
    FUZZ_CHECK(ring_.next_deadline() == earliest);
    auto now = base_ + std::chrono::milliseconds(in_.ConsumeIntegralInRange<int>(0, 10000));
    bool threw = false;
    try {
      ring_.check_deadlines(now);
    } catch (const xensnd::BackendGoneError&) {
      threw = true;
    }
    FUZZ_CHECK(threw == (earliest && *earliest <= now));
  }

  FuzzedDataProvider& in_;
  alignas(4096) std::byte page_[xensnd::abi::kXenPageSize]{};
  RequestRing ring_;
  xen_sndif_sring* sring_;
  std::vector<Outstanding> model_;
  uint32_t cons_ = 0;          // responses the frontend consumed
  uint32_t backend_prod_ = 0;  // the backend's private producer index
  bool broken_ = false;
  // A fixed time far from now: deadlines are compared, never waited for.
  Clock::time_point base_ = Clock::time_point{} + std::chrono::hours(24);
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  auto harness = std::make_unique<Harness>(input);
  harness->run();
  return 0;
}
