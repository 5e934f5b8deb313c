// status --local on an encrypted VPC, with the node's commands answered by a fake runner: the age
// of each WireGuard handshake is reported, and a stale or missing one makes the node unhealthy.
#include "vpcctl/fabric/status_local.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fake_clock.h"
#include "fake_node.h"
#include "vpcctl/fabric/node_state.h"

namespace vpcctl::fabric {
namespace {

using json = nlohmann::json;

constexpr const char* kKeyH2 = "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=";
constexpr const char* kKeyH3 = "gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdyYBz6EA=";

class StatusLocalTest : public FakeNode {
 protected:
  void SetUp() override {
    FakeNode::SetUp();
    model::Fabric f = testing::SampleNodes();
    f.nodes[0].platform = model::Platform::kLinux;
    alloc::VpcSpec spec;
    spec.name = "vpc1";
    spec.peer_network = testing::Net("10.100.0.0/24");
    spec.members = {"h1", "h2", "h3"};
    ASSERT_TRUE(alloc::CreateVpc(f, spec, 1).ok());
    f.nodes[1].wg_public_key = kKeyH2;
    f.nodes[2].wg_public_key = kKeyH3;
    f.generation = 7;
    Hold(f);
    runner_.On({"ip"}, "[]");
    runner_.On({"bridge"}, "[]");
    runner_.On({"nft"}, "", 1);
  }
  // Runs status --local --json with h2's last handshake `h2_age` seconds ago and none with h3, on a
  // clock that stands still (a second boundary crossed mid-test would age the handshake by one).
  json Status(int64_t h2_age, std::string* text = nullptr) {
    int64_t now = clock_.NowMs() / 1000;
    runner_.On({"wg", "show"}, "x\tnZx6Bl6DRx0OdPOL9mwhi4u8Xraymgjyr4a6lRJQcnY=\t51820\toff\n" +
                                   std::string(kKeyH2) +
                                   "\t(none)\t192.0.2.2:51820\t10.255.0.2/32\t" +
                                   std::to_string(now - h2_age) + "\t1\t2\t25\n" + kKeyH3 +
                                   "\t(none)\t[2001:db8::3]:51820\t10.255.0.3/32\t0\t0\t0\t25\n");
    out_.str("");
    Context ctx = Ctx("status");
    ctx.clock = &clock_;
    StatusLocalOptions o;
    o.json = text == nullptr;
    last_ = StatusLocal(ctx, o);
    if (text) *text = out_.str();
    return json::parse(out_.str(), nullptr, false);
  }

