#include "scripted_frontend.h"

#include <poll.h>

#include <cstring>
#include <stdexcept>

namespace backendtest {

ScriptedFrontend::ScriptedFrontend(xenio::DomainId self, xenio::DomainId backend, unsigned devid, size_t streams)
    : self_(self), backend_(backend), streams_(streams) {
  store_ = xenio::open_xenstore();
  sharer_ = xenio::open_grant_sharer();
  channels_ = xenio::open_event_channels();
  frontend_path_ = store_->domain_path(self) + "/device/vsnd/" + std::to_string(devid);
  backend_path_ = store_->domain_path(backend) + "/backend/vsnd/" + std::to_string(self) + "/" + std::to_string(devid);
  store_->watch(backend_path_ + "/state", "backend-state");
}

ScriptedFrontend::~ScriptedFrontend() {
  try {
    store_->unwatch(backend_path_ + "/state", "backend-state");
  } catch (...) {
  }
}

std::string ScriptedFrontend::stream_path(size_t index) const { return frontend_path_ + "/0/" + std::to_string(index); }

void ScriptedFrontend::publish(const std::set<std::string>& skip) {
  for (size_t i = 0; i < streams_.size(); ++i) {
    Stream& s = streams_[i];
    s.ring_page = sharer_->share(backend_, 1, true);
    s.event_page = sharer_->share(backend_, 1, true);
    auto* sring = reinterpret_cast<xen_sndif_sring*>(s.ring_page->data());
    SHARED_RING_INIT(sring);
    FRONT_RING_INIT(&s.ring, sring, xenio::kXenPageSize);
    std::memset(s.event_page->data(), 0, xenio::kXenPageSize);
    s.event_cons = 0;
    s.request_port = xenio::BoundPort(*channels_, channels_->bind_unbound(backend_));
    s.event_port = xenio::BoundPort(*channels_, channels_->bind_unbound(backend_));
    auto put = [&](const char* node, uint32_t value) {
      std::string key = std::to_string(i) + "/" + node;
      if (!skip.count(key)) store_->write(stream_path(i) + "/" + node, std::to_string(value));
    };
    put(XENSND_FIELD_RING_REF, s.ring_page->refs()[0]);
    put(XENSND_FIELD_EVT_CHNL, s.request_port.port());
    put(XENSND_FIELD_EVT_RING_REF, s.event_page->refs()[0]);
    put(XENSND_FIELD_EVT_EVT_CHNL, s.event_port.port());
  }
  set_state(3);  // XenbusStateInitialised
}

void ScriptedFrontend::drop_transport() {
  for (Stream& s : streams_) {
    s.request_port.reset();
    s.event_port.reset();
    s.buffer.reset();
    s.directory.reset();
    s.ring_page.reset();
    s.event_page.reset();
  }
}

void ScriptedFrontend::write_node(const std::string& relative, const std::string& value) {
  store_->write(frontend_path_ + "/" + relative, value);
}

void ScriptedFrontend::set_state(int state) { store_->write(frontend_path_ + "/state", std::to_string(state)); }

std::optional<int> ScriptedFrontend::backend_state() {
  auto text = store_->read(backend_path_ + "/state");
  if (!text) return std::nullopt;
  return std::stoi(*text);
}

bool ScriptedFrontend::wait_backend_state(int state, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    while (store_->next_watch_event()) {
    }
    if (backend_state() == state) return true;
    if (!wait_notification(deadline, true)) return backend_state() == state;
  }
}

bool ScriptedFrontend::wait_notification(std::chrono::steady_clock::time_point deadline, bool watch) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd fds[2] = {{channels_->fd(), POLLIN, 0}, {store_->watch_fd(), POLLIN, 0}};
  int n = poll(fds, watch ? 2 : 1, static_cast<int>(left.count()) + 1);
  if (n <= 0) return false;
  while (auto port = channels_->pending()) channels_->unmask(*port);
  return true;
}

