#include "backend/options.h"

#include <gtest/gtest.h>

#include <vector>

namespace xensnd::backend {
namespace {

ParsedCommandLine parse(std::vector<std::string> args) {
  args.insert(args.begin(), "xensnd-backend");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

TEST(Options, DefaultsBehaveLikeSndBe) {
  auto parsed = parse({});
  ASSERT_TRUE(parsed.options);
  const BackendOptions& o = *parsed.options;
  EXPECT_FALSE(o.publish_versions);
  EXPECT_TRUE(o.snd_be_startup);
  EXPECT_FALSE(o.free_run);
  EXPECT_EQ(o.position_after_stop, PositionAfterStop::kRestart);
  EXPECT_EQ(o.sink.kind, SinkSpec::Kind::kNull);
  EXPECT_EQ(o.capture_burst_ms, 0u);
  EXPECT_EQ(o.positions, PositionSource::kPlayed);
  EXPECT_FALSE(o.stall_after_ms);
}

TEST(Options, ParsesThePeerBehaviourSwitches) {
  auto parsed = parse({"--capture-bursts", "2000", "--positions=audio-timestamp", "--stall-after", "1500"});
  ASSERT_TRUE(parsed.options) << parsed.message;
  EXPECT_EQ(parsed.options->capture_burst_ms, 2000u);
  EXPECT_EQ(parsed.options->positions, PositionSource::kAudioTimestamp);
  EXPECT_EQ(parsed.options->stall_after_ms, 1500u);
}

TEST(Options, ParsesSinksSourcesAndSwitches) {
  auto parsed = parse({"--frontend-domid", "3", "--sink=wav:/tmp/out", "--sink", "0/1=null", "--source",
                       "1/0=loopback:0/0", "--source", "sine:440", "--free-run", "--position-after-stop=continue",
                       "--publish-versions", "--fault", "drop-response:op=write", "-v", "-v"});
  ASSERT_TRUE(parsed.options) << parsed.message;
  const BackendOptions& o = *parsed.options;
  EXPECT_EQ(o.frontend_domid, 3);
  EXPECT_EQ(o.sink_for(0, 0).kind, SinkSpec::Kind::kWav);
  EXPECT_EQ(o.sink_for(0, 0).argument, "/tmp/out");
  EXPECT_EQ(o.sink_for(0, 1).kind, SinkSpec::Kind::kNull);
  EXPECT_EQ(o.source_for(1, 0).kind, SourceSpec::Kind::kLoopback);
  EXPECT_EQ(o.source_for(0, 1).kind, SourceSpec::Kind::kSine);
  EXPECT_DOUBLE_EQ(o.source_for(0, 1).frequency, 440);
  EXPECT_TRUE(o.free_run);
  EXPECT_TRUE(o.publish_versions);
  EXPECT_EQ(o.position_after_stop, PositionAfterStop::kContinue);
  EXPECT_EQ(o.faults.size(), 1u);
  EXPECT_EQ(o.log_level, LogLevel::kTrace);
}

TEST(Options, BadCommandLinesExitWithAMessage) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"--sink", "speaker"}, {"--source", "sine:-3"}, {"--frontend-domid", "x"}, {"--fault", "boom"},
           {"--position-after-stop", "sometimes"}, {"--device-buffer", "0"}, {"--log-level"}, {"--what"},
           {"--capture-bursts", "0"}, {"--capture-bursts", "100000"}, {"--positions", "hw"}, {"--stall-after", "-1"}}) {
    auto parsed = parse(args);
    EXPECT_FALSE(parsed.options) << args[0];
    EXPECT_EQ(parsed.exit_code, 2);
    EXPECT_NE(parsed.message.find("xensnd-backend:"), std::string::npos);
  }
  auto help = parse({"--help"});
  EXPECT_FALSE(help.options);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.message.find("--fault"), std::string::npos);
}

}  // namespace
}  // namespace xensnd::backend
