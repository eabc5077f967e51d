// Exported so that programs linking them (snd_be links the dmabuf calls without using them)
// load; a software Xen has no dma-buf or hypervisor-side copy, so each fails with ENOSYS.
extern "C" {  // the header has no C++ guard of its own
#include <xengnttab.h>
}

#include <cerrno>

extern "C" {

int xengnttab_grant_copy(xengnttab_handle*, uint32_t, xengnttab_grant_copy_segment_t*) {
  errno = ENOSYS;
  return -1;
}

int xengnttab_dmabuf_exp_from_refs(xengnttab_handle*, uint32_t, uint32_t, uint32_t, const uint32_t*, uint32_t*) {
  errno = ENOSYS;
  return -1;
}

int xengnttab_dmabuf_exp_wait_released(xengnttab_handle*, uint32_t, uint32_t) {
  errno = ENOSYS;
  return -1;
}

int xengnttab_dmabuf_imp_to_refs(xengnttab_handle*, uint32_t, uint32_t, uint32_t, uint32_t*) {
  errno = ENOSYS;
  return -1;
}

int xengnttab_dmabuf_imp_release(xengnttab_handle*, uint32_t) {
  errno = ENOSYS;
  return -1;
}

}  // extern "C"
