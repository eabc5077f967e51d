// The event page reader against a backend scripted by the input: CUR_POS and other events,
// laps of the ring (overruns), and events written *between the reader's copy of the slots and
// its second look at in_prod* (after each slot it copies). A second phase adds what only a
// hostile backend does: in_prod anywhere, slots rewritten in place, in_cons scribbled on.
//
// Event number i carries position f(i) (the index in the high half, a check pattern in the
// low half), so every position returned names the event it came from. While the backend
// is honest: positions come out strictly increasing across reads, each from an event
// published before the read began and not consumed by an earlier read, never a slot that
// was overwritten (a torn or recycled slot fails the pattern or the order); without an
// overrun a read returns exactly the CUR_POS events published, with one only the newest.
// Always: at most a ring's worth per read, in_cons published as the in_prod read.
#include <fuzzer/FuzzedDataProvider.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "fuzz/shared_copy_hook.h"
#include "protocol/event_page.h"

namespace {

constexpr uint32_t kRing = XENSND_IN_RING_LEN;

uint64_t position_of(uint32_t event) { return (uint64_t{event} << 32) | (event * 2654435761u ^ 0x5a5a5a5au); }
std::optional<uint32_t> event_of(uint64_t position) {
  auto event = static_cast<uint32_t>(position >> 32);
  if (position_of(event) != position) return std::nullopt;
  return event;
}

class Harness {
 public:
  explicit Harness(FuzzedDataProvider& input) : in_(input), page_(reinterpret_cast<xensnd_event_page*>(memory_)) {
    reader_.emplace(memory_);
  }

  void run() {
    while (in_.remaining_bytes() > 0) {
      switch (in_.ConsumeIntegralInRange<int>(0, 4)) {
        case 0:
        case 1:
          write_events(in_.ConsumeIntegralInRange<uint32_t>(1, 3 * kRing));
          break;
        case 2:
          read();
          break;
        case 3:
          reader_->discard_all();
          FUZZ_CHECK(page_->in_cons == page_->in_prod);
          consumed_ = page_->in_prod;
          break;
        case 4:
          misbehave();
          break;
      }
    }
  }

 private:
  void write_events(uint32_t count) {
    for (uint32_t n = 0; n < count; ++n) {
      xensnd_evt& slot = XENSND_IN_RING_REF(page_, prod_);
      xensnd_evt event{};
      event.type = in_.ConsumeIntegralInRange<int>(0, 7) == 0 ? in_.ConsumeIntegral<uint8_t>() : XENSND_EVT_CUR_POS;
      event.id = static_cast<uint16_t>(prod_);
      event.op.cur_pos.position = position_of(prod_);
      std::memcpy(&slot, &event, sizeof event);
      types_[prod_ % kRing] = event.type;
      ++prod_;
      std::atomic_ref<uint32_t>(page_->in_prod).store(prod_, std::memory_order_release);
    }
  }

  void misbehave() {
    hostile_ = true;
    switch (in_.ConsumeIntegralInRange<int>(0, 2)) {
      case 0:
        prod_ = in_.ConsumeIntegral<uint32_t>();
        page_->in_prod = prod_;
        break;
      case 1: {
        auto* bytes = reinterpret_cast<uint8_t*>(&XENSND_IN_RING_REF(page_, in_.ConsumeIntegral<uint8_t>()));
        for (size_t i = 0; i < sizeof(xensnd_evt); ++i) bytes[i] = in_.ConsumeIntegral<uint8_t>();
        break;
      }
      case 2:
        page_->in_cons = in_.ConsumeIntegral<uint32_t>();
        break;
    }
  }

  void read() {
    uint32_t prod_before = prod_;
    bool backend_moved = false;
    xensnd::fuzz::set_copy_hook([&](void*, const void* src, size_t size) {
      if (src < memory_ || src >= memory_ + sizeof memory_ || size != sizeof(xensnd_evt)) return;
      if (in_.remaining_bytes() > 0 && in_.ConsumeIntegralInRange<int>(0, 3) == 0) {
        write_events(in_.ConsumeIntegralInRange<uint32_t>(1, kRing + 2));
        backend_moved = true;
      }
    });
    reader_->read(batch_);
    xensnd::fuzz::set_copy_hook(nullptr);

    FUZZ_CHECK(batch_.positions.size() <= kRing);
    // in_cons: the in_prod it read first, not what came meanwhile (nothing written when
    // there was nothing to read).
    if (prod_before != consumed_) FUZZ_CHECK(page_->in_cons == prod_before);
    if (batch_.overrun) FUZZ_CHECK(batch_.positions.size() <= 1);
    if (!hostile_) {
      uint32_t unread = prod_before - consumed_;
      FUZZ_CHECK(batch_.overrun == (unread > kRing) || backend_moved);
      for (uint64_t position : batch_.positions) {
        std::optional<uint32_t> event = event_of(position);
        FUZZ_CHECK(event.has_value());
        FUZZ_CHECK(*event - consumed_ < unread);  // published before the read, not consumed yet
        FUZZ_CHECK(!last_event_ || *event > *last_event_);
        last_event_ = *event;
      }
      if (!batch_.overrun && !backend_moved) {
        // Exactly the CUR_POS events published since the last read, but for the oldest of a
        // full ring: the backend may be writing the next event into that slot right now.
        size_t expected = 0;
        uint32_t ignored = 0;
        for (uint32_t e = consumed_; e != prod_before; ++e) {
          if (prod_before - e >= kRing) continue;
          if (types_[e % kRing] == XENSND_EVT_CUR_POS) {
            FUZZ_CHECK(expected < batch_.positions.size() && batch_.positions[expected] == position_of(e));
            ++expected;
          } else {
            ++ignored;
          }
        }
        FUZZ_CHECK(expected == batch_.positions.size());
        FUZZ_CHECK(ignored == batch_.ignored);
      }
    }
    consumed_ = prod_before;
  }

  FuzzedDataProvider& in_;
  alignas(4096) std::byte memory_[xensnd::abi::kXenPageSize]{};
  xensnd_event_page* page_;
  std::optional<xensnd::EventPageReader> reader_;
  xensnd::EventBatch batch_;
  uint8_t types_[kRing]{};
  uint32_t prod_ = 0;
  uint32_t consumed_ = 0;
  std::optional<uint32_t> last_event_;
  bool hostile_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  auto harness = std::make_unique<Harness>(input);
  harness->run();
  return 0;
}
