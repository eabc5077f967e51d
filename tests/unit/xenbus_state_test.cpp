#include "protocol/xenbus_state.h"

#include <gmock/gmock.h>

#include "protocol/errors.h"

namespace xensnd {
namespace {

using P = HandshakePhase;
using S = BusState;
using V = WaitVerdict;

TEST(BusState, Parse) {
  EXPECT_EQ(parse_bus_state(std::string("4")), S::kConnected);
  EXPECT_EQ(parse_bus_state(std::nullopt), S::kUnknown);
  EXPECT_EQ(parse_bus_state(std::string("banana")), S::kUnknown);
  EXPECT_EQ(parse_bus_state(std::string("99")), S::kUnknown);
  EXPECT_EQ(bus_state_name(S::kInitWait), "InitWait (2)");
}

TEST(Handshake, StartToleratesTheBackendsClosingClosedTransients) {
  for (S s : {S::kUnknown, S::kInitialising, S::kClosing, S::kClosed, S::kConnected})
    EXPECT_EQ(judge_backend_state(P::kBackendInitWait, s), V::kKeepWaiting) << bus_state_name(s);
  EXPECT_EQ(judge_backend_state(P::kBackendInitWait, S::kInitWait), V::kDone);
}

TEST(Handshake, AwaitingConnected) {
  EXPECT_EQ(judge_backend_state(P::kBackendConnected, S::kConnected), V::kDone);
  EXPECT_EQ(judge_backend_state(P::kBackendConnected, S::kInitWait), V::kKeepWaiting);
  EXPECT_EQ(judge_backend_state(P::kBackendConnected, S::kClosing), V::kKeepWaiting);
  EXPECT_EQ(judge_backend_state(P::kBackendConnected, S::kClosed), V::kFailed);
}

TEST(Handshake, BackendReleased) {
  EXPECT_EQ(judge_backend_state(P::kBackendReleased, S::kConnected), V::kKeepWaiting);
  EXPECT_EQ(judge_backend_state(P::kBackendReleased, S::kClosing), V::kKeepWaiting);
  for (S s : {S::kClosed, S::kInitWait, S::kInitialising, S::kUnknown})
    EXPECT_EQ(judge_backend_state(P::kBackendReleased, s), V::kDone);
}

TEST(Handshake, StaleReset) {
  EXPECT_FALSE(needs_stale_reset(S::kInitialising, S::kInitialising));  // fresh from the toolstack
  EXPECT_FALSE(needs_stale_reset(S::kClosed, S::kInitWait));            // after a clean close
  EXPECT_FALSE(needs_stale_reset(S::kInitialising, S::kClosed));        // snd_be starting
  EXPECT_TRUE(needs_stale_reset(S::kConnected, S::kConnected));         // a process died
  EXPECT_TRUE(needs_stale_reset(S::kInitialised, S::kInitWait));        // died mid-handshake
  EXPECT_TRUE(needs_stale_reset(S::kClosed, S::kConnected));            // backend still serving
}

TEST(Version, MissingVersionsIsTwoWithAWarning) {
  VersionChoice v = negotiate_version(std::nullopt, "/be/versions");
  EXPECT_EQ(v.version, 2u);
  EXPECT_THAT(v.warning, ::testing::HasSubstr("/be/versions"));
}

TEST(Version, ListedVersions) {
  EXPECT_EQ(negotiate_version(std::string("2"), "v").version, 2u);
  EXPECT_EQ(negotiate_version(std::string("1, 2,3"), "v").version, 2u);
  EXPECT_TRUE(negotiate_version(std::string("1,2"), "v").warning.empty());
  EXPECT_THROW(negotiate_version(std::string("1,3"), "v"), FrontendError);
  EXPECT_THROW(negotiate_version(std::string(""), "v"), FrontendError);
  EXPECT_THROW(negotiate_version(std::string("two"), "v"), FrontendError);
}

}  // namespace
}  // namespace xensnd
