// xensnd-toolstack against the daemon: the domain and vsnd nodes libxl would write, with
// libxl's permissions, hot-unplug with and without a cooperating backend, save/restore,
// destroy, and clear errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <thread>

#include "xenstore_handle.h"

#ifndef SIMXEN_TOOLSTACK
#error "SIMXEN_TOOLSTACK must name the xensnd-toolstack executable"
#endif

namespace simtest {
namespace {

struct NodeInfo {
  std::string value;
  std::string perms;  // "n3,r0"
  bool operator==(const NodeInfo&) const = default;
};
using Tree = std::map<std::string, NodeInfo>;

std::ostream& operator<<(std::ostream& out, const NodeInfo& node) {
  return out << "\"" << node.value << "\" (" << node.perms << ")";
}

const char* kConfig =
    "vsnd=[['CARD, backend=0, short-name=VCard, long-name=Virtual sound, sample-rates=44100;48000, "
    "sample-formats=s16_le', 'PCM, name=Main', 'STREAM, unique-id=alsa<default>, type=P', "
    "'STREAM, unique-id=alsa<mic>, type=C']]";

class Toolstack : public ::testing::Test {
 protected:
  ProcessResult toolstack(std::vector<std::string> args) {
    args.insert(args.begin(), SIMXEN_TOOLSTACK);
    return run_process(args, {{"XENSTORED_PATH", daemon.xenstored_path(0)}});
  }

  void create_guest(unsigned domid, const std::string& name) {
    auto result = toolstack({"create-domain", "--domid", std::to_string(domid), "--name", name});
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }

  void attach(unsigned domid, unsigned devid) {
    auto result = toolstack({"vsnd-attach", "--domid", std::to_string(domid), "--devid", std::to_string(devid),
                             "--config", kConfig});
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }

  // Every node under `root` (included), with its value and permissions, as dom0 sees it.
  Tree tree(const std::string& root) {
    Tree nodes;
    std::vector<std::string> pending{root};
    while (!pending.empty()) {
      std::string path = pending.back();
      pending.pop_back();
      auto value = dom0.read(path);
      if (!value) continue;
      std::string perms;
      for (const auto& p : dom0.perms(path)) perms += (perms.empty() ? "" : ",") + p;
      nodes[path] = {*value, perms};
      unsigned count = 0;
      char** children = xs_directory(dom0.get(), XBT_NULL, path.c_str(), &count);
      for (unsigned i = 0; i < count; ++i) pending.push_back(path + "/" + children[i]);
      std::free(children);
    }
    return nodes;
  }

  bool exists(const std::string& path) { return dom0.read(path).has_value(); }

