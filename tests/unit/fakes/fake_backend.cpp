#include "tests/unit/fakes/fake_backend.h"

#include <cerrno>
#include <cstring>

namespace xensnd::testing {

void write_toolstack_nodes(FakeXenStore& store, unsigned devid) {
  std::string fe = "/local/domain/1/device/vsnd/" + std::to_string(devid);
  std::string be = "/local/domain/0/backend/vsnd/1/" + std::to_string(devid);
  auto t = store.begin_transaction();
  store.write(be + "/frontend", fe, t);
  store.write(be + "/frontend-id", "1", t);
  store.write(be + "/online", "1", t);
  store.write(be + "/state", "1", t);
  store.write(fe + "/backend", be, t);
  store.write(fe + "/backend-id", "0", t);
  store.write(fe + "/state", "1", t);
  store.write(fe + "/short-name", "VCard", t);
  store.write(fe + "/sample-rates", "44100,48000", t);
  store.write(fe + "/sample-formats", "s16_le,s32_le", t);
  store.write(fe + "/channels-max", "2", t);
  store.write(fe + "/buffer-size", "65536", t);
  store.write(fe + "/0/name", "Main", t);
  store.write(fe + "/0/0/type", "p", t);
  store.write(fe + "/0/0/unique-id", "alsa<default>", t);
  store.commit_transaction(t);
}

FakeBackend::FakeBackend(FakeXenStore& store, FakeGrantTable& grants, FakeEventHub& hub, unsigned devid)
    : store_(store), grants_(grants), hub_(hub), devid_(devid), frontend_state_path_(frontend_path() + "/state") {
  store_.set_change_hook([this](const std::string& path) { on_store_change(path); });
  hub_.set_backend_handler([this](xenio::EventPort port) {
    for (size_t i = 0; i < streams_.size(); ++i)
      if (streams_[i].ring_port == port) serve(i);
  });
}

FakeBackend::~FakeBackend() {
  store_.set_change_hook(nullptr);
  hub_.set_backend_handler(nullptr);
}

std::string FakeBackend::frontend_path() const { return "/local/domain/1/device/vsnd/" + std::to_string(devid_); }
std::string FakeBackend::backend_path() const { return "/local/domain/0/backend/vsnd/1/" + std::to_string(devid_); }

void FakeBackend::set_state(int state) { store_.write(backend_path() + "/state", std::to_string(state)); }
int FakeBackend::state() const { return std::atoi(store_.value(backend_path() + "/state").c_str()); }

void FakeBackend::on_store_change(const std::string& path) {
  // Called on every change of the store: compared with a path built once.
  if (path != frontend_state_path_) return;
  std::string value = store_.value(path);
  if (value.empty()) return;
  int state = std::atoi(value.c_str());
  if (state == last_frontend_state_) return;
  last_frontend_state_ = state;
  on_frontend_state(state);
}

void FakeBackend::on_frontend_state(int state) {
  switch (state) {
    case 1:  // Initialising
      if (!saw_frontend_ && start_transients) {
        set_state(5);
        set_state(6);
        set_state(1);
      }
      saw_frontend_ = true;
      if (this->state() != 4) set_state(2);
      break;
    case 3:  // Initialised: bind everything or stay Closed
      if (never_connect) return;
      if (refuse_connection || !bind_streams()) {
        streams_.clear();
        set_state(6);
        return;
      }
      set_state(4);
      break;
    case 5:
    case 6:
      if (this->state() == 4 || this->state() == 2 || this->state() == 3) {
        streams_.clear();
        set_state(5);
        set_state(6);
        set_state(2);
      }
      break;
    default:
      break;
  }
}

bool FakeBackend::bind_streams() {
  streams_.clear();
  requests.clear();
  // Contiguous PCM and stream indices, all four nodes each, as snd_be insists.
  for (unsigned p = 0;; ++p) {
    std::string pcm = frontend_path() + "/" + std::to_string(p);
    if (!store_.exists(pcm)) break;
    for (unsigned s = 0;; ++s) {
      std::string dir = pcm + "/" + std::to_string(s);
      if (!store_.exists(dir)) break;
      for (const char* node : {"ring-ref", "event-channel", "evt-ring-ref", "evt-event-channel"})
        if (!store_.exists(dir + "/" + node)) return false;
      Stream stream;
      auto ring_page = grants_.lookup(std::stoul(store_.value(dir + "/ring-ref")), kBackendDomain);
      auto event_page = grants_.lookup(std::stoul(store_.value(dir + "/evt-ring-ref")), kBackendDomain);
      stream.ring_port = std::stoul(store_.value(dir + "/event-channel"));
      stream.event_port = std::stoul(store_.value(dir + "/evt-event-channel"));
      if (!ring_page || !event_page || !hub_.is_bound(stream.ring_port) || !hub_.is_bound(stream.event_port) ||
          hub_.remote_of(stream.ring_port) != kBackendDomain)
        return false;
      BACK_RING_INIT(&stream.ring, reinterpret_cast<xen_sndif_sring*>(ring_page), abi::kXenPageSize);
      stream.events = reinterpret_cast<xensnd_event_page*>(event_page);
      streams_.push_back(std::move(stream));
      requests.emplace_back();
    }
  }
  return !streams_.empty();
}

void FakeBackend::serve(size_t index) {
  Stream& s = streams_[index];
  int more = 0;
  do {
    RING_IDX prod = s.ring.sring->req_prod;
    xen_rmb();
    while (s.ring.req_cons != prod) {
      xensnd_req req;
      std::memcpy(&req, RING_GET_REQUEST(&s.ring, s.ring.req_cons), sizeof req);
      ++s.ring.req_cons;
      requests[index].push_back(req);
      if (hold)
        held_.emplace_back(index, req);
      else
        respond(index, handle(index, req));
    }
    RING_FINAL_CHECK_FOR_REQUESTS(&s.ring, more);
  } while (more);
}

void FakeBackend::answer_held(size_t max) {
  for (size_t n = 0; n < max && !held_.empty(); ++n) {
    auto [index, req] = held_.front();
    held_.pop_front();
    respond(index, handle(index, req));
  }
}

xensnd_resp FakeBackend::handle(size_t index, const xensnd_req& req) {
  Stream& s = streams_[index];
  xensnd_resp resp{};
  resp.id = req.id;
  resp.operation = req.operation;
  resp.status = 0;
  switch (req.operation) {
    case XENSND_OP_OPEN: {
      s.buffer_pages.clear();
      uint32_t pages = (req.op.open.buffer_sz + 4095) / 4096;
      grant_ref_t dir_ref = req.op.open.gref_directory;
      while (s.buffer_pages.size() < pages) {
        auto grant = grants_.grant(dir_ref);
        if (!grant || grant->peer != kBackendDomain || !grant->writable) {
          resp.status = -EINVAL;
          break;
        }
        const std::byte* dir = grant->page;
        grant_ref_t next;
        std::memcpy(&next, dir, sizeof next);
        for (size_t i = 0; i < abi::kRefsPerDirectoryPage && s.buffer_pages.size() < pages; ++i) {
          grant_ref_t ref;
          std::memcpy(&ref, dir + 4 + 4 * i, sizeof ref);
          auto page = grants_.grant(ref);
          if (!page || !page->writable) {
            resp.status = -EINVAL;
            break;
          }
          s.buffer_pages.push_back(page->page);
        }
        if (resp.status) break;
        dir_ref = next;
        if (s.buffer_pages.size() < pages && next == 0) resp.status = -EINVAL;
      }
      s.buffer_bytes = req.op.open.buffer_sz;
      s.open = resp.status == 0;
      s.channels = req.op.open.pcm_channels;
      s.volume.assign(s.channels, 0);
      s.muted.assign(s.channels, false);
      break;
    }
    case XENSND_OP_CLOSE:
      s.open = false;
      s.buffer_pages.clear();
      break;
    case XENSND_OP_WRITE:
    case XENSND_OP_READ: {
      uint64_t end = uint64_t{req.op.rw.offset} + req.op.rw.length;
      if (!s.open || end > s.buffer_bytes) {
        resp.status = -EINVAL;
        break;
      }
      for (uint64_t i = req.op.rw.offset; i < end; ++i) {
        std::byte* b = s.buffer_pages[i / 4096] + i % 4096;
        if (req.operation == XENSND_OP_WRITE)
          s.played.push_back(static_cast<uint8_t>(*b));
        else
          *b = static_cast<std::byte>(i & 0xff);
      }
      break;
    }
    case XENSND_OP_TRIGGER:
      break;
    case XENSND_OP_SET_VOLUME:
    case XENSND_OP_GET_VOLUME:
    case XENSND_OP_MUTE:
    case XENSND_OP_UNMUTE: {
      // Volumes: one int32 per channel; mute flags: one byte per channel (sndif.h's text).
      const bool volume = req.operation == XENSND_OP_SET_VOLUME || req.operation == XENSND_OP_GET_VOLUME;
      const uint64_t end = uint64_t{req.op.rw.offset} + req.op.rw.length;
      if (refuse_volume || !s.open || end > s.buffer_bytes || req.op.rw.length != s.channels * (volume ? 4u : 1u)) {
        resp.status = -EINVAL;
        break;
      }
      auto cell = [&](uint64_t i) { return s.buffer_pages[i / 4096] + i % 4096; };
      for (uint32_t c = 0; c < s.channels; ++c) {
        if (req.operation == XENSND_OP_GET_VOLUME) {
          for (uint32_t b = 0; b < 4; ++b)
            *cell(req.op.rw.offset + c * 4 + b) = static_cast<std::byte>(static_cast<uint32_t>(s.volume[c]) >> (8 * b));
        } else if (req.operation == XENSND_OP_SET_VOLUME) {
          uint32_t v = 0;
          for (uint32_t b = 0; b < 4; ++b) v |= uint32_t{static_cast<uint8_t>(*cell(req.op.rw.offset + c * 4 + b))} << (8 * b);
          s.volume[c] = static_cast<int32_t>(v);
        } else if (*cell(req.op.rw.offset + c) != std::byte{0}) {
          s.muted[c] = req.operation == XENSND_OP_MUTE;
        }
      }
      break;
    }
    case XENSND_OP_HW_PARAM_QUERY:
      if (hw_param_answer) {
        resp.resp.hw_param = hw_param_answer(req.op.hw_param);
      } else {
        resp.resp.hw_param = req.op.hw_param;
        resp.resp.hw_param.rates.max = 192000;
      }
      break;
    default:
      resp.status = -EINVAL;
  }
  if (answer_hook) {
    std::optional<xensnd_resp> replaced = answer_hook(index, req, resp);
    if (!replaced) return xensnd_resp{0xffff, 0xff, 0, 0, {}};  // marker: do not answer
    resp = *replaced;
  }
  return resp;
}

void FakeBackend::respond(size_t index, const xensnd_resp& response) {
  if (response.id == 0xffff && response.operation == 0xff) return;
  push_raw_response(index, response);
}

void FakeBackend::push_raw_response(size_t index, const xensnd_resp& response) {
  Stream& s = streams_[index];
  std::memcpy(RING_GET_RESPONSE(&s.ring, s.ring.rsp_prod_pvt), &response, sizeof response);
  ++s.ring.rsp_prod_pvt;
  int notify = 0;
  RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&s.ring, notify);
  if (notify || always_notify) {
    ++notifications_sent;
    hub_.notify_frontend(s.ring_port);
  }
}

