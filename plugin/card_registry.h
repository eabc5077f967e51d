// The per-process registry of connected vsnd cards: the one piece of process-wide state the
// plugin keeps. Playback and capture PCMs of one card opened by one process share a single
// connection (snd_be binds all streams of a card or none); the last PCM to close disconnects
// it.
//
// Locking: the registry's lock guards only its map and is never held across XenStore traffic
// or a wait. Each card has its own XenStore connection and its own lock for it (libxenstore is
// not ours to use from several threads at once), so a handshake, stale reset or teardown on
// one card (seconds, against a backend that does not answer) never holds up another card's
// audio callbacks. A card being connected or torn down keeps its slot busy: a second open of
// that same card waits for it, bounded by the handshake or teardown timeout.
//
// Fork safety: a forked child gets a fresh, empty registry; the parent's cards are never
// touched from the child (not even disconnected on close), see SharedCard::in_this_process().
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "plugin/card_ownership.h"
#include "protocol/card_connection.h"
#include "protocol/stream.h"
#include "xenio/platform.h"

namespace xensnd::plugin {

class SharedCard {
 public:
  SharedCard(unsigned device_id, uint64_t fork_generation, CardOwnership ownership, std::unique_ptr<xenio::Platform> platform,
             std::unique_ptr<CardConnection> connection);
  ~SharedCard();
  SharedCard(const SharedCard&) = delete;
  SharedCard& operator=(const SharedCard&) = delete;

  unsigned device_id() const { return device_id_; }
  const CardConfig& config() const { return connection_->config(); }
  Stream* stream(size_t pcm_index, size_t stream_index) {
    return connection_->stream(pcm_index, stream_index);
  }
  int watch_fd() const { return connection_->watch_fd(); }
  bool connected() const {
    std::lock_guard lock(mutex_);  // check_backend() changes it
    return connection_->connected();
  }

  // Consumes the card's XenStore watch events under the card's lock; false once the
  // backend left Connected or the device was removed (every stream is then disconnected).
  // Also answers refused claimants that asked who holds the card.
  bool check_backend();

  // One PCM per stream: false when this process already has the stream open.
  bool claim_stream(size_t pcm_index, size_t stream_index);
  void release_stream(size_t pcm_index, size_t stream_index);

  // HW_PARAM_QUERY answers, cached per stream for the connection's life (the backend's
  // abilities do not change while it stays connected). The outer optional is "not asked yet".
  std::optional<std::optional<HwParamRanges>> cached_query(size_t pcm_index, size_t stream_index);
  void cache_query(size_t pcm_index, size_t stream_index, std::optional<HwParamRanges> ranges);

  // False in a forked child: the card belongs to the parent.
  bool in_this_process() const;

  // Forgets the connection without closing it (used in a forked child).
  void abandon() noexcept;

 private:
  unsigned device_id_;
  uint64_t fork_generation_;
  // This card's XenStore connection and the fields below: used by one thread at a time.
  mutable std::mutex mutex_;
  // Destroyed bottom-up: the connection, then the Xen libraries, then the ownership claim.
  CardOwnership ownership_;
  std::unique_ptr<xenio::Platform> platform_;
  std::unique_ptr<CardConnection> connection_;
  std::set<std::pair<size_t, size_t>> claimed_streams_;  // guarded by mutex_
  std::map<std::pair<size_t, size_t>, std::optional<HwParamRanges>> queries_;  // same
};

struct CardRequest {
  // Unset: the first card (lowest id under device/vsnd), or with unique_id the first card
  // that has a stream with that unique-id.
  std::optional<unsigned> device_id;
  std::optional<std::string> unique_id;
  std::chrono::milliseconds handshake_timeout{5000};
  std::chrono::milliseconds response_timeout{3000};
};

// Returns this process's connection to the card, connecting it first if needed (kernel
// driver check, ownership claim, xenbus handshake). Throws FrontendError with a message; a
// card that does not exist is refused with the list of those that do.
std::shared_ptr<SharedCard> acquire_card(const CardRequest& request);

// Incremented in every forked child.
uint64_t current_fork_generation();

}  // namespace xensnd::plugin
