// The run directory of the in-process software Xen services (xenstored, hypervisor): where
// they create their per-domain unix sockets. On a tmpfs (/dev/shm) when there is one: the
// services create and remove a directory and a socket per domain for every input, and on
// the build machine's ext4 /tmp (mounted with discard) each rmdir/unlink waited for a
// synchronous discard — most of those targets' time was spent off the CPU. Falls back to
// $TMPDIR or /tmp. Removed at exit.
#pragma once

#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "fuzz/fuzz_check.h"

namespace xensnd::fuzz {

inline std::filesystem::path make_run_dir(const std::string& name) {
  namespace fs = std::filesystem;
  static fs::path made;  // one per process: libFuzzer's entry points force a global
  std::string base = "/tmp";
  if (const char* tmp = std::getenv("TMPDIR"); tmp && *tmp) base = tmp;
  constexpr long kTmpfsMagic = 0x01021994;
  struct statfs fs_info {};
  if (::statfs("/dev/shm", &fs_info) == 0 && static_cast<long>(fs_info.f_type) == kTmpfsMagic &&
      ::access("/dev/shm", W_OK | X_OK) == 0)
    base = "/dev/shm";
  std::string pattern = base + "/xensnd-fuzz-" + name + "-XXXXXX";
  FUZZ_CHECK(::mkdtemp(pattern.data()) != nullptr);
  made = pattern;
  std::atexit([] {
    std::error_code ignored;
    fs::remove_all(made, ignored);
  });
  return made;
}

}  // namespace xensnd::fuzz