void FakeBackend::bump_rsp_prod(size_t index, uint32_t count) {
  Stream& s = streams_[index];
  s.ring.rsp_prod_pvt += count;
  s.ring.sring->rsp_prod = s.ring.rsp_prod_pvt;
  hub_.notify_frontend(s.ring_port);
}

void FakeBackend::send_position(size_t index, uint64_t position, uint8_t type) {
  Stream& s = streams_[index];
  uint32_t prod = s.events->in_prod;
  xensnd_evt evt{};
  evt.id = s.next_event_id++;
  evt.type = type;
  evt.op.cur_pos.position = position;
  std::memcpy(&XENSND_IN_RING_REF(s.events, prod), &evt, sizeof evt);
  xen_wmb();
  s.events->in_prod = prod + 1;
  hub_.notify_frontend(s.event_port);
}

void FakeBackend::set_in_prod(size_t index, uint32_t value, bool notify) {
  Stream& s = streams_[index];
  s.events->in_prod = value;
  if (notify) hub_.notify_frontend(s.event_port);
}

namespace {

// Every call goes to the shared fake; separate handles of a real process would share
// xenstored the same way.
class XenStoreView final : public xenio::XenStore {
 public:
  explicit XenStoreView(FakeXenStore& store) : s_(store) {}
  std::optional<std::string> read(std::string_view p, Transaction t) override { return s_.read(p, t); }
  void write(std::string_view p, std::string_view v, Transaction t) override { s_.write(p, v, t); }
  void mkdir(std::string_view p, Transaction t) override { s_.mkdir(p, t); }
  void remove(std::string_view p, Transaction t) override { s_.remove(p, t); }
  std::optional<std::vector<std::string>> directory(std::string_view p, Transaction t) override {
    return s_.directory(p, t);
  }
  std::vector<xenio::XenStorePermission> permissions(std::string_view p, Transaction t) override {
    return s_.permissions(p, t);
  }
  void set_permissions(std::string_view p, const std::vector<xenio::XenStorePermission>& perms,
                       Transaction t) override {
    s_.set_permissions(p, perms, t);
  }
  Transaction begin_transaction() override { return s_.begin_transaction(); }
  bool commit_transaction(Transaction t) override { return s_.commit_transaction(t); }
  void abort_transaction(Transaction t) override { s_.abort_transaction(t); }
  void watch(std::string_view p, std::string_view tok) override { s_.watch(p, tok); }
  void unwatch(std::string_view p, std::string_view tok) override { s_.unwatch(p, tok); }
  int watch_fd() const override { return s_.watch_fd(); }
  std::optional<xenio::XenStoreWatchEvent> next_watch_event() override { return s_.next_watch_event(); }
  std::string domain_path(xenio::DomainId d) override { return s_.domain_path(d); }

 private:
  FakeXenStore& s_;
};

}  // namespace

std::unique_ptr<xenio::XenStore> FakePlatform::open_xenstore() { return std::make_unique<XenStoreView>(store_); }

}  // namespace xensnd::testing
