#include "vpcctl/plan/diff.h"

#include <gtest/gtest.h>

#include "testing.h"

namespace vpcctl::plan {
namespace {

using testing::Ip;

// The observed state of a node that has exactly its desired state.
Observed Converged(const Desired& d) {
  Observed o;
  int index = 10;
  for (const auto& v : d.vpcs) {
    for (const auto& t : v.tunnels) {
      ObservedInterface i;
      i.name = t.ifname;
      i.ifindex = index++;
      i.kind = IfKind::kVxlan;
      i.mtu = v.mtu;
      i.up = true;
      i.owner = OwnerTag(v.vpc);
      i.vni = t.vni;
      i.local = t.local;
      i.remote = t.remote;
      i.port = t.port;
      i.master = v.vpc;
      i.isolated = true;
      o.interfaces.push_back(i);
    }
    ObservedInterface br;
    br.name = v.vpc;
    br.kind = IfKind::kBridge;
    br.mtu = v.mtu;
    br.up = true;
    br.owner = OwnerTag(v.vpc);
    br.addresses = {v.address, *net::IfAddress::Parse("fe80::1/64")};
    o.interfaces.push_back(br);
  }
  return o;
}

std::vector<std::string> Names(const std::vector<Step>& steps) {
  std::vector<std::string> out;
  for (const auto& s : steps) out.push_back(std::string(ActionName(s.action)) + " " + s.ifname);
  return out;
}

Desired H1() { return *DesiredFor(testing::SampleFabric(), "h1"); }

TEST(Diff, FromNothingBuildsEverythingInDependencyOrder) {
  auto steps = Diff(H1(), Observed{});
  ASSERT_TRUE(steps.ok());
  EXPECT_EQ(Names(*steps), (std::vector<std::string>{
                               "create-tunnel vx100", "create-tunnel vx101", "create-bridge vpc1",
                               "add-member vx100", "add-member vx101", "add-address vpc1",
                               "up vx100", "up vx101", "up vpc1"}));
}

TEST(Diff, ConvergedNodeNeedsNothing) {
  Desired d = H1();
  auto steps = Diff(d, Converged(d));
  ASSERT_TRUE(steps.ok());
  EXPECT_TRUE(steps->empty()) << ::testing::PrintToString(Names(*steps));
}

TEST(Diff, ForeignInterfacesInTheWayAreRefusedAllAtOnce) {
  Desired d = H1();
  Observed o = Converged(d);
  o.Find("vx100")->owner = "";
  o.Find("vx100")->remote = Ip("192.0.2.99");  // not identical: somebody else's tunnel
  o.Find("vpc1")->owner = "uplink";
  auto steps = Diff(d, o);
  ASSERT_FALSE(steps.ok());
  const std::string& m = steps.error().message;
  EXPECT_NE(m.find("interface vx100 exists and is not managed by vpcctl (no vpcctl marker)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("interface vpc1 exists and is not managed by vpcctl (marked 'uplink')"),
            std::string::npos)
      << m;
}

TEST(Diff, AnIdenticalUnmarkedTunnelIsAdopted) {
  // What a crash between `ip link add` and `ip link set alias` leaves behind.
  Desired d = H1();
  Observed o = Converged(d);
  o.Find("vx101")->owner = "";
  auto steps = Diff(d, o);
  ASSERT_TRUE(steps.ok());
  EXPECT_EQ(Names(*steps), (std::vector<std::string>{"set-owner vx101"}));
}

TEST(Diff, AnEmptyUnmarkedBridgeIsAdoptedButABusyOneIsNot) {
  Desired d = H1();
  Observed o;
  ObservedInterface br;
  br.name = "vpc1";
  br.kind = IfKind::kBridge;
  br.mtu = 1500;
  o.interfaces.push_back(br);
  auto steps = Diff(d, o);
  ASSERT_TRUE(steps.ok());
  EXPECT_EQ(Names(*steps)[2], "set-owner vpc1");
  EXPECT_EQ(Names(*steps)[3], "set-mtu vpc1");
  ObservedInterface port;
  port.name = "eth9";
  port.master = "vpc1";
  o.interfaces.push_back(port);
  EXPECT_FALSE(Diff(d, o).ok());
}

TEST(Diff, ChangedTunnelParametersRecreateTheTunnel) {
  Desired d = H1();
  Observed o = Converged(d);
  o.Find("vx100")->remote = Ip("192.0.2.99");
  auto steps = Diff(d, o);
  ASSERT_TRUE(steps.ok());
  EXPECT_EQ(Names(*steps), (std::vector<std::string>{"destroy vx100", "create-tunnel vx100",
                                                     "add-member vx100", "up vx100"}));
  EXPECT_NE((*steps)[0].reason.find("remote 192.0.2.99, want 192.0.2.2"), std::string::npos);
}

TEST(Diff, OwnedInterfacesNoLongerWantedAreRemovedTunnelsFirst) {
  Desired d = H1();
  Observed o = Converged(d);
  d.vpcs.clear();  // the VPC was deleted from the map
  auto steps = Diff(d, o);
  ASSERT_TRUE(steps.ok());
  EXPECT_EQ(Names(*steps),
            (std::vector<std::string>{"destroy vx100", "destroy vx101", "destroy vpc1"}));
}

TEST(Diff, ARemovedMemberTakesOnlyItsTunnel) {
  model::Fabric f = testing::SampleFabric();
  Desired before = *DesiredFor(f, "h1");
  ASSERT_TRUE(alloc::RemoveMember(f, "vpc1", "h3").ok());
  f.FindVpc("vpc1")->mtu = 1430;  // keep the MTU to isolate the tunnel change
  Desired after = *DesiredFor(f, "h1");
  auto steps = Diff(after, Converged(before));
  ASSERT_TRUE(steps.ok());
  EXPECT_EQ(Names(*steps), (std::vector<std::string>{"destroy vx101"}));
}

TEST(Diff, AnotherVpcsTunnelWithAReusedVniIsReplaced) {
  Desired d = H1();
  Observed o = Converged(d);
  o.Find("vx100")->owner = "vpcctl:old";
  auto steps = Diff(d, o);
  ASSERT_TRUE(steps.ok());
  EXPECT_EQ(Names(*steps)[0], "destroy vx100");
  EXPECT_EQ(Names(*steps)[1], "create-tunnel vx100");
}

TEST(Diff, UnisolatedMembersAndDownInterfacesAreRepaired) {
  Desired d = H1();
  Observed o = Converged(d);
  o.Find("vx100")->isolated = false;
  o.Find("vx101")->up = false;
  o.Find("vpc1")->addresses.clear();
  auto steps = Diff(d, o);
  ASSERT_TRUE(steps.ok());
  EXPECT_EQ(Names(*steps), (std::vector<std::string>{"set-isolated vx100", "add-address vpc1",
                                                     "up vx101"}));
}

TEST(Diff, AddressesOutsideThePeerNetworkAndKeptVipsAreLeftAlone) {
  Desired d = H1();
  d.vpcs[0].keep_addresses = {Ip("10.100.0.250")};
  Observed o = Converged(d);
  o.Find("vpc1")->addresses.push_back(*net::IfAddress::Parse("10.100.0.250/32"));
  o.Find("vpc1")->addresses.push_back(*net::IfAddress::Parse("172.16.0.1/24"));
  auto steps = Diff(d, o);
  ASSERT_TRUE(steps.ok());
  EXPECT_TRUE(steps->empty()) << ::testing::PrintToString(Names(*steps));
}

TEST(Diff, DescribeNamesEverything) {
  auto steps = Diff(H1(), Observed{});
  ASSERT_TRUE(steps.ok());
  EXPECT_EQ(Describe((*steps)[0]),
            "create tunnel vx100 to h2 (vni 100, 192.0.2.1 -> 192.0.2.2 port 4789, mtu 1430) "
            "[missing]");
}

}  // namespace
}  // namespace vpcctl::plan
