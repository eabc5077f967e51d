#include "protocol/xenstore_values.h"

#include <gtest/gtest.h>

#include <limits>

namespace xensnd {
namespace {

TEST(ParseDecimal, AcceptsPlainNumbersWithBlanks) {
  EXPECT_EQ(parse_decimal("0", 10).value, 0u);
  EXPECT_EQ(parse_decimal(" 48000\n", 100000).value, 48000u);
  EXPECT_EQ(parse_decimal("4294967295", std::numeric_limits<uint32_t>::max()).value, 4294967295u);
}

TEST(ParseDecimal, RejectsWithAReason) {
  for (const char* bad : {"", "  ", "-1", "+1", "1.5", "0x10", "12abc", "1 2"}) {
    ParsedNumber parsed = parse_decimal(bad, 1000);
    EXPECT_FALSE(parsed.value) << bad;
    EXPECT_FALSE(parsed.problem.empty()) << bad;
  }
}

TEST(ParseDecimal, HugeValuesDoNotWrap) {
  EXPECT_FALSE(parse_decimal("4294967296", std::numeric_limits<uint32_t>::max()).value);
  EXPECT_FALSE(parse_decimal("18446744073709551616", std::numeric_limits<uint64_t>::max()).value);
  EXPECT_FALSE(parse_decimal(std::string(300, '9'), std::numeric_limits<uint64_t>::max()).value);
  EXPECT_EQ(parse_decimal("18446744073709551615", std::numeric_limits<uint64_t>::max()).value,
            std::numeric_limits<uint64_t>::max());
  EXPECT_FALSE(parse_decimal("256", 255).value);
  EXPECT_FALSE(parse_decimal("9", 5).value);
}

TEST(SplitList, KeepsEmptyItemsForTheCaller) {
  EXPECT_EQ(split_list("a, b ,c"), (std::vector<std::string_view>{"a", "b", "c"}));
  EXPECT_EQ(split_list("a,,b"), (std::vector<std::string_view>{"a", "", "b"}));
  EXPECT_EQ(split_list(""), (std::vector<std::string_view>{""}));
}

TEST(JoinPath, OneSlash) {
  EXPECT_EQ(join_path("device/vsnd/0", "state"), "device/vsnd/0/state");
  EXPECT_EQ(join_path("device/vsnd/0/", "state"), "device/vsnd/0/state");
}

}  // namespace
}  // namespace xensnd
