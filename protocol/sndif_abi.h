// The sndif wire ABI, included from the Xen headers (never vendored), with the barriers
// ring.h expects from its includer and compile-time checks of the layout both sides share.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <xen/io/sndif.h>

// ring.h leaves xen_mb/xen_rmb/xen_wmb to the includer in user space. Without
// __XEN_INTERFACE_VERSION__ it defines them itself as mb()/rmb()/wmb(), kernel macros that
// do not exist here: replace them after the include (the ring macros expand at use).
#undef xen_mb
#undef xen_rmb
#undef xen_wmb
#define xen_mb() std::atomic_thread_fence(std::memory_order_seq_cst)
#define xen_rmb() std::atomic_thread_fence(std::memory_order_acquire)
#define xen_wmb() std::atomic_thread_fence(std::memory_order_release)

namespace xensnd::abi {

// The nodes a frontend publishes in each stream's directory (besides `version` in the card's).
inline constexpr const char* kStreamTransportNodes[] = {XENSND_FIELD_RING_REF, XENSND_FIELD_EVT_CHNL,
                                                       XENSND_FIELD_EVT_RING_REF, XENSND_FIELD_EVT_EVT_CHNL};

// Grants are always 4 KiB pages, whatever the guest's own page size.
inline constexpr size_t kXenPageSize = 4096;
// Grant references in one page-directory page: the page minus gref_dir_next_page.
inline constexpr size_t kRefsPerDirectoryPage =
    (kXenPageSize - offsetof(xensnd_page_directory, gref)) / sizeof(grant_ref_t);

// A compiler or ABI difference must fail the build, not the audio: every packet is 64 bytes
// and every field sits where sndif.h's diagrams put it.
static_assert(sizeof(grant_ref_t) == 4);
static_assert(sizeof(xensnd_req) == 64);
static_assert(sizeof(xensnd_resp) == 64);
static_assert(sizeof(xensnd_evt) == 64);
static_assert(sizeof(xensnd_event_page) == 64);
static_assert(offsetof(xensnd_req, id) == 0);
static_assert(offsetof(xensnd_req, operation) == 2);
static_assert(offsetof(xensnd_req, op) == 8);
static_assert(offsetof(xensnd_resp, id) == 0);
static_assert(offsetof(xensnd_resp, operation) == 2);
static_assert(offsetof(xensnd_resp, status) == 4);
static_assert(offsetof(xensnd_resp, resp) == 8);
static_assert(offsetof(xensnd_evt, type) == 2);
static_assert(offsetof(xensnd_evt, op) == 8);
static_assert(sizeof(xensnd_open_req) == 20);
static_assert(offsetof(xensnd_open_req, pcm_rate) == 0);
static_assert(offsetof(xensnd_open_req, pcm_format) == 4);
static_assert(offsetof(xensnd_open_req, pcm_channels) == 5);
static_assert(offsetof(xensnd_open_req, buffer_sz) == 8);
static_assert(offsetof(xensnd_open_req, gref_directory) == 12);
static_assert(offsetof(xensnd_open_req, period_sz) == 16);
static_assert(offsetof(xensnd_rw_req, offset) == 0);
static_assert(offsetof(xensnd_rw_req, length) == 4);
static_assert(sizeof(xensnd_query_hw_param) == 40);
static_assert(offsetof(xensnd_query_hw_param, rates) == 8);
static_assert(offsetof(xensnd_query_hw_param, channels) == 16);
static_assert(offsetof(xensnd_query_hw_param, buffer) == 24);
static_assert(offsetof(xensnd_query_hw_param, period) == 32);
static_assert(offsetof(xensnd_cur_pos_evt, position) == 0);
static_assert(offsetof(xensnd_page_directory, gref_dir_next_page) == 0);
static_assert(offsetof(xensnd_page_directory, gref) == 4);
static_assert(kRefsPerDirectoryPage == 1023);
static_assert(XENSND_IN_RING_LEN == 63);
static_assert(offsetof(xen_sndif_sring, ring) == 64);
// 4096-byte page, 64-byte header, 64-byte entries: 63 rounded down to a power of two.
static_assert(__CONST_RING_SIZE(xen_sndif, kXenPageSize) == 32);

}  // namespace xensnd::abi
