// Figures for the software Xen's fast paths, so benchmarks of the product on it measure the
// product: notify/pending/unmask never reach the service, and a mapping is the granter's own
// memory. Run with LD_LIBRARY_PATH pointing at the drop-in libraries; prints, asserts nothing.
#include <benchmark/benchmark.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
extern "C" {
#include <xenevtchn.h>
#include <xengnttab.h>
}

#include <cstdlib>
#include <memory>
#include <vector>

#include "hypervisor_test_support.h"

namespace {

using simxen::test::HypervisorHarness;

HypervisorHarness& harness() {
  static HypervisorHarness instance({0, 1});
  return instance;
}

void enter_domain(uint16_t domid) { setenv("XENSTORED_PATH", harness().xenstored_path(domid).c_str(), 1); }

// Notify on a port whose peer is masked: the coalescing fast path, no system call at all.
void BM_NotifyCoalesced(benchmark::State& state) {
  enter_domain(0);
  xenevtchn_handle* a = xenevtchn_open(nullptr, 0);
  xenevtchn_handle* b = xenevtchn_open(nullptr, 0);
  int unbound = xenevtchn_bind_unbound_port(a, 0);
  int bound = xenevtchn_bind_interdomain(b, 0, static_cast<uint32_t>(unbound));
  xenevtchn_pending(b);  // the bind's event; the port stays masked
  xenevtchn_notify(a, static_cast<uint32_t>(unbound));
  for (auto _ : state) benchmark::DoNotOptimize(xenevtchn_notify(a, static_cast<uint32_t>(unbound)));
  (void)bound;
  xenevtchn_close(a);
  xenevtchn_close(b);
}
BENCHMARK(BM_NotifyCoalesced);

// notify -> pending -> unmask within one process: one eventfd write and one read.
void BM_NotifyPendingUnmask(benchmark::State& state) {
  enter_domain(0);
  xenevtchn_handle* a = xenevtchn_open(nullptr, 0);
  xenevtchn_handle* b = xenevtchn_open(nullptr, 0);
  int unbound = xenevtchn_bind_unbound_port(a, 0);
  int bound = xenevtchn_bind_interdomain(b, 0, static_cast<uint32_t>(unbound));
  xenevtchn_pending(b);
  xenevtchn_unmask(b, static_cast<uint32_t>(bound));
  for (auto _ : state) {
    xenevtchn_notify(a, static_cast<uint32_t>(unbound));
    int port = xenevtchn_pending(b);
    xenevtchn_unmask(b, static_cast<uint32_t>(port));
  }
  xenevtchn_close(a);
  xenevtchn_close(b);
}
BENCHMARK(BM_NotifyPendingUnmask);

// A round trip between two processes of two domains, each waiting in poll() as a frontend
// and a backend do.
void BM_CrossProcessRoundTrip(benchmark::State& state) {
  int port_pipe[2];
  if (pipe(port_pipe) != 0) std::abort();
  enter_domain(1);
  xenevtchn_handle* guest = xenevtchn_open(nullptr, 0);
  int port = xenevtchn_bind_unbound_port(guest, 0);
  pid_t backend = fork();
  if (backend == 0) {
    enter_domain(0);
    xenevtchn_handle* xce = xenevtchn_open(nullptr, 0);
    int local = xenevtchn_bind_interdomain(xce, 1, static_cast<uint32_t>(port));
    xenevtchn_pending(xce);
    xenevtchn_unmask(xce, static_cast<uint32_t>(local));
    char ready = 'r';
    if (write(port_pipe[1], &ready, 1) != 1) _exit(1);
    for (;;) {  // echo every event until killed
      pollfd p{xenevtchn_fd(xce), POLLIN, 0};
      poll(&p, 1, -1);
      int got = xenevtchn_pending(xce);
      xenevtchn_unmask(xce, static_cast<uint32_t>(got));
      xenevtchn_notify(xce, static_cast<uint32_t>(got));
    }
  }
  char ready;
  if (read(port_pipe[0], &ready, 1) != 1) std::abort();
  for (auto _ : state) {
    xenevtchn_notify(guest, static_cast<uint32_t>(port));
    pollfd p{xenevtchn_fd(guest), POLLIN, 0};
    poll(&p, 1, -1);
    xenevtchn_unmask(guest, static_cast<uint32_t>(xenevtchn_pending(guest)));
  }
  kill(backend, SIGKILL);
  waitpid(backend, nullptr, 0);
  xenevtchn_close(guest);
  close(port_pipe[0]);
  close(port_pipe[1]);
}
BENCHMARK(BM_CrossProcessRoundTrip)->UseRealTime();

// Mapping and unmapping a buffer of N pages granted in one call (one set-up round trip to
// the service each way), then touching every page.
void BM_MapTouchUnmap(benchmark::State& state) {
  enter_domain(0);
  auto pages = static_cast<uint32_t>(state.range(0));
  xengntshr_handle* shr = xengntshr_open(nullptr, 0);
  xengnttab_handle* tab = xengnttab_open(nullptr, 0);
  std::vector<uint32_t> refs(pages);
  void* shared = xengntshr_share_pages(shr, 0, static_cast<int>(pages), refs.data(), 1);
  for (auto _ : state) {
    auto* mapped = static_cast<volatile char*>(
        xengnttab_map_domain_grant_refs(tab, pages, 0, refs.data(), PROT_READ | PROT_WRITE));
    for (uint32_t i = 0; i < pages; ++i) mapped[i * 4096] = 1;
    xengnttab_unmap(tab, const_cast<char*>(mapped), pages);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * pages * 4096);
  xengntshr_unshare(shr, shared, pages);
  xengntshr_close(shr);
  xengnttab_close(tab);
}
BENCHMARK(BM_MapTouchUnmap)->Arg(1)->Arg(16)->Arg(256);

}  // namespace

BENCHMARK_MAIN();
