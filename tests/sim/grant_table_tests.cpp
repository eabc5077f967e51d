// Grant tables on the software Xen, through the drop-in libxengnttab: every test runs the
// sharing and the mapping side in separate processes of separate domains.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
extern "C" {
#include <xenevtchn.h>
#include <xengnttab.h>
}

#include <cerrno>
#include <cstring>
#include <set>

#include "hypervisor_test_support.h"

namespace simxen::test {
namespace {

constexpr size_t kPage = 4096;

TEST(GrantTable, PageSharedInOneProcessIsMappedAndWrittenInAnother) {
  HypervisorHarness harness;
  LinkPair link;
  DomainProcess guest(harness, 1, [&] {
    xengntshr_handle* shr = xengntshr_open(nullptr, 0);
    require(shr != nullptr, "xengntshr_open: " + std::string(strerror(errno)));
    uint32_t refs[2];
    auto* pages = static_cast<char*>(xengntshr_share_pages(shr, 0, 2, refs, 1));
    require(pages != nullptr, "share_pages");
    std::strcpy(pages, "from the guest");
    link.a.send_all({refs[0], refs[1]});
    require(link.a.receive() == 1, "backend done");
    require(std::strcmp(pages + kPage, "from the backend") == 0, "guest sees the backend's bytes");
    require(xengntshr_unshare(shr, pages, 2) == 0, "unshare");
    xengntshr_close(shr);
  });
  DomainProcess backend(harness, 0, [&] {
    std::vector<uint32_t> refs = link.b.receive_all();
    xengnttab_handle* tab = xengnttab_open(nullptr, 0);
    require(tab != nullptr, "xengnttab_open");
    auto* pages = static_cast<char*>(
        xengnttab_map_domain_grant_refs(tab, 2, 1, refs.data(), PROT_READ | PROT_WRITE));
    require(pages != nullptr, "map_domain_grant_refs: " + std::string(strerror(errno)));
    require(std::strcmp(pages, "from the guest") == 0, "backend sees the guest's bytes");
    std::strcpy(pages + kPage, "from the backend");  // contiguous: page 2 right after page 1
    require(xengnttab_unmap(tab, pages, 2) == 0, "unmap");
    link.b.send(1);
    xengnttab_close(tab);
  });
  EXPECT_EQ(backend.wait(), 0);
  EXPECT_EQ(guest.wait(), 0);
  EXPECT_EQ(harness.counts(0), HypervisorCounts{});
  EXPECT_EQ(harness.counts(1), HypervisorCounts{});
}

TEST(GrantTable, PagesOfSeparateSharesMapContiguously) {
  HypervisorHarness harness;
  LinkPair link;
  DomainProcess guest(harness, 1, [&] {
    xengntshr_handle* shr = xengntshr_open(nullptr, 0);
    uint32_t a, b[2];
    auto* first = static_cast<char*>(xengntshr_share_pages(shr, 0, 1, &a, 1));
    auto* second = static_cast<char*>(xengntshr_share_pages(shr, 0, 2, b, 1));
    require(first && second, "share");
    first[0] = 'A';
    second[0] = 'B';
    second[kPage] = 'C';
    // Out of order on purpose: the mapping follows the ref order, not the memory's.
    link.a.send_all({b[1], a, b[0]});
    require(link.a.receive() == 1, "backend done");
  });
  DomainProcess backend(harness, 0, [&] {
    std::vector<uint32_t> refs = link.b.receive_all();
    xengnttab_handle* tab = xengnttab_open(nullptr, 0);
    auto* pages = static_cast<char*>(xengnttab_map_domain_grant_refs(tab, 3, 1, refs.data(), PROT_READ));
    require(pages != nullptr, "map");
    require(pages[0] == 'C' && pages[kPage] == 'A' && pages[2 * kPage] == 'B', "pages in ref order");
    link.b.send(1);
  });
  EXPECT_EQ(backend.wait(), 0);
  EXPECT_EQ(guest.wait(), 0);
}

TEST(GrantTable, MapOfManySeparateSharesCarriesAllTheirDescriptors) {
  // 300 single-page shares: more memfds than one packet may carry (SCM_MAX_FD is 253).
  HypervisorHarness harness;
  LinkPair link;
  DomainProcess guest(harness, 1, [&] {
    xengntshr_handle* shr = xengntshr_open(nullptr, 0);
    std::vector<uint32_t> refs(300);
    for (uint32_t i = 0; i < refs.size(); ++i) {
      auto* page = static_cast<uint32_t*>(xengntshr_share_pages(shr, 0, 1, &refs[i], 1));
      require(page != nullptr, "share");
      *page = i;
    }
    link.a.send_all(refs);
    require(link.a.receive() == 1, "backend done");
  });
  DomainProcess backend(harness, 0, [&] {
    std::vector<uint32_t> refs = link.b.receive_all();
    xengnttab_handle* tab = xengnttab_open(nullptr, 0);
    auto* pages = static_cast<char*>(
        xengnttab_map_domain_grant_refs(tab, static_cast<uint32_t>(refs.size()), 1, refs.data(), PROT_READ));
    require(pages != nullptr, "map 300 pages of 300 memfds: " + std::string(strerror(errno)));
    for (uint32_t i = 0; i < refs.size(); ++i)
      require(*reinterpret_cast<uint32_t*>(pages + i * kPage) == i, "page " + std::to_string(i));
    require(xengnttab_unmap(tab, pages, static_cast<uint32_t>(refs.size())) == 0, "unmap");
    link.b.send(1);
  });
  EXPECT_EQ(backend.wait(), 0);
  EXPECT_EQ(guest.wait(), 0);
}

TEST(GrantTable, ReadOnlyGrantRefusesWritableMap) {
  HypervisorHarness harness;
  LinkPair link;
  DomainProcess guest(harness, 1, [&] {
    xengntshr_handle* shr = xengntshr_open(nullptr, 0);
    uint32_t ref;
    auto* page = static_cast<char*>(xengntshr_share_pages(shr, 0, 1, &ref, 0));
    require(page != nullptr, "share read-only");
    page[0] = 'r';
    link.a.send(ref);
    require(link.a.receive() == 1, "backend done");
  });
  DomainProcess backend(harness, 0, [&] {
    uint32_t ref = link.b.receive();
    xengnttab_handle* tab = xengnttab_open(nullptr, 0);
    errno = 0;
    require(xengnttab_map_grant_ref(tab, 1, ref, PROT_READ | PROT_WRITE) == nullptr, "writable map refused");
    require(errno == EINVAL, "EINVAL for a writable map of a read-only grant");
    auto* page = static_cast<char*>(xengnttab_map_grant_ref(tab, 1, ref, PROT_READ));
    require(page != nullptr && page[0] == 'r', "read-only map works");
    // Even mprotect cannot make it writable: the descriptor itself is read-only.
    require(mprotect(page, kPage, PROT_READ | PROT_WRITE) != 0, "mprotect to writable refused");
    link.b.send(1);
  });
  EXPECT_EQ(backend.wait(), 0);
  EXPECT_EQ(guest.wait(), 0);
}

TEST(GrantTable, OnlyTheNamedDomainMayMapAndOnlyNamingTheGranter) {
  HypervisorHarness harness;
  LinkPair to_backend, to_other;
  DomainProcess guest(harness, 1, [&] {
    xengntshr_handle* shr = xengntshr_open(nullptr, 0);
    uint32_t ref;
    require(xengntshr_share_pages(shr, 0, 1, &ref, 1) != nullptr, "share");
    to_backend.a.send(ref);
    to_other.a.send(ref);
    require(to_backend.a.receive() == 1 && to_other.a.receive() == 1, "both done");
  });
  DomainProcess backend(harness, 0, [&] {
    uint32_t ref = to_backend.b.receive();
    xengnttab_handle* tab = xengnttab_open(nullptr, 0);
    errno = 0;
    require(xengnttab_map_grant_ref(tab, 2, ref, PROT_READ) == nullptr && errno == EINVAL,
            "naming the wrong granting domain: EINVAL");
    errno = 0;
    require(xengnttab_map_grant_ref(tab, 1, ref + 1, PROT_READ) == nullptr && errno == EINVAL,
            "a ref never granted: EINVAL");
    require(xengnttab_map_grant_ref(tab, 1, ref, PROT_READ) != nullptr, "the right domain maps");
    to_backend.b.send(1);
  });
  DomainProcess other(harness, 2, [&] {
    uint32_t ref = to_other.b.receive();
    xengnttab_handle* tab = xengnttab_open(nullptr, 0);
    errno = 0;
    require(xengnttab_map_grant_ref(tab, 1, ref, PROT_READ) == nullptr && errno == EINVAL,
            "a domain the grant does not name: EINVAL");
    to_other.b.send(1);
  });
  EXPECT_EQ(backend.wait(), 0);
  EXPECT_EQ(other.wait(), 0);
  EXPECT_EQ(guest.wait(), 0);
}

TEST(GrantTable, RefsAreNeverReservedAndTheGuestLimitIsEnforced) {
  HypervisorHarness harness;
  DomainProcess guest(harness, 1, [&] {
    xengntshr_handle* shr = xengntshr_open(nullptr, 0);
    std::set<uint32_t> seen;
    std::vector<void*> shares;
    // 1024 grants in all, as gntalloc's default limit, from two handles of one process; one
    // page a call, so the service holds a descriptor for each (beyond the usual soft limit).
    xengntshr_handle* second = xengntshr_open(nullptr, 0);
    for (int i = 0; i < 1024; ++i) {
      uint32_t ref;
      void* page = xengntshr_share_pages(i % 2 ? second : shr, 0, 1, &ref, 1);
      require(page != nullptr, "share within the limit: " + std::string(strerror(errno)));
      shares.push_back(page);
      require(ref >= 8, "refs 0-7 are reserved");
      require(seen.insert(ref).second, "refs are unique");
    }
    uint32_t ref;
    errno = 0;
    require(xengntshr_share_pages(shr, 0, 1, &ref, 1) == nullptr && errno == ENOSPC, "limit: ENOSPC");
    require(xengntshr_unshare(shr, shares[0], 1) == 0, "unshare");
    require(xengntshr_share_pages(shr, 0, 1, &ref, 1) != nullptr, "room again after unshare");
    require(ref >= 8, "reused refs are not reserved ones either");
  });
  EXPECT_EQ(guest.wait(), 0);
}

TEST(GrantTable, LimitIsPerDomainNotPerProcess) {
  HypervisorHarness harness;
  LinkPair link;
  DomainProcess first(harness, 1, [&] {
    xengntshr_handle* shr = xengntshr_open(nullptr, 0);
    std::vector<uint32_t> refs(1000);
    require(xengntshr_share_pages(shr, 0, 1000, refs.data(), 1) != nullptr, "1000 grants");
    link.a.send(1);
    require(link.a.receive() == 1, "second done");
  });
  DomainProcess second(harness, 1, [&] {
    require(link.b.receive() == 1, "first shared");
    xengntshr_handle* shr = xengntshr_open(nullptr, 0);
    std::vector<uint32_t> refs(25);
    errno = 0;
    require(xengntshr_share_pages(shr, 0, 25, refs.data(), 1) == nullptr && errno == ENOSPC,
            "the domain's limit covers all its processes");
    require(xengntshr_share_pages(shr, 0, 24, refs.data(), 1) != nullptr, "up to 1024");
    link.b.send(1);
  });
  EXPECT_EQ(second.wait(), 0);
  EXPECT_EQ(first.wait(), 0);
}

TEST(GrantTable, ProcessExitReleasesGrantsAndMappings) {
  HypervisorHarness harness;
  LinkPair link;
  DomainProcess guest(harness, 1, [&] {
    xengntshr_handle* shr = xengntshr_open(nullptr, 0);
    uint32_t refs[3];
    auto* pages = static_cast<char*>(xengntshr_share_pages(shr, 0, 3, refs, 1));
    require(pages != nullptr, "share");
    link.a.send_all({refs[0], refs[1], refs[2]});
    require(link.a.receive() == 1, "mapped");
    // Exit without unsharing or closing anything.
  });
  std::vector<uint32_t> refs;
  DomainProcess backend(harness, 0, [&] {
    refs = link.b.receive_all();
    xengnttab_handle* tab = xengnttab_open(nullptr, 0);
    auto* pages = static_cast<char*>(xengnttab_map_domain_grant_refs(tab, 3, 1, refs.data(), PROT_READ | PROT_WRITE));
    require(pages != nullptr, "map");
    link.b.send(1);
    require(link.b.receive() == 2, "test saw the counts");
    // Exit without unmapping.
  });
  // The guest exits only after the backend mapped.
  EXPECT_EQ(guest.wait(), 0);
  HypervisorCounts mapped = harness.counts(0);
  EXPECT_EQ(mapped.mappings, 3u);
  EXPECT_EQ(mapped.clients, 1u);
  // The guest has gone, but the backend still maps its pages: the grants stay until unmapped.
  EXPECT_EQ(harness.counts(1).grants, 3u);
  link.a.send(2);
  EXPECT_EQ(backend.wait(), 0);
  EXPECT_EQ(harness.counts(0), HypervisorCounts{});
  EXPECT_EQ(harness.counts(1), HypervisorCounts{});
}

TEST(GrantTable, ForkedChildNeitherKeepsNorReleasesItsParentsGrants) {
  HypervisorHarness harness;
  LinkPair link;
  DomainProcess guest(harness, 1, [&] {
    xengntshr_handle* shr = xengntshr_open(nullptr, 0);
    uint32_t ref;
    void* page = xengntshr_share_pages(shr, 0, 1, &ref, 1);
    require(page != nullptr, "share");
    pid_t child = fork();
    if (child == 0) {
      // The child may only close what it inherited; neither call may touch the parent's grant.
      xengntshr_unshare(shr, page, 1);
      xengntshr_close(shr);
      _exit(0);
    }
    int status;
    require(waitpid(child, &status, 0) == child, "child ran");
    link.a.send(ref);
    require(link.a.receive() == 1, "backend mapped after the child left");
    // Another child outlives us while holding our socket: our exit must still release.
    pid_t lingering = fork();
    if (lingering == 0) {
      link.a.receive();  // until the test is over
      _exit(0);
    }
    link.a.send(static_cast<uint32_t>(lingering));
  });
  DomainProcess backend(harness, 0, [&] {
    uint32_t ref = link.b.receive();
    xengnttab_handle* tab = xengnttab_open(nullptr, 0);
    void* page = xengnttab_map_grant_ref(tab, 1, ref, PROT_READ);
    require(page != nullptr, "the parent's grant survived its child");
    require(xengnttab_unmap(tab, page, 1) == 0, "unmap");
    link.b.send(1);
  });
  EXPECT_EQ(backend.wait(), 0);
  EXPECT_EQ(guest.wait(), 0);
  pid_t lingering = static_cast<pid_t>(link.b.receive());
  EXPECT_EQ(harness.counts(1).grants, 0u) << "the grant belongs to the exited parent, not its child";
  kill(lingering, SIGKILL);
}

TEST(GrantTable, UnmapNeedsTheWholeMappingAndUnshareReleases) {
  HypervisorHarness harness;
  LinkPair link;
  DomainProcess guest(harness, 1, [&] {
    xengntshr_handle* shr = xengntshr_open(nullptr, 0);
    uint32_t refs[2];
    auto* pages = static_cast<char*>(xengntshr_share_pages(shr, 0, 2, refs, 1));
    link.a.send_all({refs[0], refs[1]});
    require(link.a.receive() == 1, "mapped and unmapped");
    require(xengntshr_unshare(shr, pages + kPage, 1) == 0, "unshare the second page alone");
    link.a.send(1);
    require(link.a.receive() == 1, "second page refused");
  });
  DomainProcess backend(harness, 0, [&] {
    std::vector<uint32_t> refs = link.b.receive_all();
    xengnttab_handle* tab = xengnttab_open(nullptr, 0);
    auto* pages = static_cast<char*>(xengnttab_map_domain_grant_refs(tab, 2, 1, refs.data(), PROT_READ));
    require(pages != nullptr, "map");
    errno = 0;
    require(xengnttab_unmap(tab, pages, 1) == -1 && errno == EINVAL, "partial unmap: EINVAL");
    require(xengnttab_unmap(tab, pages, 2) == 0, "whole unmap");
    link.b.send(1);
    require(link.b.receive() == 1, "unshared");
    require(xengnttab_map_grant_ref(tab, 1, refs[0], PROT_READ) != nullptr, "first page still granted");
    errno = 0;
    require(xengnttab_map_grant_ref(tab, 1, refs[1], PROT_READ) == nullptr && errno == EINVAL,
            "unshared page no longer mappable");
    link.b.send(1);
  });
  EXPECT_EQ(backend.wait(), 0);
  EXPECT_EQ(guest.wait(), 0);
}

TEST(GrantTable, PagesOutliveTheirClosedHandleUntilUnsharedOrUnmapped) {
  // As with the devices, whose file every mmap keeps open: closing a handle first is fine.
  HypervisorHarness harness;
  LinkPair link;
  DomainProcess guest(harness, 1, [&] {
    xengntshr_handle* shr = xengntshr_open(nullptr, 0);
    uint32_t ref;
    void* page = xengntshr_share_pages(shr, 0, 1, &ref, 1);
    require(page != nullptr, "share");
    require(xengntshr_close(shr) == 0, "close with the page still shared");
    link.a.send(ref);
    require(link.a.receive() == 1, "backend mapped after the close");
    require(xengntshr_unshare(shr, page, 1) == 0, "unshare through the closed handle");
    link.a.send(1);
    require(link.a.receive() == 1, "backend done");
  });
  DomainProcess backend(harness, 0, [&] {
    uint32_t ref = link.b.receive();
    xengnttab_handle* tab = xengnttab_open(nullptr, 0);
    void* page = xengnttab_map_grant_ref(tab, 1, ref, PROT_READ);
    require(page != nullptr, "the grant survived its handle's close");
    require(xengnttab_close(tab) == 0, "close with the page still mapped");
    link.b.send(1);
    require(link.b.receive() == 1, "guest unshared");
    require(xengnttab_unmap(tab, page, 1) == 0, "unmap through the closed handle");
    link.b.send(1);
    require(link.b.receive() == 2, "counts seen");
  });
  EXPECT_EQ(guest.wait(), 0);
  EXPECT_EQ(harness.counts(0), HypervisorCounts{}) << "closed and unmapped: nothing left, though alive";
  EXPECT_EQ(harness.counts(1), HypervisorCounts{});
  link.a.send(2);
  EXPECT_EQ(backend.wait(), 0);
}

TEST(GrantTable, SaveRestoreInvalidatesTheGuestsGrants) {
  HypervisorHarness harness;
  LinkPair link;
  DomainProcess guest(harness, 1, [&] {
    xengntshr_handle* shr = xengntshr_open(nullptr, 0);
    uint32_t ref;
    void* page = xengntshr_share_pages(shr, 0, 1, &ref, 1);
    link.a.send(ref);
    require(link.a.receive() == 1, "checked");
    require(xengntshr_unshare(shr, page, 1) == 0, "unsharing a revoked grant is not an error");
  });
  uint32_t ref = link.b.receive();
  EXPECT_EQ(harness.counts(1).grants, 1u);
  harness.invalidate(1);
  EXPECT_EQ(harness.counts(1).grants, 0u);
  DomainProcess backend(harness, 0, [&] {
    xengnttab_handle* tab = xengnttab_open(nullptr, 0);
    errno = 0;
    require(xengnttab_map_grant_ref(tab, 1, ref, PROT_READ) == nullptr && errno == EINVAL,
            "a revoked grant cannot be mapped");
  });
  EXPECT_EQ(backend.wait(), 0);
  link.b.send(1);
  EXPECT_EQ(guest.wait(), 0);
}

TEST(GrantTable, MappingsNotifyOnReleaseEvenWhenTheProcessDies) {
  HypervisorHarness harness;
  LinkPair link;
  DomainProcess guest(harness, 1, [&] {
    xengntshr_handle* shr = xengntshr_open(nullptr, 0);
    uint32_t ref;
    auto* page = static_cast<volatile char*>(xengntshr_share_pages(shr, 0, 1, &ref, 1));
    page[100] = 1;  // "backend alive"
    xenevtchn_handle* xce = xenevtchn_open(nullptr, 0);
    int port = xenevtchn_bind_unbound_port(xce, 0);
    link.a.send_all({ref, static_cast<uint32_t>(port)});
    require(link.a.receive() == 1, "backend mapped");
    // The backend dies without unmapping: its mapping's notify still clears the byte and
    // sends the event, as gntdev does when the process goes.
    require(eventually_readable(xenevtchn_fd(xce)), "event on the backend's death");
    require(xenevtchn_pending(xce) == port, "on the guest's port");
    require(page[100] == 0, "byte cleared");
  });
  DomainProcess backend(harness, 0, [&] {
    std::vector<uint32_t> got = link.b.receive_all();
    xenevtchn_handle* xce = xenevtchn_open(nullptr, 0);
    int local = xenevtchn_bind_interdomain(xce, 1, got[1]);
    require(local > 0, "bind");
    xengnttab_handle* tab = xengnttab_open(nullptr, 0);
    auto* page = static_cast<char*>(
        xengnttab_map_grant_ref_notify(tab, 1, got[0], PROT_READ | PROT_WRITE, 100, static_cast<uint32_t>(local)));
    require(page != nullptr && page[100] == 1, "map with notify");
    link.b.send(1);
  });
  EXPECT_EQ(backend.wait(), 0);
  EXPECT_EQ(guest.wait(), 0);
}

TEST(GrantTable, NotifyPortStaysBoundUntilTheMappingIsReleased) {
  HypervisorHarness harness;
  LinkPair link;
  DomainProcess guest(harness, 1, [&] {
    xengntshr_handle* shr = xengntshr_open(nullptr, 0);
    uint32_t ref;
    require(xengntshr_share_pages(shr, 0, 1, &ref, 1) != nullptr, "share");
    xenevtchn_handle* xce = xenevtchn_open(nullptr, 0);
    int port = xenevtchn_bind_unbound_port(xce, 0);
    link.a.send_all({ref, static_cast<uint32_t>(port)});
    require(eventually_readable(xenevtchn_fd(xce)), "event when the backend unmapped");
    require(xenevtchn_pending(xce) == port, "on the guest's port");
  });
  DomainProcess backend(harness, 0, [&] {
    std::vector<uint32_t> got = link.b.receive_all();
    xenevtchn_handle* xce = xenevtchn_open(nullptr, 0);
    int local = xenevtchn_bind_interdomain(xce, 1, got[1]);
    xengnttab_handle* tab = xengnttab_open(nullptr, 0);
    errno = 0;
    require(xengnttab_map_grant_ref_notify(tab, 1, got[0], PROT_READ, static_cast<uint32_t>(-1) - 1, 999) == nullptr &&
                errno == EINVAL,
            "a notify port not bound in the domain: EINVAL");
    void* page = xengnttab_map_grant_ref_notify(tab, 1, got[0], PROT_READ, static_cast<uint32_t>(-1) - 1,
                                                static_cast<uint32_t>(local));
    require(page != nullptr, "map with an event-only notify");
    // As with gntdev, the mapping keeps the port bound after its handle is gone.
    xenevtchn_close(xce);
    require(xengnttab_unmap(tab, page, 1) == 0, "unmap");
  });
  EXPECT_EQ(backend.wait(), 0);
  EXPECT_EQ(guest.wait(), 0);
  EXPECT_EQ(harness.counts(0), HypervisorCounts{});
}

TEST(GrantTable, SharesNotifyOnUnshare) {
  HypervisorHarness harness;
  LinkPair link;
  DomainProcess guest(harness, 1, [&] {
    xenevtchn_handle* xce = xenevtchn_open(nullptr, 0);
    int port = xenevtchn_bind_unbound_port(xce, 0);
    link.a.send(static_cast<uint32_t>(port));
    require(link.a.receive() == 1, "backend bound");
    xengntshr_handle* shr = xengntshr_open(nullptr, 0);
    uint32_t ref;
    auto* page = static_cast<char*>(xengntshr_share_page_notify(shr, 0, &ref, 1, 7, static_cast<uint32_t>(port)));
    require(page != nullptr, "share with notify");
    page[7] = 1;
    link.a.send(ref);
    require(link.a.receive() == 2, "backend mapped");
    require(xengntshr_unshare(shr, page, 1) == 0, "unshare");
  });
  DomainProcess backend(harness, 0, [&] {
    xenevtchn_handle* xce = xenevtchn_open(nullptr, 0);
    int local = xenevtchn_bind_interdomain(xce, 1, link.b.receive());
    require(local > 0 && eventually_readable(xenevtchn_fd(xce)) && xenevtchn_pending(xce) == local &&
                xenevtchn_unmask(xce, local) == 0, "bind");
    link.b.send(1);
    xengnttab_handle* tab = xengnttab_open(nullptr, 0);
    auto* page = static_cast<volatile char*>(xengnttab_map_grant_ref(tab, 1, link.b.receive(), PROT_READ));
    require(page != nullptr && page[7] == 1, "mapped");
    link.b.send(2);
    require(eventually_readable(xenevtchn_fd(xce)), "event when the guest unshared");
    require(xenevtchn_pending(xce) == local, "on the backend's port");
    require(page[7] == 0, "byte cleared in the still-mapped page");
  });
  EXPECT_EQ(backend.wait(), 0);
  EXPECT_EQ(guest.wait(), 0);
  EXPECT_EQ(harness.counts(0), HypervisorCounts{});
  EXPECT_EQ(harness.counts(1), HypervisorCounts{});
}

TEST(GrantTable, UnusedCallsFailWithEnosys) {
  errno = 0;
  EXPECT_EQ(xengnttab_grant_copy(nullptr, 0, nullptr), -1);
  EXPECT_EQ(errno, ENOSYS);
  uint32_t fd = 0, ref = 8;
  errno = 0;
  EXPECT_EQ(xengnttab_dmabuf_exp_from_refs(nullptr, 1, 0, 1, &ref, &fd), -1);
  EXPECT_EQ(errno, ENOSYS);
  errno = 0;
  EXPECT_EQ(xengnttab_dmabuf_exp_wait_released(nullptr, 0, 0), -1);
  EXPECT_EQ(errno, ENOSYS);
  errno = 0;
  EXPECT_EQ(xengnttab_dmabuf_imp_to_refs(nullptr, 1, 0, 1, &ref), -1);
  EXPECT_EQ(errno, ENOSYS);
  errno = 0;
  EXPECT_EQ(xengnttab_dmabuf_imp_release(nullptr, 0), -1);
  EXPECT_EQ(errno, ENOSYS);
}

}  // namespace
}  // namespace simxen::test
