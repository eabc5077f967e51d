#include "plugin/card_registry.h"

#include <alsa/asoundlib.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cerrno>
#include <string>
#include <system_error>
#include <vector>

#include "plugin/kernel_driver_check.h"
#include "protocol/errors.h"
#include "protocol/vsnd_devices.h"

namespace xensnd::plugin {

struct RegistryState {
  // A card's slot is busy from the moment an open starts connecting it until its teardown
  // finished: another open of that card waits on `changed` rather than claiming it twice.
  struct Slot {
    std::weak_ptr<SharedCard> card;
    bool busy = false;
  };
  std::mutex mutex;  // guards the fields below only: never held across XenStore or a wait
  std::condition_variable changed;
  std::map<unsigned, Slot> cards;
  std::set<std::string> debug_notes_shown;
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

// Notes that are normal in production (snd_be publishes no `versions` node): shown only with
// XENSND_DEBUG set in the environment, and each text once per process, not at every open.
void debug_note(RegistryState& state, const std::string& message) {
  const char* debug = std::getenv("XENSND_DEBUG");
  if (debug == nullptr || *debug == '\0') return;
  {
    std::lock_guard lock(state.mutex);
    if (!state.debug_notes_shown.insert(message).second) return;
  }
  SNDERR("xensnd: debug: %s", message.c_str());
}

std::string list_of(const std::vector<unsigned>& ids) {
  std::string text;
  for (unsigned id : ids) text += (text.empty() ? "" : ", ") + std::to_string(id);
  return text;
}

std::string cards_that_exist(xenio::XenStore& store) {
  const std::vector<unsigned> ids = list_vsnd_devices(store);
  if (ids.empty()) return "this guest has no vsnd card under device/vsnd (is a vsnd= card configured for it?)";
  return std::string(ids.size() == 1 ? "the only vsnd card is " : "the vsnd cards are ") + list_of(ids);
}

std::string unique_ids_that_exist(xenio::XenStore& store) {
  const auto ids = list_stream_unique_ids(store);
  if (ids.empty()) return "no stream of any card has a unique-id; " + cards_that_exist(store);
  std::string text = "the unique-ids are ";
  for (size_t i = 0; i < ids.size(); ++i)
    text += (i ? ", \"" : "\"") + ids[i].second + "\" (card " + std::to_string(ids[i].first) + ")";
  return text;
}

// The card an open means: the `device` option, checked to exist; without it the lowest id
// under device/vsnd, or with a unique-id the first card that has such a stream. The store is
// opened for the look-up only (no watch, so libxenstore starts no thread), with no lock held.
unsigned resolve_device_id(const CardRequest& request) {
  try {
    std::unique_ptr<xenio::XenStore> store = xenio::real_platform()->open_xenstore();
    if (request.device_id) {
      const std::vector<unsigned> ids = list_vsnd_devices(*store);
      if (std::find(ids.begin(), ids.end(), *request.device_id) == ids.end())
        throw FrontendError(ENODEV, "option 'device': there is no vsnd card " + std::to_string(*request.device_id) +
                                        " under device/vsnd; " + cards_that_exist(*store));
      return *request.device_id;
    }
    if (request.unique_id) {
      if (auto id = find_vsnd_device_with_stream(*store, *request.unique_id)) return *id;
      throw FrontendError(ENODEV, "option 'unique_id': no vsnd card under device/vsnd has a stream with unique-id \"" +
                                      *request.unique_id + "\"; " + unique_ids_that_exist(*store));
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

SharedCard::SharedCard(unsigned device_id, uint64_t fork_generation, CardOwnership ownership,
                       std::unique_ptr<xenio::Platform> platform, std::unique_ptr<CardConnection> connection)
    : device_id_(device_id),
      fork_generation_(fork_generation),
      ownership_(std::move(ownership)),
      platform_(std::move(platform)),
      connection_(std::move(connection)) {}

SharedCard::~SharedCard() = default;

bool SharedCard::in_this_process() const { return fork_generation_ == current_fork_generation(); }

void SharedCard::abandon() noexcept {
  (void)connection_.release();  // NOLINT: deliberately leaked, it belongs to the parent
  (void)platform_.release();
  ownership_.release();  // closes only the child's copy of the claim
}

bool SharedCard::check_backend() {
  std::lock_guard lock(mutex_);
  ownership_.answer_holder_queries();
  return connection_->check_backend();
}

bool SharedCard::claim_stream(size_t pcm_index, size_t stream_index) {
  std::lock_guard lock(mutex_);
  return claimed_streams_.emplace(pcm_index, stream_index).second;
}

void SharedCard::release_stream(size_t pcm_index, size_t stream_index) {
  std::lock_guard lock(mutex_);
  claimed_streams_.erase({pcm_index, stream_index});
}

std::optional<std::optional<HwParamRanges>> SharedCard::cached_query(size_t pcm_index,
                                                                      size_t stream_index) {
  std::lock_guard lock(mutex_);
  auto it = queries_.find({pcm_index, stream_index});
  if (it == queries_.end()) return std::nullopt;
  return it->second;
}

void SharedCard::cache_query(size_t pcm_index, size_t stream_index,
                             std::optional<HwParamRanges> ranges) {
  std::lock_guard lock(mutex_);
  queries_[{pcm_index, stream_index}] = ranges;
}

namespace {

// Connects the card; runs with the card's slot busy and no lock held.
std::shared_ptr<SharedCard> connect_shared_card(RegistryState& state, unsigned device_id, const CardRequest& request) {
  refuse_if_kernel_driver_bound(device_id);
  std::unique_ptr<xenio::Platform> platform = xenio::real_platform();
  CardOwnership ownership = CardOwnership::claim(device_id, platform->device_lock_path());

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
  options.debug = [&state](const std::string& message) { debug_note(state, message); };
  std::unique_ptr<CardConnection> connection;
  try {
    connection = connect_card(*platform, options);
  } catch (const std::system_error& error) {
    // xenio's errors name the device node or XenStore path they failed on.
    throw FrontendError(error.code().value(), error.what());
  }

  RegistryState* owner = &state;
  return std::shared_ptr<SharedCard>(
      new SharedCard(device_id, current_fork_generation(), std::move(ownership), std::move(platform),
                     std::move(connection)),
      [owner, device_id](SharedCard* card) {
        if (!card->in_this_process()) {
          // `owner` is the parent's registry, abandoned in this child: not touched.
          card->abandon();
          delete card;
          return;
        }
        delete card;  // disconnects, on the card's own XenStore connection
        std::lock_guard guard(owner->mutex);
        owner->cards[device_id].busy = false;
        owner->changed.notify_all();
      });
}

}  // namespace

std::shared_ptr<SharedCard> acquire_card(const CardRequest& request) {
  RegistryState& state = registry();
  const unsigned device_id = resolve_device_id(request);
  // Declared before the lock: if this turns out to be the last reference, its deleter takes
  // the lock itself.
  std::shared_ptr<SharedCard> existing;
  std::unique_lock lock(state.mutex);
  while (true) {
    RegistryState::Slot& slot = state.cards[device_id];
    existing = slot.card.lock();
    if (existing) break;
    if (!slot.busy) {
      slot.busy = true;  // ours to connect
      break;
    }
    // Another thread connects or tears down this card: bounded by its handshake or teardown.
    state.changed.wait(lock);
  }
  if (existing) {
    if (existing->connected()) return existing;
    lock.unlock();
    throw FrontendError(ENODEV, "the backend of vsnd card " + std::to_string(device_id) +
                                    " went away; close this process's other PCMs of the card so "
                                    "it can reconnect");
  }
  lock.unlock();

  std::shared_ptr<SharedCard> card;
  try {
    card = connect_shared_card(state, device_id, request);
  } catch (...) {
    lock.lock();
    state.cards[device_id].busy = false;
    state.changed.notify_all();
    throw;
  }
  lock.lock();
  state.cards[device_id].card = card;  // stays busy until the card's teardown finished
  return card;
}

}  // namespace xensnd::plugin
