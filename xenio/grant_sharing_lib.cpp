// Grants over the real libxengnttab.
extern "C" {  // the Xen library headers declare no C linkage of their own
#include <xengnttab.h>
}

#include <sys/mman.h>

#include <cerrno>

#include "xenio/error.h"
#include "xenio/grant_sharing.h"

namespace xenio {
namespace {

class LibSharedPages final : public SharedPages {
 public:
  LibSharedPages(xengntshr_handle* handle, void* data, std::vector<GrantRef> refs)
      : handle_(handle), data_(static_cast<std::byte*>(data)), refs_(std::move(refs)) {}
  ~LibSharedPages() override { xengntshr_unshare(handle_, data_, refs_.size()); }
  std::byte* data() const override { return data_; }
  size_t page_count() const override { return refs_.size(); }
  const std::vector<GrantRef>& refs() const override { return refs_; }

 private:
  xengntshr_handle* handle_;
  std::byte* data_;
  std::vector<GrantRef> refs_;
};

class LibGrantSharer final : public GrantSharer {
 public:
  explicit LibGrantSharer(xengntshr_handle* handle) : handle_(handle) {}
  ~LibGrantSharer() override { xengntshr_close(handle_); }

  std::unique_ptr<SharedPages> share(DomainId peer, size_t page_count, bool writable) override {
    std::vector<GrantRef> refs(page_count);
    errno = 0;
    void* data = xengntshr_share_pages(handle_, peer, static_cast<int>(page_count), refs.data(),
                                       writable ? 1 : 0);
    if (!data)
      throw_errno("cannot grant " + std::to_string(page_count) + " pages to domain " +
                  std::to_string(peer) + " (/dev/xen/gntalloc)");
    return std::make_unique<LibSharedPages>(handle_, data, std::move(refs));
  }

 private:
  xengntshr_handle* handle_;
};

class LibMappedPages final : public MappedPages {
 public:
  LibMappedPages(xengnttab_handle* handle, void* data, size_t count)
      : handle_(handle), data_(static_cast<std::byte*>(data)), count_(count) {}
  ~LibMappedPages() override { xengnttab_unmap(handle_, data_, static_cast<uint32_t>(count_)); }
  std::byte* data() const override { return data_; }
  size_t page_count() const override { return count_; }

 private:
  xengnttab_handle* handle_;
  std::byte* data_;
  size_t count_;
};

class LibGrantMapper final : public GrantMapper {
 public:
  explicit LibGrantMapper(xengnttab_handle* handle) : handle_(handle) {}
  ~LibGrantMapper() override { xengnttab_close(handle_); }

  std::unique_ptr<MappedPages> map(DomainId granter, std::span<const GrantRef> refs,
                                   bool writable) override {
    std::vector<uint32_t> raw(refs.begin(), refs.end());
    errno = 0;
    void* data = xengnttab_map_domain_grant_refs(handle_, static_cast<uint32_t>(raw.size()), granter,
                                                 raw.data(), writable ? PROT_READ | PROT_WRITE : PROT_READ);
    if (!data)
      throw_errno("cannot map " + std::to_string(raw.size()) + " grants of domain " +
                  std::to_string(granter));
    return std::make_unique<LibMappedPages>(handle_, data, raw.size());
  }

 private:
  xengnttab_handle* handle_;
};

}  // namespace

std::unique_ptr<GrantSharer> open_grant_sharer() {
  errno = 0;
  xengntshr_handle* handle = xengntshr_open(nullptr, 0);
  if (!handle) throw_errno("cannot open /dev/xen/gntalloc");
  return std::make_unique<LibGrantSharer>(handle);
}

std::unique_ptr<GrantMapper> open_grant_mapper() {
  errno = 0;
  xengnttab_handle* handle = xengnttab_open(nullptr, 0);
  if (!handle) throw_errno("cannot open /dev/xen/gntdev");
  return std::make_unique<LibGrantMapper>(handle);
}

}  // namespace xenio