grant_ref_t ScriptedFrontend::share_buffer(size_t stream, uint32_t bytes) {
  Stream& s = streams_.at(stream);
  size_t pages = (bytes + xenio::kXenPageSize - 1) / xenio::kXenPageSize;
  size_t directory_pages = (pages + xensnd::abi::kRefsPerDirectoryPage - 1) / xensnd::abi::kRefsPerDirectoryPage;
  s.buffer = sharer_->share(backend_, pages, true);
  s.directory = sharer_->share(backend_, directory_pages, false);
  for (size_t d = 0; d < directory_pages; ++d) {
    auto* dir = reinterpret_cast<xensnd_page_directory*>(s.directory->data() + d * xenio::kXenPageSize);
    dir->gref_dir_next_page = d + 1 < directory_pages ? s.directory->refs()[d + 1] : 0;
    for (size_t i = 0; i < xensnd::abi::kRefsPerDirectoryPage; ++i) {
      size_t page = d * xensnd::abi::kRefsPerDirectoryPage + i;
      if (page >= pages) break;
      dir->gref[i] = s.buffer->refs()[page];
    }
  }
  return s.directory->refs()[0];
}

std::byte* ScriptedFrontend::buffer(size_t stream) { return streams_.at(stream).buffer->data(); }

uint16_t ScriptedFrontend::send(size_t stream, xensnd_req request) {
  Stream& s = streams_.at(stream);
  request.id = next_id_++;
  std::memcpy(RING_GET_REQUEST(&s.ring, s.ring.req_prod_pvt), &request, sizeof request);
  ++s.ring.req_prod_pvt;
  int notify = 0;
  RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&s.ring, notify);
  if (notify) s.request_port.notify();
  return request.id;
}

std::optional<xensnd_resp> ScriptedFrontend::wait_response(size_t stream, std::chrono::milliseconds timeout) {
  Stream& s = streams_.at(stream);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (RING_HAS_UNCONSUMED_RESPONSES(&s.ring)) {
      xensnd_resp response;
      std::memcpy(&response, RING_GET_RESPONSE(&s.ring, s.ring.rsp_cons), sizeof response);
      ++s.ring.rsp_cons;
      return response;
    }
    int more = 0;
    RING_FINAL_CHECK_FOR_RESPONSES(&s.ring, more);  // re-arms rsp_event: the backend notifies
    if (more) continue;
    if (!wait_notification(deadline)) {
      if (RING_HAS_UNCONSUMED_RESPONSES(&s.ring)) continue;
      return std::nullopt;
    }
  }
}

xensnd_resp ScriptedFrontend::call(size_t stream, const xensnd_req& request, std::chrono::milliseconds timeout) {
  uint16_t id = send(stream, request);
  auto response = wait_response(stream, timeout);
  if (!response) throw std::runtime_error("no response to request " + std::to_string(id));
  return *response;
}

xensnd_event_page* ScriptedFrontend::event_page(size_t stream) {
  return reinterpret_cast<xensnd_event_page*>(streams_.at(stream).event_page->data());
}

std::vector<xensnd_evt> ScriptedFrontend::take_events(size_t stream) {
  Stream& s = streams_.at(stream);
  xensnd_event_page* page = event_page(stream);
  uint32_t prod = std::atomic_ref<uint32_t>(page->in_prod).load(std::memory_order_acquire);
  std::vector<xensnd_evt> events;
  // Bounded: a flooding backend can put prod far ahead; read at most one ring's worth.
  if (prod - s.event_cons > XENSND_IN_RING_LEN) s.event_cons = prod - XENSND_IN_RING_LEN;
  for (; s.event_cons != prod; ++s.event_cons) {
    xensnd_evt event;
    std::memcpy(&event, reinterpret_cast<uint8_t*>(page) + XENSND_IN_RING_OFFS +
                            (s.event_cons % XENSND_IN_RING_LEN) * sizeof event,
                sizeof event);
    events.push_back(event);
  }
  std::atomic_ref<uint32_t>(page->in_cons).store(s.event_cons, std::memory_order_release);
  return events;
}

