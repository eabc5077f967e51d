// The hostile matrix: real applications (aplay, arecord, a poll()-driven client) against
// every fault the reference backend injects. Whatever the backend does, the application
// either ends with a clear error (a message from the plugin naming what went wrong) within
// response_timeout + position_timeout + 1 s of the fault, or plays on to the end of its clip;
// and the software Xen's counts (the guest's grants and event channels, the backend domain's
// mappings and event channels, the XenStore nodes) come back to where they were before the
// application started. One software Xen, one backend process and one application per case.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>

#include "tests/e2e/e2e_helpers.h"

namespace xensnd::e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The plugin's timeouts in this suite (the options under test), and the bound they give.
constexpr auto kResponseTimeout = 1000ms;
constexpr auto kPositionTimeout = 1000ms;
constexpr auto kBound = kResponseTimeout + kPositionTimeout + 1s;
constexpr double kClipSeconds = 3.0;

enum class Client { kAplay, kArecord, kPollPlayback };

struct HostileCase {
  Client client;
  // --fault argument ("{io}" is the client's data operation, write or read), or
  // "stall-after:MS" for the backend's --stall-after (positions stop moving, data requests
  // are no longer answered: a device alive but stalled).
  std::string fault;
  std::string name;
};

constexpr std::string_view kStallPrefix = "stall-after:";

std::string client_name(Client c) {
  switch (c) {
    case Client::kAplay: return "aplay";
    case Client::kArecord: return "arecord";
    case Client::kPollPlayback: return "poll";
  }
  return "?";
}

void PrintTo(const HostileCase& c, std::ostream* os) { *os << client_name(c.client) << "_" << c.name; }

// Everything the guest and the backend can hold in the software Xen.
struct Holdings {
  uint64_t guest_grants = 0, guest_ports = 0, dom0_mappings = 0, dom0_ports = 0, nodes = 0;
  std::string text;
  bool operator==(const Holdings& o) const {
    return guest_grants == o.guest_grants && guest_ports == o.guest_ports && dom0_mappings == o.dom0_mappings &&
           dom0_ports == o.dom0_ports && nodes == o.nodes;
  }
};

// The whole store, listed by dom0 (xenstore-ls, one node a line), without the nodes only
// the toolstack's own bookkeeping changes.
uint64_t count_nodes(const SoftwareXen& xen) {
  RunResult r = run({"xenstore-ls", "-f", "/"}, xen.dom0_env(), xen.logs(), "xenstore-ls", 10s);
  if (!r.status.success()) {
    ADD_FAILURE() << "xenstore-ls failed: " << failure_text(r);
    return 0;
  }
  uint64_t lines = 0;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) ++lines;
  return lines;
}

Holdings holdings(const SoftwareXen& xen) {
  Holdings h;
  const DomainCounts guest = xen.counts(SoftwareXen::kGuest), dom0 = xen.counts(0);
  h.guest_grants = guest.grants;
  h.guest_ports = guest.ports;
  h.dom0_mappings = dom0.mappings;
  h.dom0_ports = dom0.ports;
  h.nodes = count_nodes(xen);
  h.text = "guest: " + guest.text + "\ndom0: " + dom0.text + "\nnodes=" + std::to_string(h.nodes);
  return h;
}

