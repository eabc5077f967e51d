// The per-process registry of connected vsnd cards: the one piece of process-wide state the
// plugin keeps. Playback and capture PCMs of one card opened by one process share a single
// connection (snd_be binds all streams of a card or none); the last PCM to close disconnects
// it. Every XenStore use (connect, backend checks, disconnect) runs under the registry's one
// lock, because libxenstore is not ours to use from several threads at once.
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
#include "plugin/shared_stream.h"
#include "protocol/card_connection.h"
#include "protocol/stream.h"
#include "xenio/platform.h"

namespace xensnd::plugin {

struct RegistryState;

class SharedCard {
 public:
  SharedCard(unsigned device_id, uint64_t fork_generation, RegistryState& registry,
             CardOwnership ownership, std::unique_ptr<xenio::Platform> platform,
             std::unique_ptr<CardConnection> connection);
  ~SharedCard();
  SharedCard(const SharedCard&) = delete;
  SharedCard& operator=(const SharedCard&) = delete;

  unsigned device_id() const { return device_id_; }
  const CardConfig& config() const { return connection_->config(); }
  // The stream as this process's PCM and CTL share it (serialised, with its mixer).
  SharedStream* stream(size_t pcm_index, size_t stream_index) {
    auto it = streams_.find({pcm_index, stream_index});
    return it == streams_.end() ? nullptr : it->second.get();
  }
  int watch_fd() const { return connection_->watch_fd(); }
  bool connected() const { return connection_->connected(); }

  // Consumes the card's XenStore watch events under the registry lock; false once the
  // backend left Connected or the device was removed (every stream is then disconnected).
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
  RegistryState& registry_;
  // Destroyed bottom-up: the connection, then the Xen libraries, then the ownership claim.
  CardOwnership ownership_;
  std::unique_ptr<xenio::Platform> platform_;
  std::unique_ptr<CardConnection> connection_;
  // Over connection_'s streams; destroyed before it. Built once, then only read.
  std::map<std::pair<size_t, size_t>, std::unique_ptr<SharedStream>> streams_;
  std::set<std::pair<size_t, size_t>> claimed_streams_;  // guarded by registry_.mutex
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
// driver check, ownership claim, xenbus handshake). Throws FrontendError with a message.
std::shared_ptr<SharedCard> acquire_card(const CardRequest& request);

// Incremented in every forked child.
uint64_t current_fork_generation();

}  // namespace xensnd::plugin
