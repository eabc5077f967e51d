// The grant-table/event-channel half inside the real daemon (xensnd-simxen): a dom0 process
// given only the environment the daemon prints grants, maps and signals through the drop-in
// libraries, and the daemon's counts see it come and go.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
extern "C" {
#include <xenevtchn.h>
#include <xengnttab.h>
}

#include <cstring>

#include "sim_daemon.h"

namespace {

// Runs in a forked child: what a dom0 backend does, on itself. Returns a failure step or 0.
int exercise_dom0(int report_fd, int wait_fd) {
  xengntshr_handle* shr = xengntshr_open(nullptr, 0);
  xengnttab_handle* tab = xengnttab_open(nullptr, 0);
  xenevtchn_handle* xce = xenevtchn_open(nullptr, 0);
  if (!shr || !tab || !xce) return 1;
  uint32_t ref;
  auto* shared = static_cast<char*>(xengntshr_share_pages(shr, 0, 1, &ref, 1));
  if (!shared) return 2;
  auto* mapped = static_cast<char*>(xengnttab_map_grant_ref(tab, 0, ref, PROT_READ | PROT_WRITE));
  if (!mapped) return 3;
  std::strcpy(mapped, "same page");
  if (std::strcmp(shared, "same page") != 0) return 4;
  int a = xenevtchn_bind_unbound_port(xce, 0);
  int b = xenevtchn_bind_interdomain(xce, 0, static_cast<uint32_t>(a));
  if (a <= 0 || b <= 0 || xenevtchn_pending(xce) != b || xenevtchn_unmask(xce, b) != 0) return 5;
  if (xenevtchn_notify(xce, b) != 0) return 6;
  pollfd p{xenevtchn_fd(xce), POLLIN, 0};
  if (poll(&p, 1, 20000) != 1 || xenevtchn_pending(xce) != a) return 7;
  char ready = 'r';
  if (write(report_fd, &ready, 1) != 1) return 8;
  // Stay alive, holding everything, until the test has looked at the counts.
  char go;
  if (read(wait_fd, &go, 1) != 1) return 9;
  return 0;  // exit without releasing anything
}

TEST(HypervisorInDaemon, Dom0ProcessGrantsMapsAndSignalsWithTheDaemonsEnvironment) {
  simtest::SimDaemon daemon;
  ASSERT_EQ(daemon.environment().count("XENSTORED_PATH"), 1u);
  int report[2], wait[2];
  ASSERT_EQ(pipe(report), 0);
  ASSERT_EQ(pipe(wait), 0);
  pid_t child = fork();
  if (child == 0) {
    for (const auto& [name, value] : daemon.environment()) setenv(name.c_str(), value.c_str(), 1);
    _exit(exercise_dom0(report[1], wait[0]));
  }
  pollfd p{report[0], POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 20000), 1);
  std::map<std::string, uint64_t> live = daemon.counts(0);
  EXPECT_EQ(live["grants"], 1u);
  EXPECT_EQ(live["mappings"], 1u);
  EXPECT_EQ(live["ports"], 2u);
  EXPECT_EQ(live["hypervisor_clients"], 1u);
  char go = 'g';
  ASSERT_EQ(write(wait[1], &go, 1), 1);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "failed step";
  std::map<std::string, uint64_t> after = daemon.counts(0);
  EXPECT_EQ(after["grants"], 0u);
  EXPECT_EQ(after["mappings"], 0u);
  EXPECT_EQ(after["ports"], 0u);
  EXPECT_EQ(after["hypervisor_clients"], 0u);
  EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
