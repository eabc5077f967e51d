// SndifStream against the in-process backend, including a hostile one.
#include "protocol/stream.h"

#include <gmock/gmock.h>

#include <poll.h>

#include <cstdlib>
#include <new>

#include "protocol/errors.h"
#include "protocol/sndif_stream.h"
#include "tests/unit/connected_card_fixture.h"

// Heap allocations made by this thread while `g_count_allocations` is set: the audio path
// is measured with everything the fakes do switched off (see ProbedEventChannels).
namespace {
thread_local bool g_count_allocations = false;
thread_local int g_allocations = 0;
}  // namespace

// Out of line: inlined into callers, GCC's -Wmismatched-new-delete sees malloc's pointer
// reach free() through `delete` and fails the optimised build.
[[gnu::noinline]] void* operator new(size_t size) {
  if (g_count_allocations) ++g_allocations;
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace xensnd::testing {
namespace {

// Turns allocation counting off while fake (backend) code runs.
class NotCounted {
 public:
  NotCounted() : saved_(g_count_allocations) { g_count_allocations = false; }
  ~NotCounted() { g_count_allocations = saved_; }

 private:
  bool saved_;
};

using ::testing::AllOf;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

class StreamTest : public ConnectedCardTest {
 protected:
  void SetUp() override {
    ConnectedCardTest::SetUp();
    connect();
    open_default();
  }
  // Fills `length` bytes at `offset` with a pattern and sends a WRITE.
  void write(uint32_t offset, uint32_t length, uint8_t seed = 1) {
    auto buf = stream0().buffer();
    for (uint32_t i = 0; i < length; ++i) buf[offset + i] = static_cast<std::byte>(seed + i);
    stream0().send_write(offset, length);
  }
  void start() { stream0().trigger(Trigger::kStart); }
  template <typename E>
  std::string expect_throw(const std::function<void()>& f) {
    try {
      f();
    } catch (const E& e) {
      return e.what();
    }
    ADD_FAILURE() << "nothing thrown";
    return {};
  }
  xensnd_resp answer_for(const xensnd_req& req, int32_t status = 0) {
    xensnd_resp r{};
    r.id = req.id;
    r.operation = req.operation;
    r.status = status;
    return r;
  }
};

TEST_F(StreamTest, OpenSendsTheBufferThroughThePageDirectory) {
  ASSERT_EQ(backend.requests[0].size(), 1u);
  const xensnd_req& open = backend.requests[0][0];
  EXPECT_EQ(open.operation, XENSND_OP_OPEN);
  EXPECT_EQ(open.op.open.pcm_rate, 48000u);
  EXPECT_EQ(open.op.open.pcm_format, XENSND_PCM_FORMAT_S16_LE);
  EXPECT_EQ(open.op.open.pcm_channels, 2);
  EXPECT_EQ(open.op.open.buffer_sz, 16384u);
  EXPECT_EQ(open.op.open.period_sz, 4096u);
  EXPECT_TRUE(backend.stream(0).open);  // the backend walked the directory successfully
  EXPECT_EQ(backend.stream(0).buffer_pages.size(), 4u);
  EXPECT_EQ(stream0().buffer().size(), 16384u);
}

TEST_F(StreamTest, WritesReachTheBackendInOrder) {
  write(0, 4096, 1);
  write(4096, 4096, 7);
  EXPECT_EQ(stream0().in_flight(), 2u);
  stream0().process();
  EXPECT_EQ(stream0().in_flight(), 0u);
  EXPECT_EQ(stream0().completed_write_bytes(), 8192u);
  ASSERT_EQ(backend.stream(0).played.size(), 8192u);
  EXPECT_EQ(backend.stream(0).played[0], 1);
  EXPECT_EQ(backend.stream(0).played[4096], 7);
}

TEST_F(StreamTest, IdsAreFreshPerRequest) {
  write(0, 1024);
  write(1024, 1024);
  start();
  const auto& reqs = backend.requests[0];
  ASSERT_EQ(reqs.size(), 4u);
  std::set<uint16_t> ids;
  for (const auto& r : reqs) ids.insert(r.id);
  EXPECT_EQ(ids.size(), reqs.size());
}

TEST_F(StreamTest, WriteOutsideTheBufferIsRefusedLocally) {
  EXPECT_THAT(expect_throw<RequestFailedError>([&] { stream0().send_write(16000, 1000); }), HasSubstr("outside"));
  EXPECT_THROW(stream0().send_write(0, 0), RequestFailedError);
  EXPECT_THROW(stream0().send_write(0xffffffffu, 2), RequestFailedError);  // no 32-bit wrap
  EXPECT_THROW(stream0().send_read(0, 16), RequestFailedError);          // playback stream
  EXPECT_EQ(backend.requests[0].size(), 1u);                              // only OPEN went out
}

TEST_F(StreamTest, OneSlotStaysFreeForControlRequests) {
  // The backend never answers WRITEs; TRIGGER must still get through.
  backend.answer_hook = [](size_t, const xensnd_req& req, xensnd_resp def) -> std::optional<xensnd_resp> {
    if (req.operation == XENSND_OP_WRITE) return std::nullopt;
    return def;
  };
  size_t sent = 0;
  while (stream0().free_slots() > 0) {
    stream0().send_write(0, 64);
    ++sent;
  }
  EXPECT_EQ(sent, 31u);  // 32-entry ring, one kept back
  EXPECT_THROW(stream0().send_write(0, 64), RequestFailedError);
  start();
  EXPECT_FALSE(stream0().disconnected());
}

TEST_F(StreamTest, TriggerFollowsTheBackendsState) {
  EXPECT_THAT(expect_throw<RequestFailedError>([&] { stream0().trigger(Trigger::kResume); }), HasSubstr("stopped"));
  size_t before = backend.requests[0].size();
  stream0().trigger(Trigger::kStop);  // nothing runs: no request
  EXPECT_EQ(backend.requests[0].size(), before);
  start();
  EXPECT_THAT(expect_throw<RequestFailedError>([&] { start(); }), HasSubstr("running"));
  stream0().trigger(Trigger::kPause);
  stream0().trigger(Trigger::kResume);
  stream0().trigger(Trigger::kStop);
  start();
  const auto& reqs = backend.requests[0];
  std::vector<uint8_t> types;
  for (const auto& r : reqs)
    if (r.operation == XENSND_OP_TRIGGER) types.push_back(r.op.trigger.type);
  EXPECT_EQ(types, (std::vector<uint8_t>{XENSND_OP_TRIGGER_START, XENSND_OP_TRIGGER_PAUSE,
                                          XENSND_OP_TRIGGER_RESUME, XENSND_OP_TRIGGER_STOP,
                                          XENSND_OP_TRIGGER_START}));
}

TEST_F(StreamTest, ManySequentialRequestsAgainstANotifyOnRequestBackend) {
  // The backend notifies only when rsp_event asks; a frontend that does not re-arm it
  // stalls on the second request and times out.
  ASSERT_FALSE(backend.always_notify);
  int notified_before = backend.notifications_sent;
  for (int i = 0; i < 50; ++i) {
    start();
    stream0().trigger(Trigger::kStop);
  }
  EXPECT_FALSE(stream0().disconnected());
  // Every START is awaited; a STOP is not (its answer may share the START's notification).
  EXPECT_GE(backend.notifications_sent - notified_before, 50);
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

TEST_F(StreamTest, WaitingWithAWriteOutstandingArmsItsNotification) {
  start();
  stream0().process();
  backend.hold = true;
  // Negative control: streaming consumes answers without asking for a notification, so
  // one answered while nobody waits wakes nobody.
  write(0, 4096);
  int notified = backend.notifications_sent;
  backend.answer_held();
  EXPECT_EQ(backend.notifications_sent, notified);
  EXPECT_FALSE(readable(stream0().poll_fd()));
  stream0().process();
  EXPECT_EQ(stream0().completed_write_bytes(), 4096u);
  // A caller that waits for the answer is woken by it.
  write(4096, 4096);
  stream0().wait(1ms);  // nothing comes yet: the WRITE is held
  EXPECT_EQ(stream0().completed_write_bytes(), 4096u);
  backend.answer_held();
  EXPECT_EQ(backend.notifications_sent, notified + 1);
  EXPECT_TRUE(readable(stream0().poll_fd()));
  stream0().wait(1s);
  EXPECT_EQ(stream0().completed_write_bytes(), 8192u);
}

TEST_F(StreamTest, ArmingReportsAnswersThatCameFirstInsteadOfSleepingOnThem) {
  start();
  stream0().process();
  write(0, 4096);  // answered at once, without a notification
  EXPECT_FALSE(readable(stream0().poll_fd()));
  EXPECT_TRUE(stream0().arm_response_notification());  // sleeping now would miss it
  stream0().process();
  EXPECT_EQ(stream0().completed_write_bytes(), 4096u);
  EXPECT_FALSE(stream0().arm_response_notification());
  write(4096, 4096);  // answered after the arm: notified
  EXPECT_TRUE(readable(stream0().poll_fd()));
  stream0().wait(1s);
  EXPECT_EQ(stream0().completed_write_bytes(), 8192u);
}

TEST_F(StreamTest, BogusResponseIdIsAProtocolViolation) {
  backend.answer_hook = [](size_t, const xensnd_req&, xensnd_resp def) -> std::optional<xensnd_resp> {
    def.id ^= 0x5a5a;
    return def;
  };
  EXPECT_THAT(expect_throw<BackendGoneError>([&] { start(); }), HasSubstr("unknown request id"));
  EXPECT_TRUE(stream0().disconnected());
  EXPECT_THROW(stream0().process(), BackendGoneError);
  EXPECT_EQ(stream0().free_slots(), 0u);
}

TEST_F(StreamTest, WrongOperationIsAProtocolViolation) {
  backend.answer_hook = [](size_t, const xensnd_req&, xensnd_resp def) -> std::optional<xensnd_resp> {
    def.operation = XENSND_OP_OPEN;
    return def;
  };
  EXPECT_THAT(expect_throw<BackendGoneError>([&] { start(); }), HasSubstr("as OPEN"));
}

TEST_F(StreamTest, RspProdPastTheRequestsIsAProtocolViolation) {
  backend.bump_rsp_prod(0, 1000000);
  EXPECT_THAT(expect_throw<BackendGoneError>([&] { stream0().process(); }), HasSubstr("rsp_prod"));
}

TEST_F(StreamTest, UnexpectedStatusBecomesEioWithTheRawValue) {
  backend.answer_hook = [](size_t, const xensnd_req& req, xensnd_resp def) -> std::optional<xensnd_resp> {
    if (req.operation == XENSND_OP_WRITE) def.status = -EPIPE;
    if (req.operation == XENSND_OP_TRIGGER) def.status = -EAGAIN;
    return def;
  };
  try {
    start();
    FAIL();
  } catch (const RequestFailedError& e) {
    EXPECT_EQ(e.errno_value(), EIO);
    EXPECT_THAT(e.what(), HasSubstr(std::to_string(-EAGAIN)));
  }
  write(0, 64);
  try {
    stream0().process();
    FAIL();
  } catch (const RequestFailedError& e) {
    EXPECT_EQ(e.errno_value(), EIO);
    EXPECT_THAT(e.what(), HasSubstr(std::to_string(-EPIPE)));
  }
  EXPECT_FALSE(stream0().disconnected());  // an error answer is not a broken protocol
  EXPECT_EQ(stream0().completed_write_bytes(), 0u);
}

TEST_F(StreamTest, RefusalsNameTheStreamAndWhatWasAsked) {
  backend.answer_hook = [](size_t, const xensnd_req& req, xensnd_resp def) -> std::optional<xensnd_resp> {
    if (req.operation != XENSND_OP_CLOSE) def.status = -EINVAL;
    return def;
  };
  std::string open_error = expect_throw<RequestFailedError>([&] { open_default(); });
  EXPECT_THAT(open_error, HasSubstr("alsa<default>"));
  EXPECT_THAT(open_error, HasSubstr("48000 Hz"));
  EXPECT_THAT(open_error, HasSubstr("s16_le"));
  EXPECT_THAT(open_error, HasSubstr("16384"));
  backend.answer_hook = nullptr;
  open_default();
  backend.answer_hook = [](size_t, const xensnd_req&, xensnd_resp def) -> std::optional<xensnd_resp> {
    def.status = -EINVAL;
    return def;
  };
  std::string trigger_error = expect_throw<RequestFailedError>([&] { start(); });
  EXPECT_THAT(trigger_error, HasSubstr("alsa<default>"));
  EXPECT_THAT(trigger_error, HasSubstr("START"));
  write(0, 64);
  EXPECT_THAT(expect_throw<RequestFailedError>([&] { stream0().process(); }), HasSubstr("alsa<default>"));
}

TEST_F(StreamTest, ExpectedErrorStatusIsPassedOn) {
  backend.answer_hook = [](size_t, const xensnd_req&, xensnd_resp def) -> std::optional<xensnd_resp> {
    def.status = -EBUSY;
    return def;
  };
  try {
    start();
    FAIL();
  } catch (const RequestFailedError& e) {
    EXPECT_EQ(e.errno_value(), EBUSY);
  }
}

TEST_F(StreamTest, UnansweredRequestTimesOut) {
  backend.hold = true;
  auto begin = std::chrono::steady_clock::now();
  EXPECT_THAT(expect_throw<BackendGoneError>([&] { start(); }), HasSubstr("did not answer TRIGGER"));
  EXPECT_GE(std::chrono::steady_clock::now() - begin, 300ms);
  EXPECT_TRUE(stream0().disconnected());
}

TEST_F(StreamTest, HwParamQueryIsIntersectedWithTheRequest) {
  HwParamRanges request;
  request.formats = uint64_t{1} << XENSND_PCM_FORMAT_S16_LE;
  request.rates = {44100, 48000};
  request.channels = {1, 2};
  request.buffer_frames = {64, 4096};
  request.period_frames = {32, 1024};
  std::optional<HwParamRanges> answer = stream0().query_hw_params(request);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->rates, (Interval{44100, 48000}));  // not the device's 192000
  EXPECT_EQ(*answer, request);
}

TEST_F(StreamTest, HwParamQueryEmptyIntersectionIsEinval) {
  backend.hw_param_answer = [](const xensnd_query_hw_param& q) {
    xensnd_query_hw_param a = q;
    a.rates = {96000, 192000};
    return a;
  };
  HwParamRanges request{uint64_t{1} << XENSND_PCM_FORMAT_S16_LE, {44100, 48000}, {1, 2}, {64, 4096}, {32, 1024}};
  try {
    stream0().query_hw_params(request);
    FAIL();
  } catch (const RequestFailedError& e) {
    EXPECT_EQ(e.errno_value(), EINVAL);
    EXPECT_THAT(e.what(), HasSubstr("96000-192000"));
  }
}

TEST_F(StreamTest, HwParamQueryNotImplemented) {
  backend.answer_hook = [](size_t, const xensnd_req&, xensnd_resp def) -> std::optional<xensnd_resp> {
    def.status = -ENOSYS;
    return def;
  };
  EXPECT_FALSE(stream0().query_hw_params({~uint64_t{0}, {1, 1000000}, {1, 8}, {1, 100000}, {1, 100000}}));
}

TEST_F(StreamTest, PositionsFollowCurPos) {
  write(0, 16384);
  start();
  backend.send_position(0, 4096);
  backend.send_position(0, 8192);
  stream0().process();
  EXPECT_EQ(stream0().position_bytes(), 8192u);
  EXPECT_GT(stream0().position_time().time_since_epoch().count(), 0);
}

TEST_F(StreamTest, ProcessKeepingNotificationsLeavesThePollFdReadableUntilTaken) {
  write(0, 16384);
  start();
  stream0().process();
  ASSERT_FALSE(readable(stream0().poll_fd()));
  const uint64_t taken_before = stream0().notifications_taken();
  backend.send_position(0, 4096);
  stream0().process_keeping_notifications();
  EXPECT_EQ(stream0().position_bytes(), 4096u);  // the event is consumed ...
  EXPECT_TRUE(readable(stream0().poll_fd()));    // ... and its notification still pending
  EXPECT_EQ(stream0().notifications_taken(), taken_before);
  EXPECT_EQ(stream0().take_notifications(), 1u);
  EXPECT_FALSE(readable(stream0().poll_fd()));
  EXPECT_EQ(stream0().notifications_taken(), taken_before + 1);
  EXPECT_EQ(stream0().take_notifications(), 0u);  // nothing more: the count stays
  EXPECT_EQ(stream0().notifications_taken(), taken_before + 1);
  // After the take, the next event is notified again.
  backend.send_position(0, 8192);
  EXPECT_TRUE(readable(stream0().poll_fd()));
}

TEST_F(StreamTest, UnconsumedNotifiedCountsEventsAndOnlyArmedResponses) {
  start();
  stream0().process();
  EXPECT_FALSE(stream0().has_unconsumed_notified());
  // An answer nobody asked to be notified of: not announced by any notification.
  write(0, 4096);
  EXPECT_FALSE(stream0().has_unconsumed_notified());
  stream0().process();
  // An event is.
  backend.send_position(0, 2048);
  EXPECT_TRUE(stream0().has_unconsumed_notified());
  stream0().process_keeping_notifications();
  EXPECT_FALSE(stream0().has_unconsumed_notified());
  // So is an answer while its notification is armed.
  backend.hold = true;
  write(4096, 4096);
  ASSERT_FALSE(stream0().arm_response_notification());
  EXPECT_FALSE(stream0().has_unconsumed_notified());
  backend.answer_held();
  EXPECT_TRUE(stream0().has_unconsumed_notified());
  stream0().process();
  EXPECT_FALSE(stream0().has_unconsumed_notified());
}

TEST_F(StreamTest, PositionGoingBackwardsIsReBasedNotADisconnection) {
  write(0, 8192);
  start();
  backend.send_position(0, 8192);
  stream0().process();
  backend.send_position(0, 4096);
  stream0().process();
  EXPECT_FALSE(stream0().disconnected());
  EXPECT_EQ(stream0().position_bytes(), 8192u);
  EXPECT_EQ(stream0().position_rebases(), 1u);
  EXPECT_THAT(stream0().last_position_anomaly(), HasSubstr("backwards"));
}

TEST_F(StreamTest, PositionAheadOfWrittenIsAnUnderrunNotADisconnection) {
  write(0, 4096);
  start();
  backend.send_position(0, 4097);
  stream0().process();
  EXPECT_FALSE(stream0().disconnected());
  EXPECT_EQ(stream0().positions_ahead(), 1u);
  EXPECT_EQ(stream0().position_bytes(), 4096u);
  EXPECT_THAT(stream0().last_position_anomaly(), AllOf(HasSubstr("ahead"), HasSubstr("stream 0/0")));
}

TEST_F(StreamTest, HugePositionIsNotACrash) {
  write(0, 4096);
  start();
  backend.send_position(0, ~uint64_t{0});
  EXPECT_NO_THROW(stream0().process());
  EXPECT_LE(stream0().position_bytes(), 4096u);
}

TEST_F(StreamTest, PositionsImpossibleOverAndOverDisconnect) {
  write(0, 8192);
  start();
  backend.send_position(0, 8192);
  stream0().process();
  std::string reason;
  for (unsigned i = 0; i <= PositionTracker::kMaxRebasesInARow && reason.empty(); ++i) {
    backend.send_position(0, 100 - i);
    try {
      stream0().process();
    } catch (const BackendGoneError& e) {
      reason = e.what();
    }
  }
  EXPECT_THAT(reason, AllOf(HasSubstr("bad CUR_POS"), HasSubstr("in a row")));
}

TEST_F(StreamTest, EventsQueuedBeforeStopResponseAreDiscarded) {
  write(0, 16384);
  start();
  backend.answer_hook = [this](size_t, const xensnd_req& req, xensnd_resp def) -> std::optional<xensnd_resp> {
    // A period fired while STOP was being handled: queued before the response.
    if (req.operation == XENSND_OP_TRIGGER && req.op.trigger.type == XENSND_OP_TRIGGER_STOP)
      backend.send_position(0, 12288);
    return def;
  };
  stream0().trigger(Trigger::kStop);
  stream0().process();
  EXPECT_EQ(stream0().position_bytes(), 0u);
  EXPECT_FALSE(stream0().disconnected());
}

TEST_F(StreamTest, PauseDiscardsQueuedEventsAndResumeKeepsCounting) {
  write(0, 16384);
  start();
  backend.send_position(0, 4096);
  stream0().process();
  backend.answer_hook = [this](size_t, const xensnd_req& req, xensnd_resp def) -> std::optional<xensnd_resp> {
    if (req.operation == XENSND_OP_TRIGGER && req.op.trigger.type == XENSND_OP_TRIGGER_PAUSE)
      backend.send_position(0, 8192);  // queued before the PAUSE response
    return def;
  };
  stream0().trigger(Trigger::kPause);
  stream0().process();
  EXPECT_EQ(stream0().position_bytes(), 4096u);
  stream0().trigger(Trigger::kResume);
  backend.send_position(0, 12288);
  stream0().process();
  EXPECT_EQ(stream0().position_bytes(), 12288u);
}

TEST_F(StreamTest, EventsWhileStoppedAreIgnored) {
  write(0, 4096);
  backend.send_position(0, 1u << 30);  // nothing runs: not a position of ours
  stream0().process();
  EXPECT_EQ(stream0().position_bytes(), 0u);
  EXPECT_FALSE(stream0().disconnected());
}

TEST_F(StreamTest, EpochsRestartAtZero) {
  // snd_be's ALSA path: the counter restarts after STOP.
  write(0, 16384);
  start();
  backend.send_position(0, 16384);
  stream0().process();
  stream0().trigger(Trigger::kStop);
  write(0, 8192);
  start();
  backend.send_position(0, 4096);
  stream0().process();
  EXPECT_EQ(stream0().position_bytes(), 4096u);
  backend.send_position(0, 8192);
  stream0().process();
  EXPECT_EQ(stream0().position_bytes(), 8192u);
}

TEST_F(StreamTest, EpochsKeepCounting) {
  // snd_be's PulseAudio path: the counter goes on across STOP.
  write(0, 16384);
  start();
  backend.send_position(0, 16384);
  stream0().process();
  stream0().trigger(Trigger::kStop);
  write(0, 8192);
  start();
  backend.send_position(0, 16384 + 4096);
  stream0().process();
  EXPECT_EQ(stream0().position_bytes(), 4096u);
  backend.send_position(0, 16384 + 8192);
  stream0().process();
  EXPECT_EQ(stream0().position_bytes(), 8192u);
}

TEST_F(StreamTest, UnknownEventTypesAreIgnored) {
  write(0, 16384);
  start();
  backend.send_position(0, 4096);
  backend.send_position(0, 999999, /*type=*/7);
  stream0().process();
  EXPECT_EQ(stream0().position_bytes(), 4096u);
  EXPECT_FALSE(stream0().disconnected());
}

TEST_F(StreamTest, EventOverrunTakesTheNewestPosition) {
  for (int i = 0; i < 4; ++i) write(4096 * i, 4096);
  for (int i = 0; i < 4; ++i) write(4096 * i, 4096);  // 32 KiB sent
  start();
  for (uint64_t p = 1; p <= 100; ++p) backend.send_position(0, p * 64);  // 100 > 63 unread
  stream0().process();
  EXPECT_EQ(stream0().event_overruns(), 1u);
  EXPECT_EQ(stream0().position_bytes(), 6400u);
  EXPECT_EQ(backend.stream(0).events->in_cons, backend.stream(0).events->in_prod);
  backend.send_position(0, 6464);
  stream0().process();
  EXPECT_EQ(stream0().position_bytes(), 6464u);
  EXPECT_FALSE(stream0().disconnected());
}

TEST_F(StreamTest, InProdFarAheadIsAnOverrunNotACrash) {
  write(0, 4096);
  start();
  backend.set_in_prod(0, 0x80000000u);
  stream0().process();
  EXPECT_EQ(stream0().event_overruns(), 1u);
  EXPECT_EQ(backend.stream(0).events->in_cons, 0x80000000u);
}

TEST_F(StreamTest, WriteTimeoutIsExtendedByTheBufferDuration) {
  auto* s = dynamic_cast<SndifStream*>(&stream0());
  ASSERT_NE(s, nullptr);
  // 16384 bytes of 16-bit stereo at 48 kHz: 4096 frames, 85.3 ms.
  EXPECT_EQ(s->buffer_duration(), 86ms);
  start();
  backend.hold = true;
  write(0, 4096);
  auto begin = std::chrono::steady_clock::now();
  while (!stream0().disconnected() && std::chrono::steady_clock::now() - begin < 5s) {
    try {
      stream0().wait(1000ms);
    } catch (const BackendGoneError&) {
    }
  }
  EXPECT_TRUE(stream0().disconnected());
  EXPECT_GE(std::chrono::steady_clock::now() - begin, 300ms + 86ms);
  EXPECT_THAT(stream0().disconnect_reason(), HasSubstr("WRITE"));
}

TEST_F(StreamTest, WritesDuringAPauseDoNotTimeOut) {
  write(0, 4096);
  start();
  stream0().trigger(Trigger::kPause);
  backend.hold = true;  // a paused device takes no data: the WRITE waits for RESUME
  write(4096, 4096);
  // 300 ms + 86 ms allowance; paused for longer than that.
  auto begin = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - begin < 600ms) stream0().wait(100ms);
  EXPECT_FALSE(stream0().disconnected());
  backend.hold = false;
  backend.answer_held();
  stream0().trigger(Trigger::kResume);
  stream0().process();
  EXPECT_EQ(stream0().completed_write_bytes(), 8192u);
  // Once running, the allowance applies again.
  backend.hold = true;
  write(0, 4096);
  EXPECT_THROW(while (true) stream0().wait(100ms), BackendGoneError);
}

TEST_F(StreamTest, WritesQueuedBeforeStartHaveNoClockUntilStart) {
  backend.hold = true;
  write(0, 4096);
  // Stopped: the backend may keep it until START (300 ms + 86 ms allowance).
  auto begin = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - begin < 600ms) stream0().wait(100ms);
  EXPECT_FALSE(stream0().disconnected());
  // START queued behind it and never answered either: the backend is gone, named by the WRITE.
  auto started = std::chrono::steady_clock::now();
  EXPECT_THAT(expect_throw<BackendGoneError>([&] { start(); }), HasSubstr("did not answer WRITE"));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 300ms + 86ms);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

TEST_F(StreamTest, CloseRevokesTheBufferOnceAnsweredAndReopenWorks) {
  size_t grants_open = grants.live_grants();
  stream0().close();
  EXPECT_FALSE(stream0().is_open());
  EXPECT_TRUE(stream0().buffer().empty());
  // The backend may use the buffer until it answers CLOSE: the grants stay until then.
  EXPECT_EQ(grants.live_grants(), grants_open);
  stream0().process();
  EXPECT_EQ(grants.live_grants(), grants_open - 5);  // 4 data pages + 1 directory page
  EXPECT_EQ(backend.requests[0].back().operation, XENSND_OP_CLOSE);
  EXPECT_THROW(stream0().trigger(Trigger::kStart), RequestFailedError);
  open_default();
  EXPECT_TRUE(stream0().is_open());
}

TEST_F(StreamTest, OpenChecksParametersAgainstTheConfiguration) {
  StreamParams p{XENSND_PCM_FORMAT_U8, 2, 48000, 16384, 4096};  // u8 not configured
  EXPECT_THAT(expect_throw<RequestFailedError>([&] { stream0().open(p); }), HasSubstr("format"));
  p = {XENSND_PCM_FORMAT_S16_LE, 3, 48000, 16380, 4092};
  EXPECT_THAT(expect_throw<RequestFailedError>([&] { stream0().open(p); }), HasSubstr("channels"));
  p = {XENSND_PCM_FORMAT_S16_LE, 2, 22050, 16384, 4096};
  EXPECT_THAT(expect_throw<RequestFailedError>([&] { stream0().open(p); }), HasSubstr("rate"));
  p = {XENSND_PCM_FORMAT_S16_LE, 2, 48000, 1 << 20, 4096};
  EXPECT_THAT(expect_throw<RequestFailedError>([&] { stream0().open(p); }), HasSubstr("buffer"));
}

TEST_F(StreamTest, BackendRefusingOpenReleasesTheBuffer) {
  stream0().close();
  stream0().process();  // the CLOSE's answer: its buffer goes
  size_t before = grants.live_grants();
  backend.answer_hook = [](size_t, const xensnd_req&, xensnd_resp def) -> std::optional<xensnd_resp> {
    def.status = -ENOMEM;
    return def;
  };
  try {
    open_default();
    FAIL();
  } catch (const RequestFailedError& e) {
    EXPECT_EQ(e.errno_value(), ENOMEM);
  }
  EXPECT_FALSE(stream0().is_open());
  EXPECT_EQ(grants.live_grants(), before);
}

// Event channels that count pending() calls and can play a backend that notifies again
// the moment a port is unmasked (a tight loop of notifications).
struct EventChannelProbe {
  int pending_calls = 0;
  bool flood = false;
};

class ProbedEventChannels final : public xenio::EventChannels {
 public:
  ProbedEventChannels(std::unique_ptr<xenio::EventChannels> inner, FakeEventHub& hub, EventChannelProbe& probe)
      : inner_(std::move(inner)), hub_(hub), probe_(probe) {}
  xenio::EventPort bind_unbound(xenio::DomainId remote) override { return inner_->bind_unbound(remote); }
  xenio::EventPort bind_interdomain(xenio::DomainId remote, xenio::EventPort port) override {
    return inner_->bind_interdomain(remote, port);
  }
  void unbind(xenio::EventPort port) override { inner_->unbind(port); }
  void notify(xenio::EventPort port) override {
    NotCounted fake;  // the in-process backend answers from here
    inner_->notify(port);
  }
  std::optional<xenio::EventPort> pending() override {
    // A frontend that keeps reading is stuck: fail loudly instead of hanging the test.
    if (++probe_.pending_calls > 1000) throw xenio::XenError(ELOOP, "probe: pending() called 1000 times");
    NotCounted fake;
    return inner_->pending();
  }
  void unmask(xenio::EventPort port) override {
    NotCounted fake;
    inner_->unmask(port);
    if (probe_.flood) hub_.notify_frontend(port);
  }
  int fd() const override { return inner_->fd(); }

 private:
  std::unique_ptr<xenio::EventChannels> inner_;
  FakeEventHub& hub_;
  EventChannelProbe& probe_;
};

class ProbedPlatform final : public xenio::Platform {
 public:
  ProbedPlatform(FakePlatform& inner, FakeEventHub& hub, EventChannelProbe& probe)
      : inner_(inner), hub_(hub), probe_(probe) {}
  std::unique_ptr<xenio::XenStore> open_xenstore() override { return inner_.open_xenstore(); }
  std::unique_ptr<xenio::GrantSharer> open_grant_sharer() override { return inner_.open_grant_sharer(); }
  std::unique_ptr<xenio::EventChannels> open_event_channels() override {
    return std::make_unique<ProbedEventChannels>(inner_.open_event_channels(), hub_, probe_);
  }

 private:
  FakePlatform& inner_;
  FakeEventHub& hub_;
  EventChannelProbe& probe_;
};

class ProbedStreamTest : public ConnectedCardTest {
 protected:
  void SetUp() override {
    ConnectedCardTest::SetUp();
    card = connect_card(probed, options());
    open_default();
    stream0().trigger(Trigger::kStart);
    stream0().process();
  }
  EventChannelProbe probe;
  ProbedPlatform probed{platform, hub, probe};
};

TEST_F(ProbedStreamTest, BothPortsSeenNeedNoFurtherRead) {
  // A WRITE answered with its notification asked for, and a CUR_POS event. Both ports are
  // masked once delivered, so a third read could only say "nothing": a wasted system call.
  ASSERT_FALSE(stream0().arm_response_notification());
  stream0().send_write(0, 4096);
  backend.send_position(0, 4096);
  probe.pending_calls = 0;
  stream0().process();
  EXPECT_EQ(probe.pending_calls, 2);
  EXPECT_EQ(stream0().position_bytes(), 4096u);
  EXPECT_EQ(stream0().completed_write_bytes(), 4096u);
}

TEST_F(ProbedStreamTest, StreamingAsksForNoResponseNotificationAndReadsOncePerPeriod) {
  // Playback's steady state: a WRITE a period, answered at once, and a CUR_POS event. The
  // event wakes the application; the answer is consumed then, without a wake-up of its own.
  const int notified_before = backend.notifications_sent;
  probe.pending_calls = 0;
  for (uint64_t n = 0; n < 20; ++n) {
    stream0().send_write(static_cast<uint32_t>(n % 4 * 4096), 4096);
    backend.send_position(0, (n + 1) * 4096);
    stream0().process();
  }
  EXPECT_EQ(backend.notifications_sent, notified_before);
  EXPECT_EQ(probe.pending_calls, 20);  // the event port, and no read to learn nothing else came
  EXPECT_EQ(stream0().completed_write_bytes(), 20u * 4096);
  EXPECT_EQ(stream0().position_bytes(), 20u * 4096);
}

TEST_F(ProbedStreamTest, SteadyStatePeriodsAllocateNothing) {
  auto period = [&](uint64_t n) {
    stream0().send_write(static_cast<uint32_t>(n % 4 * 4096), 4096);
    {
      NotCounted fake;
      backend.send_position(0, (n + 1) * 4096);
    }
    stream0().process();
  };
  for (uint64_t n = 0; n < 8; ++n) period(n);  // warm-up: storage grows to its size
  g_allocations = 0;
  g_count_allocations = true;
  for (uint64_t n = 8; n < 40; ++n) period(n);
  g_count_allocations = false;
  EXPECT_EQ(g_allocations, 0);
  EXPECT_EQ(stream0().position_bytes(), 40u * 4096);
  EXPECT_EQ(stream0().completed_write_bytes(), 40u * 4096);
}

TEST_F(ProbedStreamTest, BackendNotifyingInATightLoopCannotKeepProcessBusy) {
  backend.send_position(0, 0);
  probe.flood = true;
  probe.pending_calls = 0;
  EXPECT_NO_THROW(stream0().process());
  EXPECT_LE(probe.pending_calls, 4);
  EXPECT_FALSE(stream0().disconnected()) << stream0().disconnect_reason();
}

TEST_F(ConnectedCardTest, LargeBufferChainsDirectoryPagesEndToEnd) {
  store.write("device/vsnd/0/buffer-size", std::to_string(1100 * 4096));
  grants.set_limit(4096);
  connect();
  StreamParams p{XENSND_PCM_FORMAT_S16_LE, 2, 48000, 1100 * 4096, 4096};
  stream0().open(p);
  EXPECT_EQ(backend.stream(0).buffer_pages.size(), 1100u);  // walked across two directory pages
  auto buf = stream0().buffer();
  buf[1099 * 4096 + 7] = std::byte{0x5a};
  stream0().send_write(1099 * 4096, 4096);
  stream0().process();
  ASSERT_EQ(backend.stream(0).played.size(), 4096u);
  EXPECT_EQ(backend.stream(0).played[7], 0x5a);
}

class CaptureStreamTest : public ConnectedCardTest {
 protected:
  void SetUp() override {
    ConnectedCardTest::SetUp();
    store.write("device/vsnd/0/0/0/type", "c");
    connect();
    grants_before_open = grants.live_grants();
    open_default();
  }
  size_t grants_before_open = 0;
};

// snd_be's PulseAudio path: a READ is answered when the device delivered all of it, and
// PulseAudio delivers in bursts. Here (300 ms response timeout, 86 ms buffer) bursts come
// every 350 ms: each READ waits longer than its allowance since it was queued, but never
// longer than the allowance since the backend could start on it.
TEST_F(CaptureStreamTest, ReadsAnsweredInBurstsAreNotADeadBackend) {
  stream0().trigger(Trigger::kStart);
  backend.hold = true;
  for (uint32_t i = 0; i < 8; ++i) stream0().send_read(i % 4 * 4096, 4096);
  // The backend (this thread, between waits) answers two READs every 350 ms.
  auto next_burst = std::chrono::steady_clock::now() + 350ms;
  while (backend.held_count() > 0) {
    try {
      stream0().wait(20ms);
    } catch (const BackendGoneError& e) {
      FAIL() << e.what();
    }
    if (std::chrono::steady_clock::now() >= next_burst) {
      backend.answer_held(2);
      next_burst += 350ms;
    }
  }
  stream0().process();
  EXPECT_FALSE(stream0().disconnected());
  EXPECT_EQ(stream0().completed_read_bytes(), 8u * 4096);
}

TEST_F(CaptureStreamTest, ABackendSilentForTheAllowanceIsGone) {
  stream0().trigger(Trigger::kStart);
  backend.hold = true;
  for (uint32_t i = 0; i < 4; ++i) stream0().send_read(i * 4096, 4096);
  auto begin = std::chrono::steady_clock::now();
  std::string reason;
  bool answered = false;
  auto answered_at = begin;
  while (std::chrono::steady_clock::now() - begin < 3s) {
    try {
      stream0().wait(20ms);
    } catch (const BackendGoneError& e) {
      reason = e.what();
      break;
    }
    if (!answered && std::chrono::steady_clock::now() - begin >= 200ms) {
      backend.answer_held(1);  // then silence
      answered = true;
      answered_at = std::chrono::steady_clock::now();
    }
  }
  const auto now = std::chrono::steady_clock::now();
  EXPECT_THAT(reason, HasSubstr("did not answer READ (request"));
  // Silent since the answer: gone 386 ms later (response 300 ms + the 86 ms buffer).
  EXPECT_GE(now - answered_at, 386ms);
  EXPECT_LT(now - answered_at, 386ms + 300ms);
}

// snd_be serves the ring in order and answers a READ when its device delivered all of it:
// STOP and CLOSE wait behind the READs before them, up to a buffer of real time. Neither is
// awaited (a sound server suspends an idle source from the thread that carries its other
// streams' data), and the buffer the backend may still fill is kept until CLOSE is answered.
TEST_F(CaptureStreamTest, StopAndCloseDoNotWaitForTheReadsBeforeThem) {
  stream0().trigger(Trigger::kStart);
  backend.hold = true;
  for (uint32_t i = 0; i < 4; ++i) stream0().send_read(i * 4096, 4096);
  const size_t grants_open = grants.live_grants();
  const auto begin = std::chrono::steady_clock::now();
  stream0().trigger(Trigger::kStop);
  stream0().close();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 100ms);  // the response timeout is 300 ms
  EXPECT_FALSE(stream0().is_open());
  EXPECT_EQ(grants.live_grants(), grants_open);
  EXPECT_EQ(backend.held_count(), 6u);  // 4 READs, STOP, CLOSE
  backend.answer_held(5);
  stream0().process();
  EXPECT_EQ(grants.live_grants(), grants_open);  // CLOSE not answered yet
  backend.answer_held();
  stream0().process();
  EXPECT_EQ(grants.live_grants(), grants_open - 5);
  EXPECT_FALSE(stream0().disconnected());
  // What the backend answered before STOP still counts.
  EXPECT_EQ(stream0().completed_read_bytes(), 4u * 4096);
}

