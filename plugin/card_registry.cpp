#include "plugin/card_registry.h"

#include <alsa/asoundlib.h>
#include <pthread.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <system_error>
#include <vector>

#include "plugin/kernel_driver_check.h"
#include "protocol/errors.h"
#include "protocol/vsnd_devices.h"

namespace xensnd::plugin {

struct RegistryState {
  std::mutex mutex;  // the XenStore lock
  std::map<unsigned, std::weak_ptr<SharedCard>> cards;
};

namespace {

std::atomic<uint64_t> g_fork_generation{0};
// Never destroyed: a process exiting with PCMs open leaves the cleanup to the kernel and the
// next owner's stale-state reset, rather than running XenStore traffic from atexit.
std::atomic<RegistryState*> g_registry{nullptr};

void on_fork_child() {
  // The parent's registry (and its mutex, possibly held by a thread that does not exist
  // here) is abandoned on purpose: nothing of it may be used or freed in the child.
  g_fork_generation.fetch_add(1);
  g_registry.store(new RegistryState);
}

RegistryState& registry() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_registry.store(new RegistryState);
    pthread_atfork(nullptr, nullptr, on_fork_child);
  });
  return *g_registry.load();
}

// The card an open without a `device` option means: the lowest id under device/vsnd, or with
// a unique-id the first card that has such a stream. Called under the XenStore lock; the
// store is opened for the look-up only (no watch, so libxenstore starts no thread).
unsigned resolve_device_id(const CardRequest& request) {
  if (request.device_id) return *request.device_id;
  try {
    std::unique_ptr<xenio::XenStore> store = xenio::real_platform()->open_xenstore();
    if (request.unique_id) {
      if (auto id = find_vsnd_device_with_stream(*store, *request.unique_id)) return *id;
      throw FrontendError(ENODEV, "no vsnd device under device/vsnd has a stream with unique-id \"" +
                                      *request.unique_id + "\"");
    }
    const std::vector<unsigned> ids = list_vsnd_devices(*store);
    if (ids.empty())
      throw FrontendError(ENODEV, "no vsnd device under device/vsnd: is a vsnd= card configured for "
                                  "this guest?");
    return ids.front();
  } catch (const std::system_error& error) {
    // xenio's errors name the device node or XenStore path they failed on.
    throw FrontendError(error.code().value(), error.what());
  }
}

}  // namespace

uint64_t current_fork_generation() { return g_fork_generation.load(std::memory_order_relaxed); }

SharedCard::SharedCard(unsigned device_id, uint64_t fork_generation, RegistryState& registry,
                       CardOwnership ownership, std::unique_ptr<xenio::Platform> platform,
                       std::unique_ptr<CardConnection> connection)
    : device_id_(device_id),
      fork_generation_(fork_generation),
      registry_(registry),
      ownership_(std::move(ownership)),
      platform_(std::move(platform)),
      connection_(std::move(connection)) {
  for (const StreamConfig* config : connection_->config().streams()) {
    Stream* inner = connection_->stream(config->pcm_index, config->stream_index);
    if (inner == nullptr) continue;
    streams_.emplace(std::make_pair(config->pcm_index, config->stream_index),
                     std::make_unique<SharedStream>(*inner, [](const std::string& message) {
                       SNDERR("xensnd: warning: %s", message.c_str());
                     }));
  }
}

SharedCard::~SharedCard() = default;

bool SharedCard::in_this_process() const { return fork_generation_ == current_fork_generation(); }

void SharedCard::abandon() noexcept {
  for (auto& [key, stream] : streams_) (void)stream.release();  // NOLINT: the parent's, like the rest
  (void)connection_.release();  // NOLINT: deliberately leaked, it belongs to the parent
  (void)platform_.release();
  ownership_.release();  // closes only the child's copy of the claim
}

bool SharedCard::check_backend() {
  std::lock_guard lock(registry_.mutex);
  return connection_->check_backend();
}

bool SharedCard::claim_stream(size_t pcm_index, size_t stream_index) {
  std::lock_guard lock(registry_.mutex);
  return claimed_streams_.emplace(pcm_index, stream_index).second;
}

void SharedCard::release_stream(size_t pcm_index, size_t stream_index) {
  std::lock_guard lock(registry_.mutex);
  claimed_streams_.erase({pcm_index, stream_index});
}

std::optional<std::optional<HwParamRanges>> SharedCard::cached_query(size_t pcm_index,
                                                                      size_t stream_index) {
  std::lock_guard lock(registry_.mutex);
  auto it = queries_.find({pcm_index, stream_index});
  if (it == queries_.end()) return std::nullopt;
  return it->second;
}

void SharedCard::cache_query(size_t pcm_index, size_t stream_index,
                             std::optional<HwParamRanges> ranges) {
  std::lock_guard lock(registry_.mutex);
  queries_[{pcm_index, stream_index}] = ranges;
}

std::shared_ptr<SharedCard> acquire_card(const CardRequest& request) {
  RegistryState& state = registry();
  // Declared before the lock: if this turns out to be the last reference, its deleter takes
  // the lock itself.
  std::shared_ptr<SharedCard> existing;
  std::unique_lock lock(state.mutex);
  const unsigned device_id = resolve_device_id(request);
  existing = state.cards[device_id].lock();
  if (existing) {
    if (existing->connected()) return existing;
    lock.unlock();
    throw FrontendError(ENODEV, "the backend of vsnd card " + std::to_string(device_id) +
                                    " went away; close this process's other PCMs of the card so "
                                    "it can reconnect");
  }
  refuse_if_kernel_driver_bound(device_id);
  CardOwnership ownership = CardOwnership::claim(device_id);

  std::unique_ptr<xenio::Platform> platform = xenio::real_platform();
  ConnectOptions options;
  options.device_id = device_id;
  options.handshake_timeout = request.handshake_timeout;
  options.response_timeout = request.response_timeout;
  // A live backend answers Closing within milliseconds; a dead one never does, and the
  // application is waiting in snd_pcm_close() (the next open resets a stale card anyway).
  options.teardown_timeout = std::chrono::milliseconds(1000);
  // Warnings go through alsa-lib's error handler, which the host application may redirect
  // (PulseAudio logs it), rather than straight to stderr.
  options.warn = [](const std::string& message) { SNDERR("xensnd: warning: %s", message.c_str()); };
  std::unique_ptr<CardConnection> connection;
  try {
    connection = connect_card(*platform, options);
  } catch (const std::system_error& error) {
    // xenio's errors name the device node or XenStore path they failed on.
    throw FrontendError(error.code().value(), error.what());
  }

  const uint64_t generation = current_fork_generation();
  RegistryState* owner = &state;
  auto card = std::shared_ptr<SharedCard>(
      new SharedCard(device_id, generation, state, std::move(ownership), std::move(platform),
                     std::move(connection)),
      [owner](SharedCard* card) {
        if (!card->in_this_process()) {
          card->abandon();
          delete card;
          return;
        }
        // Disconnecting writes XenStore: under the lock, like every other XenStore use.
        std::lock_guard guard(owner->mutex);
        delete card;
      });
  state.cards[device_id] = card;
  return card;
}

}  // namespace xensnd::plugin