  testing::FakeClock clock_{1'780'000'000'500};
  vpcctl::Status last_;
};

TEST_F(StatusLocalTest, HandshakeAgesAreReportedAndStaleOnesAreUnhealthy) {
  json fresh = Status(12);
  ASSERT_TRUE(fresh.is_object());
  const json& peers = fresh["vpcs"][0]["peers"];
  ASSERT_EQ(peers.size(), 2u);
  EXPECT_EQ(peers[0]["node"], "h2");
  EXPECT_EQ(peers[0]["handshake_age_s"], 12);
  EXPECT_EQ(peers[0]["handshake_stale"], false);
  EXPECT_TRUE(peers[1]["handshake_age_s"].is_null());  // h3: never
  EXPECT_EQ(peers[1]["handshake_stale"], true);
  EXPECT_EQ(fresh["healthy"], false);
  json old = Status(kStaleHandshakeSeconds + 5);
  EXPECT_EQ(old["vpcs"][0]["peers"][0]["handshake_stale"], true);
  EXPECT_EQ(old["vpcs"][0]["encrypted"], true);
}

TEST_F(StatusLocalTest, EveryPeerIsProbedOnceThroughTheBridgeAtTheVpcMtu) {
  json r = Status(12);
  ASSERT_EQ(prober_.asked.size(), 2u);
  for (const auto& t : prober_.asked) {
    EXPECT_EQ(t.source.ToString(), "10.100.0.1");
    EXPECT_EQ(t.device, "vpc1");
    EXPECT_EQ(t.mtu, r["vpcs"][0]["peers"][0]["mtu"].get<int>());
  }
  EXPECT_EQ(prober_.asked[0].address.ToString(), "10.100.0.2");
  EXPECT_EQ(prober_.asked[1].address.ToString(), "10.100.0.3");
  EXPECT_EQ(r["vpcs"][0]["peers"][0]["mtu_ok"], true);
  EXPECT_EQ(r["vpcs"][0]["peers"][0]["loss_pct"], 0);
}

TEST_F(StatusLocalTest, APathThatDropsFullSizeFramesIsUnhealthyAndSaysHowLarge) {
  prober_.answer = [](const probe::Target& t, const probe::Plan& plan) {
    probe::Outcome o = testing::FakeProber::Healthy(t, plan);
    if (t.address.ToString() == "10.100.0.3") {
      o.mtu_ok = false;
      o.path_mtu = 1330;
    }
    return o;
  };
  json r = Status(12);
  EXPECT_EQ(r["vpcs"][0]["peers"][1]["mtu_ok"], false);
  EXPECT_EQ(r["vpcs"][0]["peers"][1]["path_mtu"], 1330);
  EXPECT_EQ(r["vpcs"][0]["peers"][1]["loss_pct"], 0);
  EXPECT_EQ(r["healthy"], false);
  ASSERT_FALSE(last_.ok());
  EXPECT_EQ(last_.error().code, Exit::kNotConverged);
  std::string text;
  Status(12, &text);
  EXPECT_NE(text.find("h3: path drops frames larger than 1330 bytes (VPC MTU"), std::string::npos)
      << text;
}

TEST_F(StatusLocalTest, ASilentPeerOrABrokenProberIsLossNamedInTheReport) {
  prober_.answer = [](const probe::Target& t, const probe::Plan& plan) {
    if (t.address.ToString() == "10.100.0.2") return probe::Outcome{};  // never answered
    return testing::FakeProber::Healthy(t, plan);
  };
  json r = Status(12);
  EXPECT_EQ(r["vpcs"][0]["peers"][0]["loss_pct"], 100);
  EXPECT_EQ(r["vpcs"][0]["peers"][0]["error"], "no answer");
  EXPECT_TRUE(r["vpcs"][0]["peers"][0]["mtu_ok"].is_null());
  EXPECT_EQ(r["vpcs"][0]["peers"][1]["loss_pct"], 0);
  prober_.fail =
      "cannot open a raw ICMP socket (vpcctl status needs root): Operation not permitted";
  r = Status(12);
  for (const auto& p : r["vpcs"][0]["peers"]) {
    EXPECT_EQ(p["loss_pct"], 100);
    EXPECT_EQ(p["error"], *prober_.fail);
  }
  EXPECT_EQ(r["healthy"], false);
}

// The re-probe that verifies an apply takes the firewall listing the apply already holds instead
// of running nft again (a process of tens of milliseconds on every node of a deploy).
TEST_F(StatusLocalTest, AProbeWithAKnownFirewallListingDoesNotListItAgain) {
  Context ctx = Ctx("apply");
  plan::Desired d;
  d.platform = model::Platform::kLinux;
  d.firewall.tool = "nft";
  auto nft_calls = [&]() {
    size_t n = 0;
    for (const auto& c : runner_.calls()) n += !c.empty() && c[0] == "nft";
    return n;
  };
  const auto& driver = platform::DriverFor(model::Platform::kLinux);
  ProbeHints known;
  known.firewall = std::optional<std::string>("table inet vpcctl {\n}\n");
  auto seen = ProbeNode(ctx, driver, d, known);
  ASSERT_TRUE(seen.ok()) << seen.error().message;
  EXPECT_EQ(nft_calls(), 0u);
  EXPECT_EQ(seen->firewall, std::optional<std::string>("table inet vpcctl {\n}\n"));
  known.firewall = std::optional<std::string>();  // known to be absent
  seen = ProbeNode(ctx, driver, d, known);
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(nft_calls(), 0u);
  EXPECT_FALSE(seen->firewall.has_value());
  ASSERT_FALSE(exec::FindProgram("nft").empty()) << "nft (scripts/install-deps.sh installs it)";
  runner_.On({"nft"}, "table inet vpcctl {\n}\n");
  seen = ProbeNode(ctx, driver, d);
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(nft_calls(), 1u);
  EXPECT_EQ(seen->firewall, std::optional<std::string>("table inet vpcctl {\n}\n"));
}

// `ip netns list` looks up every namespace's id; a probe runs it only when the node has a guest
// that is a namespace (whose vanished veth is re-made only while the namespace lives).
TEST_F(StatusLocalTest, NamespacesAreListedOnlyWhenANamespaceGuestIsConcerned) {
  Context ctx = Ctx("apply");
  plan::Desired d;
  d.platform = model::Platform::kLinux;
  auto netns_calls = [&]() {
    size_t n = 0;
    for (const auto& c : runner_.calls()) n += c == exec::Argv{"ip", "-j", "netns", "list"};
    return n;
  };
  runner_.On({"ip", "-j", "netns"}, R"([{"name":"blue"}])");
  const auto& driver = platform::DriverFor(model::Platform::kLinux);
  auto seen = ProbeNode(ctx, driver, d);
  ASSERT_TRUE(seen.ok()) << seen.error().message;
  EXPECT_EQ(netns_calls(), 0u);
  EXPECT_TRUE(seen->netns.empty());
  model::Attachment tap;
  tap.vpc = "vpc1";
  tap.kind = model::GuestKind::kVm;
  tap.guest = "vm1";
  tap.ifname = "vpcg1";
  d.attachments.push_back(plan::DesiredAttachment{tap, 1450});
  ASSERT_TRUE(ProbeNode(ctx, driver, d).ok());
  EXPECT_EQ(netns_calls(), 0u);
  model::Attachment ns = tap;
  ns.kind = model::GuestKind::kNetns;
  ns.guest = "blue";
  ns.ifname = "vpcg2";
  d.attachments.push_back(plan::DesiredAttachment{ns, 1450});
  seen = ProbeNode(ctx, driver, d);
  ASSERT_TRUE(seen.ok()) << seen.error().message;
  EXPECT_EQ(netns_calls(), 1u);
  EXPECT_EQ(seen->netns, std::set<std::string>{"blue"});
}

}  // namespace
}  // namespace vpcctl::fabric