// The next OPEN comes after the unanswered CLOSE in the ring: open() waits for its answer
// (bounded like any request), so the old buffer's grants never add to the new one's.
TEST_F(CaptureStreamTest, ReopenWaitsBoundedForAnUnansweredClose) {
  backend.hold = true;
  stream0().close();
  const auto begin = std::chrono::steady_clock::now();
  std::string reason;
  try {
    open_default();
  } catch (const BackendGoneError& e) {
    reason = e.what();
  }
  EXPECT_THAT(reason, HasSubstr("did not answer CLOSE"));
  EXPECT_GE(std::chrono::steady_clock::now() - begin, 300ms);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 2s);
  EXPECT_EQ(grants.live_grants(), grants_before_open);
}

TEST_F(CaptureStreamTest, ReadsFillTheBuffer) {
  stream0().trigger(Trigger::kStart);
  stream0().send_read(100, 50);
  stream0().process();
  EXPECT_EQ(stream0().completed_read_bytes(), 50u);
  EXPECT_EQ(stream0().buffer()[100], static_cast<std::byte>(100));
  EXPECT_EQ(stream0().buffer()[149], static_cast<std::byte>(149));
  EXPECT_THROW(stream0().send_write(0, 16), RequestFailedError);
  // Capture positions are not bounded by writes.
  backend.send_position(0, 8192);
  stream0().process();
  EXPECT_EQ(stream0().position_bytes(), 8192u);
}

}  // namespace
}  // namespace xensnd::testing