  SimDaemon daemon;
  XenstoreHandle dom0{daemon, 0};
};

TEST_F(Toolstack, CreateDomainWritesXlsNodesAndPrintsTheGuestEnvironment) {
  auto result = toolstack({"create-domain", "--domid", "3", "--name", "guest3"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "export XENSTORED_PATH=" + daemon.xenstored_path(3) + "\nexport LD_LIBRARY_PATH=" +
                            daemon.environment().at("LD_LIBRARY_PATH") + "\n");
  EXPECT_TRUE(std::filesystem::exists(daemon.xenstored_path(3)));
  EXPECT_TRUE(xs_is_domain_introduced(dom0.get(), 3));
  Tree nodes = tree("/local/domain/3");
  EXPECT_EQ(nodes["/local/domain/3"], (NodeInfo{"", "n0,r3"}));
  EXPECT_EQ(nodes["/local/domain/3/domid"], (NodeInfo{"3", "n0,r3"}));
  EXPECT_EQ(nodes["/local/domain/3/name"], (NodeInfo{"guest3", "n0,r3"}));
  EXPECT_EQ(nodes["/local/domain/3/device"], (NodeInfo{"", "n0,r3"}));
  EXPECT_EQ(nodes["/local/domain/3/data"], (NodeInfo{"", "n3"}));
  EXPECT_EQ(nodes["/local/domain/3/control/shutdown"], (NodeInfo{"", "n3"}));
  EXPECT_EQ(nodes["/local/domain/3/control/platform-feature-xs_reset_watches"], (NodeInfo{"1", "n0,r3"}));
  EXPECT_EQ(nodes["/local/domain/3/device/suspend/event-channel"], (NodeInfo{"", "n3"}));
  std::string vm = nodes["/local/domain/3/vm"].value;
  ASSERT_EQ(vm.rfind("/vm/", 0), 0u);
  EXPECT_EQ(dom0.read(vm + "/name"), "guest3");
  EXPECT_EQ(dom0.perms("/libxl/3"), (std::vector<std::string>{"n0"}));

  XenstoreHandle guest(daemon, 3);
  EXPECT_EQ(guest.read("domid"), "3");
  EXPECT_TRUE(guest.write("data/hello", "1"));
  EXPECT_FALSE(guest.write("name", "renamed"));

  auto again = toolstack({"create-domain", "--domid", "3", "--name", "other"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("domain 3 already exists"), std::string::npos) << again.err;
  auto same_name = toolstack({"create-domain", "--domid", "4", "--name", "guest3"});
  EXPECT_EQ(same_name.exit_code, 1);
  EXPECT_NE(same_name.err.find("already used"), std::string::npos) << same_name.err;
}

TEST_F(Toolstack, VsndAttachWritesLibxlsLayoutWithLibxlsPermissions) {
  create_guest(3, "guest3");
  attach(3, 0);
  const std::string fe = "/local/domain/3/device/vsnd/0", be = "/local/domain/0/backend/vsnd/3/0";
  const std::string front = "n3,r0", back = "n0,r3";
  Tree expected_front{
      {fe, {"", front}},
      {fe + "/backend", {be, front}},
      {fe + "/backend-id", {"0", front}},
      {fe + "/state", {"1", front}},
      {fe + "/long-name", {"Virtual sound", front}},
      {fe + "/short-name", {"VCard", front}},
      {fe + "/sample-rates", {"44100,48000", front}},
      {fe + "/sample-formats", {"s16_le", front}},
      {fe + "/0", {"", front}},
      {fe + "/0/name", {"Main", front}},
      {fe + "/0/0", {"", front}},
      {fe + "/0/0/unique-id", {"alsa<default>", front}},
      {fe + "/0/0/type", {"p", front}},
      {fe + "/0/1", {"", front}},
      {fe + "/0/1/unique-id", {"alsa<mic>", front}},
      {fe + "/0/1/type", {"c", front}},
  };
  EXPECT_EQ(tree(fe), expected_front);
  Tree expected_back{
      {be, {"", back}},
      {be + "/frontend", {fe, back}},
      {be + "/frontend-id", {"3", back}},
      {be + "/online", {"1", back}},
      {be + "/state", {"1", back}},
  };
  EXPECT_EQ(tree(be), expected_back);
  const std::string libxl = "/libxl/3/device/vsnd/0";
  Tree expected_libxl{
      {libxl, {"", "n0"}},
      {libxl + "/frontend", {fe, "n0"}},
      {libxl + "/backend", {be, "n0"}},
      {libxl + "/frontend-id", {"3", "n0"}},
      {libxl + "/online", {"1", "n0"}},
      {libxl + "/state", {"1", "n0"}},
  };
  EXPECT_EQ(tree(libxl), expected_libxl);

  // What those permissions mean: the frontend writes its own directory, reads the backend's.
  XenstoreHandle guest(daemon, 3);
  EXPECT_TRUE(guest.write("device/vsnd/0/0/0/ring-ref", "8"));
  EXPECT_EQ(guest.read(be + "/state"), "1");
  EXPECT_FALSE(guest.write(be + "/state", "4"));
  EXPECT_FALSE(guest.read("/local/domain/0/backend/vsnd/3"));  // only the device dir is shared

  auto twice = toolstack({"vsnd-attach", "--domid", "3", "--devid", "0", "--config", kConfig});
  EXPECT_EQ(twice.exit_code, 1);
  EXPECT_NE(twice.err.find("already attached"), std::string::npos) << twice.err;
}

TEST_F(Toolstack, BadRequestsGetClearErrorsAndWriteNothing) {
  create_guest(3, "guest3");
  auto bad_type = toolstack({"vsnd-attach", "--domid", "3", "--devid", "0", "--config",
                             "[['CARD', 'PCM, name=x', 'STREAM, unique-id=a, type=X']]"});
  EXPECT_EQ(bad_type.exit_code, 1);
  EXPECT_NE(bad_type.err.find("bad vsnd config: invalid stream type 'X'"), std::string::npos) << bad_type.err;
  auto no_guest = toolstack({"vsnd-attach", "--domid", "8", "--devid", "0", "--config", kConfig});
  EXPECT_EQ(no_guest.exit_code, 1);
  EXPECT_NE(no_guest.err.find("no guest domain 8"), std::string::npos) << no_guest.err;
  auto no_backend = toolstack({"vsnd-attach", "--domid", "3", "--devid", "0", "--backend-domid", "9", "--config",
                               "[['CARD', 'STREAM, unique-id=a, type=P']]"});
  EXPECT_EQ(no_backend.exit_code, 1);
  EXPECT_NE(no_backend.err.find("no backend domain 9"), std::string::npos) << no_backend.err;
  auto usage = toolstack({"vsnd-attach", "--domid", "3"});
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_NE(usage.err.find("--devid is required"), std::string::npos) << usage.err;
  auto no_device = toolstack({"vsnd-detach", "--domid", "3", "--devid", "4"});
  EXPECT_EQ(no_device.exit_code, 1);
  EXPECT_NE(no_device.err.find("has no vsnd device 4"), std::string::npos) << no_device.err;
  EXPECT_FALSE(exists("/local/domain/3/device/vsnd"));
  EXPECT_FALSE(exists("/local/domain/0/backend"));
  EXPECT_FALSE(exists("/libxl/3/device/vsnd"));
}

TEST_F(Toolstack, DetachWaitsForTheBackendToCloseThenRemovesTheDevice) {
  create_guest(3, "guest3");
  attach(3, 0);
  const std::string be = "/local/domain/0/backend/vsnd/3/0";
  // A backend that, like snd_be, answers Closing (5) with Closed (6).
  std::thread backend([&] {
    XenstoreHandle handle(daemon, 0);
    handle.watch(be + "/state", "be");
    for (;;) {
      handle.next_event();
      auto state = handle.read(be + "/state");
      if (!state) return;
      if (*state == "5") {
        handle.write(be + "/state", "6");
        return;
      }
    }
  });
  auto result = toolstack({"vsnd-detach", "--domid", "3", "--devid", "0"});
  backend.join();
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  EXPECT_FALSE(exists("/local/domain/3/device/vsnd/0"));
  EXPECT_FALSE(exists(be));
  EXPECT_FALSE(exists("/local/domain/0/backend"));  // empty parents go, as libxl's cleanup does
  EXPECT_FALSE(exists("/libxl/3/device/vsnd"));
  EXPECT_TRUE(exists("/local/domain/3/domid"));

  attach(3, 0);  // and it can be attached again
  EXPECT_EQ(dom0.read(be + "/state"), "1");
}

TEST_F(Toolstack, DetachWithoutABackendTimesOutAndRemovesAnyway) {
  create_guest(3, "guest3");
  attach(3, 0);
  auto result = toolstack({"vsnd-detach", "--domid", "3", "--devid", "0", "--timeout", "0.2"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("did not close vsnd device 0 within 0.2s"), std::string::npos) << result.err;
  EXPECT_FALSE(exists("/local/domain/3/device/vsnd/0"));
  EXPECT_FALSE(exists("/local/domain/0/backend/vsnd/3/0"));
}

TEST_F(Toolstack, SaveRestoreRewritesTheDeviceFreshAndKeepsItsConfiguration) {
  create_guest(3, "guest3");
  attach(3, 0);
  const std::string fe = "/local/domain/3/device/vsnd/0", be = "/local/domain/0/backend/vsnd/3/0";
  Tree config_before = tree(fe);
  XenstoreHandle guest(daemon, 3);
  ASSERT_TRUE(guest.write(fe + "/0/0/ring-ref", "8"));  // the frontend connected...
  ASSERT_TRUE(guest.write(fe + "/state", "4"));
  ASSERT_TRUE(dom0.write(be + "/state", "4"));
  auto result = toolstack({"save-restore", "--domid", "3"});
  if (daemon.counts(3).at("hypervisor") == 0) {
    EXPECT_EQ(result.exit_code, 1);  // nothing to invalidate grants with: say so
    EXPECT_NE(result.err.find("invalidate"), std::string::npos) << result.err;
    GTEST_SKIP() << "this build has no hypervisor service";
  }
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(tree(fe), config_before) << "...and comes back to a fresh device with the same card";
  EXPECT_EQ(dom0.read(be + "/state"), "1");
  EXPECT_EQ(guest.read("domid"), "3") << "the guest's XenStore connection survives";
}

TEST_F(Toolstack, DestroyDomainRemovesItsNodesDevicesAndSocket) {
  create_guest(3, "guest3");
  attach(3, 0);
  std::string vm = *dom0.read("/local/domain/3/vm");
  {
    XenstoreHandle guest(daemon, 3);
    ASSERT_TRUE(guest.watch("data", "w"));
    auto result = toolstack({"destroy-domain", "--domid", "3"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_FALSE(guest.read("domid")) << "the released domain's connections are closed";
  }
  EXPECT_FALSE(exists("/local/domain/3"));
  EXPECT_FALSE(exists("/local/domain/0/backend/vsnd/3"));
  EXPECT_FALSE(exists("/libxl/3"));
  EXPECT_FALSE(exists(vm));
  EXPECT_FALSE(std::filesystem::exists(daemon.xenstored_path(3)));
  EXPECT_FALSE(xs_is_domain_introduced(dom0.get(), 3));
  EXPECT_EQ(daemon.control("counts 3"), "error unknown domain 3");
  auto again = toolstack({"destroy-domain", "--domid", "3"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("no domain 3"), std::string::npos) << again.err;
}

}  // namespace
}  // namespace simtest
