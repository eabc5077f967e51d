// xensnd-info against the software Xen: what it lists for two cards (text and JSON), the
// process holding a card, and its exit codes when there is no card or no access.
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>


#include "tests/e2e/e2e_helpers.h"

namespace xensnd::e2e {
namespace {

using namespace std::chrono_literals;

const std::string kInfo = XENSND_INFO_TOOL;
constexpr int kNoCard = 2;
constexpr int kNoAccess = 3;

// Card 4: two PCM devices, the second capture only, with narrower limits than card 0.
const std::string kCard4 =
    "CARD, short-name=second, long-name=Second test card, sample-rates=48000, sample-formats=s16_le, "
    "channels-min=1, channels-max=2, buffer-size=65536 | PCM, name=front | STREAM, unique-id=front-out, type=P | "
    "PCM, name=mic | STREAM, unique-id=mic-in, type=C, channels-max=1";

void attach(const SoftwareXen& xen, unsigned devid, const std::string& config) {
  RunResult attached = xen.toolstack({"vsnd-attach", "--domid", std::to_string(SoftwareXen::kGuest), "--devid",
                                      std::to_string(devid), "--config", config},
                                     10s);
  ASSERT_TRUE(attached.status.success()) << failure_text(attached);
  // The backend takes a new card through Closing and Closed to InitWait on its own time (as
  // snd_be does): wait until it settled, so that the state reported is not a transient.
  const std::string node = "/local/domain/0/backend/vsnd/" + std::to_string(SoftwareXen::kGuest) + "/" +
                           std::to_string(devid) + "/state";
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  std::string state;
  while (state != "2\n" && std::chrono::steady_clock::now() < deadline)
    state = run({"xenstore-read", node}, xen.dom0_env(), xen.logs(), "xenstore-read", 5s).out;
  ASSERT_EQ(state, "2\n") << "the backend never reached InitWait on " << node;
}

// Runs `filter` of jq over `json`; the compact result.
std::string jq(const SoftwareXen& xen, const std::string& json, const std::string& filter) {
  const auto input = xen.dir() / "info.json";
  write_file(input, std::vector<uint8_t>(json.begin(), json.end()));
  RunResult r = run({"jq", "-c", filter, input.string()}, {{"PATH", "/usr/bin:/bin"}}, xen.logs(), "jq", 10s);
  EXPECT_TRUE(r.status.success()) << "not JSON?\n" << json << failure_text(r);
  return r.out;
}

// Whether `text` holds before + a state the backend may be in for a new card + after: it
// answers a new card with InitWait on its own time, so either state is right here (JSON
// quotes them).
bool contains_in_an_idle_state(const std::string& text, const std::string& before, const std::string& after) {
  for (const std::string state : {"Initialising (1)", "InitWait (2)"}) {
    const std::string quoted = before == "[" ? "\"" + state + "\"" : state;
    if (text.find(before + quoted + after) != std::string::npos) return true;
  }
  return false;
}

TEST(Info, ListsEveryCardWithItsDevicesAndStreams) {
  SoftwareXen xen;
  attach(xen, 4, kCard4);
  RunResult r = xen.run_guest({kInfo}, 20s, "xensnd-info");
  ASSERT_EQ(r.status.code, 0) << failure_text(r);
  const std::string& text = r.out;
  for (const auto& [before, after] : {
           std::pair<std::string, std::string>{
               "card 0: xensnd-e2e [xensnd end-to-end test card], backend domain 0 ",
               ", protocol 2 (versions not published), free, kernel driver none\n"},
           std::pair<std::string, std::string>{"card 4: second [Second test card], backend domain 0 ", ", protocol 2"},
       })
    EXPECT_TRUE(contains_in_an_idle_state(text, before, after)) << "missing: " << before << "\nin:\n" << text;
  for (const std::string& line : {
           std::string("  device 0: main [xensnd:DEV=0,PCM=0]\n"),
           std::string("    stream 0: playback  unique-id \"speaker\"  s8,u8,s16_le,s16_be,s24_le,s32_le  "
                       "8000,11025,16000,22050,32000,44100,48000,96000 Hz  1-8 ch  buffer <= 262144 bytes\n"),
           std::string("    stream 1: capture   unique-id \"microphone\""),
           std::string("  device 0: front [xensnd:DEV=4,PCM=0]\n"),
           std::string("  device 1: mic [xensnd:DEV=4,PCM=1]\n"),
           std::string("    stream 0: capture   unique-id \"mic-in\"  s16_le  48000 Hz  1-1 ch  buffer <= 65536 bytes\n"),
       })
    EXPECT_NE(text.find(line), std::string::npos) << "missing: " << line << "\nin:\n" << text;
  EXPECT_LT(text.find("card 0:"), text.find("card 4:")) << text;
}

TEST(Info, JsonHasEveryField) {
  SoftwareXen xen;
  attach(xen, 4, kCard4);
  RunResult r = xen.run_guest({kInfo, "--json"}, 20s, "xensnd-info");
  ASSERT_EQ(r.status.code, 0) << failure_text(r);
  EXPECT_EQ(jq(xen, r.out, "[.cards[] | [.device, .short_name, .long_name, .backend.domain, "
                           ".backend.versions, .protocol_version, .holder, .kernel_driver, .config_error]]"),
            "[[0,\"xensnd-e2e\",\"xensnd end-to-end test card\",0,null,null,null,null,null],"
            "[4,\"second\",\"Second test card\",0,null,null,null,null,null]]\n");
  const std::string states = jq(xen, r.out, "[.cards[].backend.state]");
  EXPECT_TRUE(contains_in_an_idle_state(states, "[", ",\"Initialising (1)\"]\n") ||
              contains_in_an_idle_state(states, "[", ",\"InitWait (2)\"]\n"))
      << r.out;
  EXPECT_EQ(jq(xen, r.out, ".cards[1].pcm_devices"),
            "[{\"index\":0,\"name\":\"front\",\"alsa_device\":\"xensnd:DEV=4,PCM=0\",\"streams\":[{\"index\":0,"
            "\"direction\":\"playback\",\"unique_id\":\"front-out\",\"xenstore_path\":\"device/vsnd/4/0/0\","
            "\"formats\":[\"s16_le\"],\"rates\":[48000],\"channels_min\":1,\"channels_max\":2,"
            "\"buffer_bytes_max\":65536}]},"
            "{\"index\":1,\"name\":\"mic\",\"alsa_device\":\"xensnd:DEV=4,PCM=1\",\"streams\":[{\"index\":0,"
            "\"direction\":\"capture\",\"unique_id\":\"mic-in\",\"xenstore_path\":\"device/vsnd/4/1/0\","
            "\"formats\":[\"s16_le\"],\"rates\":[48000],\"channels_min\":1,\"channels_max\":1,"
            "\"buffer_bytes_max\":65536}]}]\n");
}

TEST(Info, NamesTheProcessPlayingAndTheConnectedState) {
  SoftwareXen xen;
  const PcmFormat f{"S16_LE", 2, 48000, 2};
  write_file(xen.dir() / "clip.raw", make_clip(f, 20, 41));
  auto aplay = xen.start_guest({"aplay", "-q", "-D", "xensnd", "-t", "raw", "-f", "S16_LE", "-r", "48000", "-c", "2",
                                (xen.dir() / "clip.raw").string()},
                               "aplay");
  // The backend creates its WAV when the stream is opened: the card is claimed and connected.
  ASSERT_TRUE(wait_for_path(xen.sink_wav(), 20s)) << "aplay never opened the stream";
  RunResult r = xen.run_guest({kInfo, "--json"}, 20s, "xensnd-info");
  aplay->signal(SIGTERM);
  aplay->wait(10s);
  ASSERT_EQ(r.status.code, 0) << failure_text(r);
  EXPECT_EQ(jq(xen, r.out, ".cards[0] | [.holder, .backend.state, .protocol_version, .frontend_state]"),
            "[{\"pid\":" + std::to_string(aplay->pid()) +
                ",\"command\":\"aplay\"},\"Connected (4)\",\"2\",\"Connected (4)\"]\n");
}

TEST(Info, NoCardIsItsOwnExitCode) {
  SoftwareXenOptions options;
  options.attach = false;
  SoftwareXen xen(options);
  RunResult r = xen.run_guest({kInfo}, 20s, "xensnd-info");
  EXPECT_EQ(r.status.code, kNoCard) << failure_text(r);
  EXPECT_NE(r.err.find("no vsnd card"), std::string::npos) << r.err;
  RunResult j = xen.run_guest({kInfo, "--json"}, 20s, "xensnd-info-json");
  EXPECT_EQ(j.status.code, kNoCard) << failure_text(j);
  EXPECT_EQ(j.out, "{\"cards\":[]}\n");
}

TEST(Info, NoXenStoreIsNoAccess) {
  SoftwareXen xen;
  Environment env = xen.guest_env();
  env["XENSTORED_PATH"] = (xen.dir() / "no-such-socket").string();
  RunResult r = run({kInfo}, env, xen.logs(), "xensnd-info", 20s);
  EXPECT_EQ(r.status.code, kNoAccess) << failure_text(r);
  EXPECT_NE(r.err.find("no-such-socket"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("is this a Xen guest?"), std::string::npos) << r.err;
}

TEST(Info, UserWithoutPermissionIsNoAccess) {
  SoftwareXen xen;
  const passwd* nobody = getpwnam("nobody");
  if (nobody == nullptr || geteuid() != 0) GTEST_SKIP() << "needs root and a 'nobody' user";
  std::filesystem::permissions(xen.dir(), std::filesystem::perms::owner_all | std::filesystem::perms::others_exec |
                                              std::filesystem::perms::others_read);
  // The software Xen's sockets play /dev/xen/*: only root may reach them.
  std::filesystem::permissions(xen.dir() / "xen", std::filesystem::perms::owner_all);
  RunResult r = xen.run_guest({kInfo}, 20s, "xensnd-info-nobody", nobody->pw_uid);
  EXPECT_EQ(r.status.code, kNoAccess) << failure_text(r);
  EXPECT_NE(r.err.find("may not use XenStore"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace xensnd::e2e