std::string backend_log(const SoftwareXen& xen) {
  std::ifstream in(xen.logs() / "backend.err");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class HostileMatrix : public ::testing::TestWithParam<HostileCase> {};

TEST_P(HostileMatrix, EndsClearlyOrPlaysOnAndReleasesEverything) {
  const HostileCase c = GetParam();
  const bool capture = c.client == Client::kArecord;
  std::string fault = c.fault;
  if (const size_t at = fault.find("{io}"); at != std::string::npos) fault.replace(at, 4, capture ? "read" : "write");

  SoftwareXenOptions options;
  const bool stall = fault.starts_with(kStallPrefix);
  if (stall)
    options.backend_args = {"--source", "sine:440", "--stall-after", fault.substr(kStallPrefix.size())};
  else
    options.backend_args = {"--source", "sine:440", "--fault", fault};
  // What the backend logs when the fault takes effect.
  const std::string marker = stall ? "the device stalls" : "fault injection";
  SoftwareXen xen(options);

  // The device under test: xensnd with this suite's timeouts.
  const auto conf = xen.dir() / "hostile.conf";
  {
    std::ofstream out(conf);
    out << "<" << build_alsa_config().string() << ">\npcm.hostile { type xensnd response_timeout_ms "
        << kResponseTimeout.count() << " position_timeout_ms " << kPositionTimeout.count() << " }\n";
  }
  Environment env = xen.guest_env();
  env["ALSA_CONFIG_PATH"] = conf.string();

  const PcmFormat f{"S16_LE", 2, 48000, 2};
  write_file(xen.dir() / "clip.raw", make_clip(f, kClipSeconds, 71));
  const std::string seconds = std::to_string(static_cast<int>(kClipSeconds));
  std::vector<std::string> argv;
  switch (c.client) {
    case Client::kAplay:
      argv = {"aplay", "-q", "-D", "hostile", "-t", "raw", "-f", "S16_LE", "-r", "48000", "-c", "2",
              (xen.dir() / "clip.raw").string()};
      break;
    case Client::kArecord:
      argv = {"arecord", "-q", "-D", "hostile", "-t", "raw", "-f", "S16_LE", "-r", "48000", "-c", "2", "-d", seconds,
              (xen.dir() / "captured.raw").string()};
      break;
    case Client::kPollPlayback:
      argv = {poll_client().string(), "hostile", "playback", seconds};
      break;
  }

  const Holdings before = holdings(xen);
  ChildProcess app(argv, env, xen.logs(), client_name(c.client));
  const bool fired = wait_in_directory(xen.logs(), 15s, [&] {
    return backend_log(xen).find(marker) != std::string::npos || !app.running();
  });
  ASSERT_TRUE(fired && backend_log(xen).find(marker) != std::string::npos)
      << "the fault never fired (" << fault << "); the application "
      << (app.running() ? "is still running" : "ended: " + app.stderr_text()) << "\nbackend:\n"
      << backend_log(xen);
  const auto fault_seen = Clock::now();

  const ExitStatus status = app.wait(std::chrono::seconds(static_cast<int>(kClipSeconds)) + kBound + 10s);
  const auto took = Clock::now() - fault_seen;
  const std::string err = app.stderr_text();
  const auto took_ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
  ASSERT_FALSE(status.timed_out) << "the application hung after " << fault << "\n" << err;
  if (status.success()) {
    // Played on: the rest of the clip, plus at most the bound of one recovered stall.
    EXPECT_LE(took, std::chrono::seconds(static_cast<int>(kClipSeconds)) + kBound)
        << "played on, but took " << took_ms << " ms after the fault";
  } else {
    EXPECT_TRUE(status.exited) << "the application crashed: " << status.describe() << "\n" << err;
    EXPECT_LE(took, kBound) << "the error came " << took_ms << " ms after the fault\n" << err;
    // A clear error: the plugin said what went wrong (not only the application's errno).
    EXPECT_NE(err.find("xensnd: "), std::string::npos) << "no message from the plugin:\n" << err;
  }

  // Everything comes back: the backend releases the card once the frontend has closed it.
  Holdings after;
  const auto deadline = Clock::now() + 5s;
  do {
    after = holdings(xen);
    if (after == before) break;
    std::this_thread::sleep_for(50ms);  // polling the daemon's counts: it has no notification
  } while (Clock::now() < deadline);
  EXPECT_TRUE(after == before) << "before:\n" << before.text << "\nafter:\n" << after.text;
  std::printf("%s with %s: %s after %lld ms\n", client_name(c.client).c_str(), fault.c_str(),
              status.success() ? "played on" : "error", static_cast<long long>(took_ms));
}

std::vector<HostileCase> all_cases() {
  // Every --fault of backend/README.md, aimed at the middle of the stream (the 10th data
  // request or position event), plus the control requests a stream cannot do without.
  const std::vector<std::pair<std::string, std::string>> faults = {
      // Late, but within a period (the poll client's periods are 25 ms): the backend still
      // keeps up with real time, answering one request at a time.
      {"delay-response:ms=10,op={io},nth=10", "SlowResponses"},
      {"delay-response:ms=5000,op={io},nth=10", "ResponsesLaterThanTheTimeout"},
      {"drop-response:op={io},nth=10", "DroppedDataResponse"},
      {"drop-response:op=trigger,nth=1", "DroppedStartResponse"},
      {"drop-response:op=close,nth=1", "DroppedCloseResponse"},
      {"wrong-id:op={io},nth=10", "WrongId"},
      {"wrong-operation:op={io},nth=10", "WrongOperation"},
      {"position-backwards:nth=10", "PositionBackwards"},
      {"position-beyond:nth=10", "PositionBeyond"},
      {"event-flood:nth=10", "EventFlood"},
      {"stop-events:nth=10", "StopEvents"},
      {"exit:nth=10", "ExitMidStream"},
      {"exit:op=open,nth=1", "ExitOnOpen"},
      {"set-closing:nth=10", "ClosingMidStream"},
      {"stall-after:1000", "StalledDevice"},
  };
  std::vector<HostileCase> cases;
  for (Client client : {Client::kAplay, Client::kArecord, Client::kPollPlayback})
    for (const auto& [fault, name] : faults) cases.push_back({client, fault, name});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Faults, HostileMatrix, ::testing::ValuesIn(all_cases()), [](const auto& info) {
  return client_name(info.param.client) + "_" + info.param.name;
});

// A client asleep in poll() learns of a stalled device through the plugin's watchdog alone:
// at the stall rule's deadline (position_timeout after the last position), not up to a
// watchdog tick later, as when the watchdog ticked every 500 ms.
TEST(Watchdog, WakesAPollerAtTheStallDeadline) {
  constexpr auto kStallTimeout = 300ms;
  SoftwareXenOptions options;
  // No event after the 20th: nothing but the watchdog wakes the poller once its buffer is full.
  options.backend_args = {"--fault", "stop-events:nth=20"};
  SoftwareXen xen(options);
  const auto conf = xen.dir() / "watchdog.conf";
  {
    // Answers may take long: only the stall rule speaks here.
    std::ofstream out(conf);
    out << "<" << build_alsa_config().string() << ">\npcm.watched { type xensnd response_timeout_ms 10000 "
        << "position_timeout_ms " << kStallTimeout.count() << " }\n";
  }
  Environment env = xen.guest_env();
  env["ALSA_CONFIG_PATH"] = conf.string();
  ChildProcess app({poll_client().string(), "watched", "playback", "5"}, env, xen.logs(), "poll");
  ASSERT_TRUE(wait_in_directory(xen.logs(), 15s, [&] {
    return backend_log(xen).find("fault injection") != std::string::npos || !app.running();
  })) << "the events never stopped";
  const auto stalled = Clock::now();
  const ExitStatus status = app.wait(15s);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - stalled);
  ASSERT_FALSE(status.timed_out) << "the poller never learnt of the stall";
  EXPECT_FALSE(status.success());
  EXPECT_NE(app.stderr_text().find("the backend made no progress for"), std::string::npos) << app.stderr_text();
  // The last progress came before the events stopped; 150 ms for a loaded machine.
  EXPECT_LE(took, kStallTimeout + 150ms) << "the poller learnt of the stall " << took.count() << " ms after it";
}

}  // namespace
}  // namespace xensnd::e2e
