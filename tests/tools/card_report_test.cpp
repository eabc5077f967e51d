// xensnd-info's report and outputs against a fake XenStore: what the software Xen cannot
// show (a kernel driver bound, a published `versions`, a card that does not parse, names
// that need escaping in JSON).
#include "tools/info/card_report.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/unit/fakes/fake_backend.h"
#include "tests/unit/fakes/fake_xenstore.h"
#include "tools/info/report_format.h"

namespace xensnd::info {
namespace {

using testing::FakeXenStore;

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char name[] = "/tmp/xensnd-card-report-XXXXXX";
    path = ::mkdtemp(name);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

ReportSources sources_with(const std::filesystem::path& sysfs, std::optional<CardHolder> holder) {
  ReportSources sources;
  sources.sysfs_root = sysfs.string();
  sources.holder_of = [holder](unsigned) { return holder; };
  return sources;
}

TEST(CardReport, KernelDriverHolderAndVersionsAreReported) {
  FakeXenStore store;
  testing::write_toolstack_nodes(store, 2);
  store.write("/local/domain/0/backend/vsnd/1/2/versions", "1,2");
  TempDir sysfs;
  std::filesystem::create_directories(sysfs.path / "bus/xen/devices/vsnd-2");
  std::filesystem::create_directories(sysfs.path / "bus/xen/drivers/vsnd");
  std::filesystem::create_directory_symlink(sysfs.path / "bus/xen/drivers/vsnd",
                                            sysfs.path / "bus/xen/devices/vsnd-2/driver");
  const auto reports = gather_card_reports(store, sources_with(sysfs.path, CardHolder{1234, "pulseaudio"}));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].kernel_driver, std::optional<std::string>("vsnd"));
  EXPECT_EQ(reports[0].backend_versions, std::optional<std::string>("1,2"));
  const std::string text = format_text(reports);
  EXPECT_NE(text.find("card 2: VCard [], backend domain 0 Initialising (1), protocol offered 1,2, in use by pid 1234 "
                      "(pulseaudio), kernel driver vsnd BOUND\n"),
            std::string::npos)
      << text;
  const std::string json = format_json(reports);
  EXPECT_NE(json.find("\"holder\":{\"pid\":1234,\"command\":\"pulseaudio\"},\"kernel_driver\":\"vsnd\""),
            std::string::npos)
      << json;
}

TEST(CardReport, ACardThatDoesNotParseIsListedWithTheReason) {
  FakeXenStore store;
  testing::write_toolstack_nodes(store, 0);
  store.write("device/vsnd/0/sample-formats", "no_such_format");
  TempDir sysfs;
  const auto reports = gather_card_reports(store, sources_with(sysfs.path, std::nullopt));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_FALSE(reports[0].config.has_value());
  EXPECT_NE(reports[0].config_error.find("no_such_format"), std::string::npos) << reports[0].config_error;
  EXPECT_NE(format_text(reports).find("card 0: (unusable) ["), std::string::npos);
  EXPECT_NE(format_json(reports).find("\"short_name\":null"), std::string::npos);
}

TEST(CardReport, JsonEscapesWhatTheToolstackWrote) {
  FakeXenStore store;
  testing::write_toolstack_nodes(store, 0);
  store.write("device/vsnd/0/long-name", std::string("a \"quoted\"\\name\n\x01"));
  TempDir sysfs;
  const std::string json = format_json(gather_card_reports(store, sources_with(sysfs.path, std::nullopt)));
  EXPECT_NE(json.find("\"long_name\":\"a \\\"quoted\\\"\\\\name\\n\\u0001\""), std::string::npos) << json;
}

}  // namespace
}  // namespace xensnd::info