std::optional<xensnd_evt> ScriptedFrontend::wait_event(size_t stream, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  Stream& s = streams_.at(stream);
  for (;;) {
    uint32_t prod = std::atomic_ref<uint32_t>(event_page(stream)->in_prod).load(std::memory_order_acquire);
    if (prod != s.event_cons) {
      xensnd_evt event;
      std::memcpy(&event, reinterpret_cast<uint8_t*>(event_page(stream)) + XENSND_IN_RING_OFFS +
                              (s.event_cons % XENSND_IN_RING_LEN) * sizeof event,
                  sizeof event);
      ++s.event_cons;
      std::atomic_ref<uint32_t>(event_page(stream)->in_cons).store(s.event_cons, std::memory_order_release);
      return event;
    }
    if (!wait_notification(deadline)) {
      if (std::atomic_ref<uint32_t>(event_page(stream)->in_prod).load() != s.event_cons) continue;
      return std::nullopt;
    }
  }
}

bool ScriptedFrontend::wait_events_pending(size_t stream, uint32_t count, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (event_prod(stream) - event_cons(stream) >= count) return true;
    if (!wait_notification(deadline)) return event_prod(stream) - event_cons(stream) >= count;
  }
}

uint32_t ScriptedFrontend::event_prod(size_t stream) {
  return std::atomic_ref<uint32_t>(event_page(stream)->in_prod).load(std::memory_order_acquire);
}
uint32_t ScriptedFrontend::event_cons(size_t stream) { return streams_.at(stream).event_cons; }

void ScriptedFrontend::set_rsp_event(size_t stream, RING_IDX value) {
  std::atomic_ref<RING_IDX>(streams_.at(stream).ring.sring->rsp_event).store(value, std::memory_order_seq_cst);
}

RING_IDX ScriptedFrontend::shared_rsp_prod(size_t stream) {
  return std::atomic_ref<RING_IDX>(streams_.at(stream).ring.sring->rsp_prod).load(std::memory_order_acquire);
}

void ScriptedFrontend::publish_bogus_req_prod(size_t stream, RING_IDX ahead) {
  Stream& s = streams_.at(stream);
  std::atomic_ref<RING_IDX>(s.ring.sring->req_prod).store(s.ring.req_prod_pvt + ahead, std::memory_order_release);
  s.request_port.notify();
}

bool ScriptedFrontend::notified_within(std::chrono::milliseconds timeout) {
  return wait_notification(std::chrono::steady_clock::now() + timeout);
}

xensnd_req ScriptedFrontend::open_request(uint32_t rate, uint8_t format, uint8_t channels, uint32_t buffer_bytes,
                                          uint32_t period_bytes, grant_ref_t directory) {
  xensnd_req r{};
  r.operation = XENSND_OP_OPEN;
  r.op.open.pcm_rate = rate;
  r.op.open.pcm_format = format;
  r.op.open.pcm_channels = channels;
  r.op.open.buffer_sz = buffer_bytes;
  r.op.open.period_sz = period_bytes;
  r.op.open.gref_directory = directory;
  return r;
}

xensnd_req ScriptedFrontend::rw_request(uint8_t operation, uint32_t offset, uint32_t length) {
  xensnd_req r{};
  r.operation = operation;
  r.op.rw.offset = offset;
  r.op.rw.length = length;
  return r;
}

xensnd_req ScriptedFrontend::trigger_request(uint8_t type) {
  xensnd_req r{};
  r.operation = XENSND_OP_TRIGGER;
  r.op.trigger.type = type;
  return r;
}

xensnd_req ScriptedFrontend::simple_request(uint8_t operation) {
  xensnd_req r{};
  r.operation = operation;
  return r;
}

}  // namespace backendtest
