// xensnd-info: lists the vsnd cards of this guest (see README.md for output and exit codes).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "tools/info/report_format.h"
#include "xenio/error.h"
#include "xenio/xenstore.h"

namespace {

// Exit codes, distinct so a script can tell the cases apart.
constexpr int kListed = 0;
constexpr int kOtherError = 1;
constexpr int kNoCard = 2;
constexpr int kNoAccess = 3;
constexpr int kUsage = 64;

constexpr const char* kUsageText =
    "usage: xensnd-info [--json]\n"
    "Lists the Xen para-virtual sound (vsnd) cards of this guest: names, PCM devices and the ALSA\n"
    "name that opens each, streams and their limits, the backend's state and protocol version,\n"
    "the process using the card and whether the kernel driver is bound.\n"
    "Exit status: 0 cards listed, 2 no vsnd card, 3 no access to XenStore, 1 other error, 64 usage.\n";

int no_access(const xenio::XenError& error) {
  std::fprintf(stderr, "xensnd-info: %s\n", error.what());
  if (error.errno_value() == EACCES || error.errno_value() == EPERM)
    std::fprintf(stderr,
                 "xensnd-info: this user may not use XenStore: it needs read-write access to "
                 "/dev/xen/xenbus (see \"Permissions\" in xensnd's README)\n");
  else
    std::fprintf(stderr, "xensnd-info: is this a Xen guest? (no XenStore to read the vsnd cards from)\n");
  return kNoAccess;
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json") {
      json = true;
    } else if (arg == "-h" || arg == "--help") {
      std::fputs(kUsageText, stdout);
      return kListed;
    } else {
      std::fprintf(stderr, "xensnd-info: unknown argument '%s'\n%s", arg.c_str(), kUsageText);
      return kUsage;
    }
  }
  try {
    std::unique_ptr<xenio::XenStore> store;
    try {
      store = xenio::open_xenstore();
    } catch (const xenio::XenError& error) {
      return no_access(error);
    }
    std::vector<xensnd::info::CardReport> cards;
    try {
      cards = xensnd::info::gather_card_reports(*store);
    } catch (const xenio::XenError& error) {
      if (error.errno_value() == EACCES || error.errno_value() == EPERM) return no_access(error);
      throw;
    }
    const std::string text = json ? xensnd::info::format_json(cards) : xensnd::info::format_text(cards);
    if (cards.empty()) {
      if (json) std::fputs(text.c_str(), stdout);
      std::fprintf(stderr,
                   "xensnd-info: no vsnd card: this guest has nothing under device/vsnd (is a vsnd= "
                   "card configured for it?)\n");
      return kNoCard;
    }
    std::fputs(text.c_str(), stdout);
    return kListed;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "xensnd-info: %s\n", error.what());
    return kOtherError;
  }
}
