// vpc status's view, built from the members' answers alone (BuildVpcStatus is pure): the matrix,
// the problems that make it unhealthy, and the text and JSON rendered from the same view.
#include "vpcctl/fabric/vpc_status.h"

#include <gtest/gtest.h>

#include <sstream>

#include "testing.h"

namespace vpcctl::fabric {
namespace {

model::PeerHealth Peer(const std::string& node, const std::string& address, double loss) {
  model::PeerHealth p;
  p.node = node;
  p.address = address;
  p.transmitted = 3;
  p.received = loss > 0 ? 0 : 3;
  p.loss_pct = loss;
  if (loss == 0) p.rtt_ms = 0.25;
  p.mtu = 1450;
  p.mtu_ok = loss == 0 ? std::optional<bool>(true) : std::nullopt;
  return p;
}

// An answer from `node` holding `generation`, with its peers in vpc1.
Answer Reported(const std::string& node, uint64_t generation,
                std::vector<model::PeerHealth> peers) {
  model::VpcHealth v;
  v.name = "vpc1";
  v.address = "10.100.0.1/24";
  v.peers = std::move(peers);
  Answer a;
  a.node = node;
  a.reached = true;
  a.report = model::StatusReport{node, generation, {v}, {}, {}, true};
  return a;
}

class VpcStatusTest : public ::testing::Test {
 protected:
  void SetUp() override { fabric_.generation = 9; }
  model::Fabric fabric_ = testing::SampleFabric();
  const model::Vpc& vpc() { return *fabric_.FindVpc("vpc1"); }
  std::string Text(const VpcStatusView& v) {
    std::ostringstream out;
    PrintVpcStatus(out, v);
    return out.str();
  }
};

TEST_F(VpcStatusTest, HealthyMembersMakeAFullMatrixAndNoProblem) {
  uint64_t g = fabric_.generation;
  std::vector<Answer> answers = {
      Reported("h1", g, {Peer("h2", "10.100.0.2", 0), Peer("h3", "10.100.0.3", 0)}),
      Reported("h2", g, {Peer("h1", "10.100.0.1", 0), Peer("h3", "10.100.0.3", 0)}),
      Reported("h3", g, {Peer("h1", "10.100.0.1", 0), Peer("h2", "10.100.0.2", 0)})};
  VpcStatusView v = BuildVpcStatus(fabric_, vpc(), answers);
  EXPECT_TRUE(v.healthy);
  EXPECT_TRUE(v.problems.empty()) << ::testing::PrintToString(v.problems);
  EXPECT_EQ(v.members, (std::vector<std::string>{"h1", "h2", "h3"}));
  EXPECT_EQ(v.cells["h2"]["h3"], "0% 0.25ms");
  auto j = VpcStatusJson(v);
  EXPECT_EQ(j["healthy"], true);
  EXPECT_EQ(j["generation"], g);
  ASSERT_EQ(j["nodes"].size(), 3u);
  EXPECT_EQ(j["nodes"][1]["node"], "h2");
  EXPECT_EQ(j["nodes"][1]["peers"].size(), 2u);
  EXPECT_TRUE(j["nodes"][1]["error"].is_null());
  std::string text = Text(v);
  EXPECT_NE(text.find("vpc1: generation " + std::to_string(g) + ", 3 members, healthy"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("0% 0.25ms"), std::string::npos) << text;
}

TEST_F(VpcStatusTest, AnUnreachableStaleOrLossyMemberIsAProblemNamedInTheView) {
  uint64_t g = fabric_.generation;
  model::PeerHealth small = Peer("h3", "10.100.0.3", 0);
  small.mtu_ok = false;
  small.path_mtu = 1400;
  Answer dark;
  dark.node = "h3";
  dark.error = "connect: timed out";
  std::vector<Answer> answers = {
      Reported("h1", g, {Peer("h2", "10.100.0.2", 100), small}),
      Reported("h2", g - 1, {Peer("h1", "10.100.0.1", 0), Peer("h3", "10.100.0.3", 0)}), dark};
  VpcStatusView v = BuildVpcStatus(fabric_, vpc(), answers);
  EXPECT_FALSE(v.healthy);
  std::string all;
  for (const auto& p : v.problems) all += p + "\n";
  EXPECT_NE(all.find("h1 -> h2 (10.100.0.2): 100% loss"), std::string::npos) << all;
  EXPECT_NE(all.find("h1 -> h3 (10.100.0.3): "), std::string::npos) << all;
  EXPECT_NE(all.find("1400"), std::string::npos) << all;
  EXPECT_NE(all.find("h2: holds map generation " + std::to_string(g - 1)), std::string::npos)
      << all;
  EXPECT_NE(all.find("h3: connect: timed out"), std::string::npos) << all;
  EXPECT_EQ(v.cells["h1"]["h3"], "0% 0.25ms mtu<1450");
  auto j = VpcStatusJson(v);
  EXPECT_EQ(j["healthy"], false);
  EXPECT_EQ(j["nodes"][1]["stale"], true);
  EXPECT_EQ(j["nodes"][2]["error"], "connect: timed out");
  EXPECT_EQ(j["problems"].size(), v.problems.size());
  std::string text = Text(v);
  EXPECT_NE(text.find("NOT healthy"), std::string::npos) << text;
  // The dark member's row: no generation, drift unknown, no cells.
  EXPECT_NE(text.find("\nh3         -    ?      ?          ?          -\n"), std::string::npos)
      << text;
}

TEST_F(VpcStatusTest, AVipHeldByTwoMembersIsSplitBrainAndOneHeldByNoneIsAProblemToo) {
  model::Vip vip;
  vip.address = *net::IpAddress::Parse("10.100.0.200");
  vip.vhid = 7;
  vip.nodes = {"h1", "h2"};
  fabric_.FindVpc("vpc1")->vips.push_back(vip);
  uint64_t g = fabric_.generation;
  auto holding = [&](const std::string& node, bool holds) {
    Answer a = Reported(node, g, {});
    auto& r = std::get<model::StatusReport>(a.report);
    model::VipHealth h;
    h.vhid = 7;
    h.address = "10.100.0.200";
    h.holds = holds;
    r.vpcs[0].vips.push_back(h);
    return a;
  };
  VpcStatusView two = BuildVpcStatus(fabric_, vpc(), {holding("h1", true), holding("h2", true)});
  EXPECT_FALSE(two.healthy);
  ASSERT_FALSE(two.problems.empty());
  EXPECT_EQ(two.problems.back(), "VIP 10.100.0.200 (vhid 7) is held by h1 and h2: split brain");
  EXPECT_EQ(two.vips[0]["holders"], (std::vector<std::string>{"h1", "h2"}));
  VpcStatusView none = BuildVpcStatus(fabric_, vpc(), {holding("h1", false), holding("h2", false)});
  EXPECT_FALSE(none.healthy);
  EXPECT_EQ(none.problems.back(), "VIP 10.100.0.200 (vhid 7) is held by no node");
  VpcStatusView one = BuildVpcStatus(fabric_, vpc(), {holding("h1", true), holding("h2", false)});
  EXPECT_TRUE(one.healthy) << ::testing::PrintToString(one.problems);
  EXPECT_NE(Text(one).find("VIP 10.100.0.200 (vhid 7): held by h1"), std::string::npos);
}

}  // namespace
}  // namespace vpcctl::fabric
