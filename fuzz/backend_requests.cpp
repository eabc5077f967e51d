// The reference backend's request handler (what one stream's thread does with each request
// from the ring) against any sequence of requests a frontend may send: OPEN with any
// parameters and page directory, READ/WRITE of any range, TRIGGER in any order, volume
// requests, HW_PARAM_QUERY with any ranges, unknown operations; paced or free-running,
// playback or capture, with the thread's waits cut short by the input (a shutdown).
//
// Checked: every request is answered with its own id and operation and a status that is 0
// or one of the Xen errno values the handler documents (or not at all, only when the stream
// was shut down while the request waited); a HW_PARAM_QUERY answer never widens what was
// asked; positions reported are never behind the previous one within an OPEN..CLOSE while
// the device runs forward; nothing crashes, leaks or reads outside the mapped buffer.
#include <fuzzer/FuzzedDataProvider.h>

#include <set>

#include "backend/log.h"
#include "backend/loopback_bus.h"
#include "backend/options.h"
#include "backend/pacing_clock.h"
#include "backend/page_directory.h"
#include "backend/request_handler.h"
#include "backend/xen_status.h"
#include "fuzz/frontend_pages.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/store_script.h"

namespace {

using namespace xensnd::backend;

// The thread's services: waits return at once (and the input may shut the stream down
// instead); the buffer is mapped through the real page-directory walk over fuzzed pages.
class Services final : public StreamServices {
 public:
  Services(FuzzedDataProvider& in, xensnd::fuzz::FrontendPages& pages) : in_(in), pages_(pages) {}
  bool wait_until(int64_t) override {
    // Bounded: a request that waits for the device is shut down after a few rounds.
    if (++waits_ > 64) return false;
    return in_.remaining_bytes() > 0 && in_.ConsumeIntegralInRange<int>(0, 7) != 0;
  }
  void report_position(uint64_t position) override { positions.push_back(position); }
  std::unique_ptr<xenio::MappedPages> map_buffer(xenio::GrantRef directory, uint32_t buffer_bytes) override {
    return map_pcm_buffer(pages_, 1, directory, buffer_bytes);
  }
  void new_request() { waits_ = 0; }
  std::vector<uint64_t> positions;

