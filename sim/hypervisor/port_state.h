// The state of one event-channel port end, shared by every process that may touch it: the
// owner (pending/unmask), the peer (notify) and the service (initial pending, notify on
// unmap). One 64-bit word per port in the owning handle's port-state memfd:
//   bits 63..32  generation: bumped by the service when the slot is freed, so a stale peer's
//                notify (or the owner's after an unbind) fails its compare-and-swap and is
//                a no-op, exactly like notifying a port whose peer has gone on Xen;
//   bit 0 kPending    an event arrived while the port was masked (Xen's pending bit);
//   bit 1 kMasked     the port was delivered and stays masked until unmask (Linux's evtchn
//                     device masks on delivery);
//   bit 2 kDelivered  queued for the owner's xenevtchn_pending(); the owner's eventfd
//                     (EFD_SEMAPHORE) counts exactly the ports with this bit set.
// Whoever moves a port to kDelivered writes 1 to the owner's eventfd.
#pragma once

#include <atomic>
#include <cstdint>

namespace simxen::port_state {

using Word = std::atomic<uint64_t>;
static_assert(Word::is_always_lock_free, "the word is shared between processes");

inline constexpr uint64_t kPending = 1;
inline constexpr uint64_t kMasked = 2;
inline constexpr uint64_t kDelivered = 4;

inline uint32_t generation(uint64_t word) { return static_cast<uint32_t>(word >> 32); }
inline uint64_t fresh(uint32_t generation) { return static_cast<uint64_t>(generation) << 32; }

// An event for the port. Returns true when the caller must write 1 to the owner's eventfd.
inline bool raise(Word& word, uint32_t gen) {
  uint64_t old = word.load(std::memory_order_acquire);
  for (;;) {
    if (generation(old) != gen) return false;  // the port is gone: drop, as Xen does
    if (old & kPending) return false;          // one pending bit: coalesce
    uint64_t next = (old & kMasked) ? (old | kPending) : (old | kMasked | kDelivered);
    if (word.compare_exchange_weak(old, next, std::memory_order_acq_rel, std::memory_order_acquire))
      return !(old & kMasked) && !(old & kDelivered);
  }
}

// The owner unmasks. Returns true when a pending event is delivered now (write the eventfd).
inline bool unmask(Word& word, uint32_t gen) {
  uint64_t old = word.load(std::memory_order_acquire);
  for (;;) {
    if (generation(old) != gen || !(old & kMasked)) return false;
    bool deliver = old & kPending;
    uint64_t next = deliver ? ((old & ~kPending) | kDelivered) : (old & ~kMasked);
    if (word.compare_exchange_weak(old, next, std::memory_order_acq_rel, std::memory_order_acquire))
      return deliver && !(old & kDelivered);
  }
}

// The owner consumes a delivered event. Returns true when this port had one.
inline bool take_delivered(Word& word, uint32_t gen) {
  uint64_t old = word.load(std::memory_order_acquire);
  for (;;) {
    if (generation(old) != gen || !(old & kDelivered)) return false;
    if (word.compare_exchange_weak(old, old & ~kDelivered, std::memory_order_acq_rel,
                                   std::memory_order_acquire))
      return true;
  }
}

// The service frees (or reallocates) a slot: new generation, no flags. Returns the old word
// so the owner can settle an event that was delivered but never consumed.
inline uint64_t retire(Word& word) {
  uint64_t old = word.load(std::memory_order_acquire);
  while (!word.compare_exchange_weak(old, fresh(generation(old) + 1), std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
  }
  return old;
}

}  // namespace simxen::port_state