 private:
  FuzzedDataProvider& in_;
  xensnd::fuzz::FrontendPages& pages_;
  int waits_ = 0;
};

bool within(uint32_t min, uint32_t max, uint32_t asked_min, uint32_t asked_max) {
  return min > max || (min >= asked_min && max <= asked_max);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  // A stream configuration as the toolstack writes it.
  xensnd::StreamConfig config;
  config.type = in.ConsumeBool() ? xensnd::StreamType::kPlayback : xensnd::StreamType::kCapture;
  config.limits.channels_min = in.ConsumeIntegralInRange<uint32_t>(1, 2);
  config.limits.channels_max = in.ConsumeIntegralInRange<uint32_t>(config.limits.channels_min, 8);
  config.limits.rates = in.ConsumeBool() ? std::vector<uint32_t>{44100, 48000} : std::vector<uint32_t>{8000, 192000};
  config.limits.formats = (1u << XENSND_PCM_FORMAT_S16_LE) | (in.ConsumeBool() ? 1u << XENSND_PCM_FORMAT_S32_LE : 0) |
                          (in.ConsumeBool() ? 1u << XENSND_PCM_FORMAT_U8 : 0);
  config.limits.buffer_bytes = in.ConsumeIntegralInRange<uint32_t>(1, 16) * 4096;

  BackendOptions options;
  options.free_run = in.ConsumeBool();
  options.position_after_stop = in.ConsumeBool() ? PositionAfterStop::kRestart : PositionAfterStop::kContinue;
  options.volume_supported = in.ConsumeBool();
  if (in.ConsumeBool()) options.device_buffer_bytes = in.ConsumeIntegralInRange<uint32_t>(0, 1 << 16);

  // The frontend's pages: a well-formed directory for the buffer at 8.. most of the time.
  xensnd::fuzz::FrontendPages pages;
  for (xenio::GrantRef ref = 100; ref < 100 + 16; ++ref) pages.page(ref);
  {
    auto& dir = pages.page(8);
    for (uint32_t i = 0; i < 16; ++i) {
      uint32_t ref = 100 + i;
      std::memcpy(dir.data() + 4 + 4 * i, &ref, 4);
    }
  }
  if (in.ConsumeBool()) xensnd::fuzz::fill_pages(in, pages, 20, in.ConsumeIntegralInRange<uint32_t>(1, 4));

  LoopbackBus loopback;
  Services services(in, pages);
  Log log(LogLevel::kError);
  uint32_t open_counter = 0;
  RequestHandler handler(config, StreamIdentity{1, 0, 0, 0, 0}, open_counter, options, loopback, services, log);

  static const std::set<int32_t> kStatuses = {kStatusOk, kStatusInvalid, kStatusBusy, kStatusIo, kStatusNoMemory,
                                              kStatusUnsupported};
  uint16_t id = 0;
  while (in.remaining_bytes() > 0) {
    xensnd_req req{};
    req.id = id++;
    static constexpr uint8_t kOps[] = {XENSND_OP_OPEN,       XENSND_OP_CLOSE,      XENSND_OP_READ,
                                       XENSND_OP_WRITE,      XENSND_OP_SET_VOLUME, XENSND_OP_GET_VOLUME,
                                       XENSND_OP_MUTE,       XENSND_OP_UNMUTE,     XENSND_OP_TRIGGER,
                                       XENSND_OP_HW_PARAM_QUERY, XENSND_OP_TRIGGER, XENSND_OP_WRITE, XENSND_OP_READ};
    req.operation = in.ConsumeIntegralInRange<int>(0, 15) == 0 ? in.ConsumeIntegral<uint8_t>()
                                                               : kOps[in.ConsumeIntegralInRange<size_t>(0, std::size(kOps) - 1)];
    switch (req.operation) {
      case XENSND_OP_OPEN: {
        auto& o = req.op.open;
        o.pcm_rate = in.ConsumeBool() ? 48000 : in.ConsumeBool() ? 8000 : in.ConsumeIntegral<uint32_t>();
        o.pcm_format = in.ConsumeBool() ? XENSND_PCM_FORMAT_S16_LE : in.ConsumeIntegralInRange<uint8_t>(0, 30);
        o.pcm_channels = in.ConsumeIntegralInRange<uint8_t>(0, 9);
        uint32_t frame = 4 * std::max<uint32_t>(o.pcm_channels, 1);
        o.buffer_sz = in.ConsumeBool() ? frame * in.ConsumeIntegralInRange<uint32_t>(1, 4096) : in.ConsumeIntegral<uint32_t>();
        o.period_sz = in.ConsumeBool() ? frame * in.ConsumeIntegralInRange<uint32_t>(0, 2048) : in.ConsumeIntegral<uint32_t>();
        o.gref_directory = in.ConsumeBool() ? 8 : in.ConsumeIntegralInRange<uint32_t>(0, 30);
        break;
      }
      case XENSND_OP_TRIGGER:
        req.op.trigger.type = in.ConsumeIntegralInRange<int>(0, 15) == 0 ? in.ConsumeIntegral<uint8_t>()
                                                                         : in.ConsumeIntegralInRange<uint8_t>(0, 3);
        break;
      case XENSND_OP_HW_PARAM_QUERY: {
        auto& q = req.op.hw_param;
        q.formats = in.ConsumeBool() ? 0xff : in.ConsumeIntegral<uint64_t>();
        q.rates = {in.ConsumeIntegral<uint32_t>(), in.ConsumeIntegral<uint32_t>()};
        q.channels = {in.ConsumeIntegralInRange<uint32_t>(0, 9), in.ConsumeIntegralInRange<uint32_t>(0, 9)};
        q.buffer = {in.ConsumeIntegral<uint32_t>(), in.ConsumeIntegral<uint32_t>()};
        q.period = {in.ConsumeIntegral<uint32_t>(), in.ConsumeIntegral<uint32_t>()};
        break;
      }
      default:  // READ, WRITE and the volume requests share the rw layout
        req.op.rw.offset = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint32_t>(0, 1 << 16) : in.ConsumeIntegral<uint32_t>();
        req.op.rw.length = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint32_t>(0, 1 << 14) : in.ConsumeIntegral<uint32_t>();
        break;
    }

    services.new_request();
    std::optional<xensnd_resp> resp = handler.handle(req);
    if (resp) {
      FUZZ_CHECK(resp->id == req.id && resp->operation == req.operation);
      FUZZ_CHECK(kStatuses.count(resp->status) == 1);
      if (req.operation == XENSND_OP_HW_PARAM_QUERY && resp->status == 0) {
        const auto& a = resp->resp.hw_param;
        const auto& q = req.op.hw_param;
        FUZZ_CHECK((a.formats & ~q.formats) == 0);
        FUZZ_CHECK(within(a.rates.min, a.rates.max, q.rates.min, q.rates.max));
        FUZZ_CHECK(within(a.channels.min, a.channels.max, q.channels.min, q.channels.max));
      }
    }
    // The thread advances the device on the monotonic clock: now, or up to 2 s late (a later
    // stall is recorded a FIFO at a time, fuzz/findings/README.md, and only costs time).
    if (in.remaining_bytes() > 0 && in.ConsumeBool())
      handler.advance(monotonic_now_ns() + in.ConsumeIntegralInRange<int64_t>(0, 2'000'000'000));
  }
  return 0;
}
