#include "vpcctl/alloc/alloc.h"

#include <gtest/gtest.h>

#include <set>

#include "testing.h"

namespace vpcctl::alloc {
namespace {

using model::Fabric;
using model::Platform;
using testing::Ip;
using testing::MakeNode;
using testing::Net;
using testing::SampleFabric;
using testing::SampleNodes;

std::set<uint32_t> AllVnis(const Fabric& f) {
  std::set<uint32_t> out;
  for (const auto& v : f.vpcs)
    for (const auto& t : v.tunnels) out.insert(t.vni);
  return out;
}

TEST(Alloc, ThreeMembersGetThreeTunnelsWithDistinctVnisAndAddresses) {
  Fabric f = SampleFabric();
  const auto& v = *f.FindVpc("vpc1");
  ASSERT_EQ(v.members.size(), 3u);
  ASSERT_EQ(v.tunnels.size(), 3u);
  EXPECT_EQ(v.tunnels[0].vni, 100u);
  EXPECT_EQ(v.tunnels[1].vni, 101u);
  EXPECT_EQ(v.tunnels[2].vni, 102u);
  EXPECT_EQ(v.members[0].overlay, Ip("10.100.0.1"));
  EXPECT_EQ(v.members[1].overlay, Ip("10.100.0.2"));
  EXPECT_EQ(v.members[2].overlay, Ip("10.100.0.3"));
}

TEST(Alloc, PairFamilyPrefersIpv6WhenBothEndsHaveIt) {
  Fabric f = SampleFabric();
  const auto& v = *f.FindVpc("vpc1");
  for (const auto& t : v.tunnels) {
    bool v6 = t.a == "h1" && t.b == "h3";
    EXPECT_EQ(t.family, v6 ? net::Family::kV6 : net::Family::kV4) << t.a << "-" << t.b;
  }
}

TEST(Alloc, MtuIsTheMinimumOverPairsMinusEncapsulation) {
  Fabric f = SampleFabric();
  // h1-h3 over IPv6: min(1500, 9000) - 70 = 1430; the IPv4 pairs give 1450.
  EXPECT_EQ(f.FindVpc("vpc1")->mtu, 1430);
}

TEST(Alloc, AddingAMemberKeepsExistingVnisAndAddresses) {
  Fabric f = SampleFabric();
  auto before = *f.FindVpc("vpc1");
  ASSERT_TRUE(AddMember(f, "vpc1", "h4").ok());
  const auto& after = *f.FindVpc("vpc1");
  for (const auto& t : before.tunnels) {
    bool kept = false;
    for (const auto& u : after.tunnels)
      kept = kept || (u.vni == t.vni && u.a == t.a && u.b == t.b && u.family == t.family);
    EXPECT_TRUE(kept) << "tunnel vni " << t.vni << " changed";
  }
  for (const auto& m : before.members) EXPECT_EQ(after.FindMember(m.node)->overlay, m.overlay);
  EXPECT_EQ(after.tunnels.size(), 6u);
  EXPECT_EQ(after.FindMember("h4")->overlay, Ip("10.100.0.4"));
  int h4 = 0;
  for (const auto& t : after.tunnels) h4 += t.Has("h4");
  EXPECT_EQ(h4, 3);
}

TEST(Alloc, RemovingAMemberBringsBackTheFirstMap) {
  Fabric f = SampleFabric();
  auto before = *f.FindVpc("vpc1");
  ASSERT_TRUE(AddMember(f, "vpc1", "h4").ok());
  ASSERT_TRUE(RemoveMember(f, "vpc1", "h4").ok());
  const auto& after = *f.FindVpc("vpc1");
  ASSERT_EQ(after.tunnels.size(), before.tunnels.size());
  for (size_t i = 0; i < before.tunnels.size(); ++i) {
    EXPECT_EQ(after.tunnels[i].vni, before.tunnels[i].vni);
    EXPECT_EQ(after.tunnels[i].a, before.tunnels[i].a);
  }
  ASSERT_EQ(after.members.size(), before.members.size());
  for (size_t i = 0; i < before.members.size(); ++i)
    EXPECT_EQ(after.members[i].overlay, before.members[i].overlay);
  EXPECT_EQ(after.mtu, before.mtu);
}

TEST(Alloc, RemovingAMiddleMemberLeavesOthersAndReusesItsAddressLater) {
  Fabric f = SampleFabric();
  ASSERT_TRUE(RemoveMember(f, "vpc1", "h2").ok());
  const auto* v = f.FindVpc("vpc1");
  EXPECT_EQ(v->FindMember("h3")->overlay, Ip("10.100.0.3"));
  ASSERT_EQ(v->tunnels.size(), 1u);
  EXPECT_EQ(v->tunnels[0].vni, 101u);
  ASSERT_TRUE(AddMember(f, "vpc1", "h4").ok());
  EXPECT_EQ(f.FindVpc("vpc1")->FindMember("h4")->overlay, Ip("10.100.0.2"));
}

TEST(Alloc, TwoVpcsNeverShareAVni) {
  Fabric f = SampleFabric();
  VpcSpec spec;
  spec.name = "vpc2";
  spec.peer_network = Net("10.200.0.0/24");
  spec.members = {"h1", "h2", "h3", "h4"};
  ASSERT_TRUE(CreateVpc(f, spec, 2).ok());
  size_t total = 0;
  for (const auto& v : f.vpcs) total += v.tunnels.size();
  EXPECT_EQ(total, 9u);
  EXPECT_EQ(AllVnis(f).size(), total);
  EXPECT_EQ(*AllVnis(f).begin(), 100u);
}

TEST(Alloc, FreedVnisAreReusedLowestFirst) {
  Fabric f = SampleFabric();
  ASSERT_TRUE(RemoveMember(f, "vpc1", "h1").ok());  // frees 100 and 101
  ASSERT_TRUE(AddMember(f, "vpc1", "h4").ok());
  std::set<uint32_t> vnis = AllVnis(f);
  EXPECT_EQ(vnis, (std::set<uint32_t>{100, 101, 102}));
}

TEST(Alloc, VniExhaustionIsAnErrorAndChangesNothing) {
  Fabric f = SampleNodes();
  f.vni_range = model::VniRange{10, 12};
  VpcSpec spec;
  spec.name = "vpc1";
  spec.peer_network = Net("10.0.0.0/24");
  spec.members = {"h1", "h2", "h3"};
  ASSERT_TRUE(CreateVpc(f, spec, 1).ok());
  Fabric before = f;
  auto st = AddMember(f, "vpc1", "h4");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("10-12 is exhausted"), std::string::npos) << st.error().message;
  EXPECT_EQ(f.FindVpc("vpc1")->tunnels.size(), 3u);
  EXPECT_EQ(f.FindVpc("vpc1")->members.size(), 3u);
  spec.name = "vpc2";
  spec.peer_network = Net("10.1.0.0/24");
  spec.members = {"h1", "h2"};
  EXPECT_FALSE(CreateVpc(f, spec, 2).ok());
  EXPECT_EQ(f.vpcs.size(), 1u);
}

TEST(Alloc, FreeBsdPairsStayWithinCloneUnits) {
  Fabric f = SampleNodes();
  f.vni_range = model::VniRange{32765, 40000};
  VpcSpec spec;
  spec.name = "vpc1";
  spec.peer_network = Net("10.0.0.0/24");
  spec.members = {"h1", "h3"};  // both Linux: any VNI
  ASSERT_TRUE(CreateVpc(f, spec, 1).ok());
  ASSERT_TRUE(AddMember(f, "vpc1", "h2").ok());  // h2 is FreeBSD: needs VNIs <= 32767
  for (const auto& t : f.FindVpc("vpc1")->tunnels) {
    if (t.Has("h2")) {
      EXPECT_LE(t.vni, model::kFreeBsdMaxVni);
    }
  }
  auto st = AddMember(f, "vpc1", "h4");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("32767"), std::string::npos);
}

TEST(Alloc, PeerNetworkTooSmallIsRefused) {
  Fabric f = SampleNodes();
  VpcSpec spec;
  spec.name = "vpc1";
  spec.peer_network = Net("10.0.0.0/30");  // 2 usable addresses
  spec.members = {"h1", "h2", "h3"};
  auto st = CreateVpc(f, spec, 1);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("10.0.0.0/30"), std::string::npos);
  EXPECT_TRUE(f.vpcs.empty());
  spec.members = {"h1", "h2"};
  ASSERT_TRUE(CreateVpc(f, spec, 1).ok());
  auto add = AddMember(f, "vpc1", "h3");
  ASSERT_FALSE(add.ok());
  EXPECT_EQ(f.FindVpc("vpc1")->members.size(), 2u);
}

TEST(Alloc, Ipv6PeerNetworksAllocateFromOne) {
  Fabric f = SampleNodes();
  VpcSpec spec;
  spec.name = "v6";
  spec.peer_network = Net("fd00:10::/64");
  spec.members = {"h1", "h3"};
  ASSERT_TRUE(CreateVpc(f, spec, 1).ok());
  EXPECT_EQ(f.FindVpc("v6")->members[0].overlay, Ip("fd00:10::1"));
  EXPECT_EQ(f.FindVpc("v6")->members[1].overlay, Ip("fd00:10::2"));
}

TEST(Alloc, MembersWithoutACommonFamilyAreRefused) {
  Fabric f = SampleNodes();
  f.nodes.push_back(MakeNode("v6only", Platform::kLinux, "", "2001:db8::66"));
  VpcSpec spec;
  spec.name = "vpc1";
  spec.peer_network = Net("10.0.0.0/24");
  spec.members = {"h2", "v6only"};
  auto st = CreateVpc(f, spec, 1);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("no underlay address family in common"), std::string::npos);
  EXPECT_NE(st.error().message.find("'v6only'"), std::string::npos);
}

TEST(Alloc, ForcedFamilyNeedsItOnEveryMember) {
  Fabric f = SampleNodes();
  VpcSpec spec;
  spec.encrypted = false;  // VXLAN straight over the underlay
  spec.name = "vpc1";
  spec.peer_network = Net("10.0.0.0/24");
  spec.family = model::FamilyPref::kV6;
  spec.members = {"h1", "h2"};
  auto st = CreateVpc(f, spec, 1);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("'h2' has no ipv6"), std::string::npos);
  spec.family = model::FamilyPref::kV4;
  spec.members = {"h1", "h3"};
  ASSERT_TRUE(CreateVpc(f, spec, 1).ok());
  EXPECT_EQ(f.FindVpc("vpc1")->tunnels[0].family, net::Family::kV4);
  EXPECT_EQ(f.FindVpc("vpc1")->mtu, 1450);
}

TEST(Alloc, UnknownAndDuplicateMembersAreRefused) {
  Fabric f = SampleFabric();
  auto unknown = AddMember(f, "vpc1", "nope");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("'nope'"), std::string::npos);
  auto twice = AddMember(f, "vpc1", "h2");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message.find("already a member"), std::string::npos);
  EXPECT_FALSE(RemoveMember(f, "vpc1", "h4").ok());
  EXPECT_FALSE(AddMember(f, "nope", "h4").ok());
}

TEST(Alloc, MtuBoundsDependOnThePeerFamily) {
  EXPECT_TRUE(CheckMtu(576, net::Family::kV4, "x").ok());
  EXPECT_FALSE(CheckMtu(575, net::Family::kV4, "x").ok());
  EXPECT_FALSE(CheckMtu(1279, net::Family::kV6, "x").ok());
  EXPECT_TRUE(CheckMtu(1280, net::Family::kV6, "x").ok());
  EXPECT_TRUE(CheckMtu(9216, net::Family::kV6, "x").ok());
  auto st = CheckMtu(9217, net::Family::kV4, "x");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("9217"), std::string::npos);
}

TEST(Alloc, DerivedMtuBelowTheFloorIsRefused) {
  Fabric f = SampleNodes();
  f.FindNode("h1")->mtu = 1300;
  VpcSpec spec;
  spec.encrypted = false;  // VXLAN straight over the underlay
  spec.name = "vpc1";
  spec.peer_network = Net("fd00::/64");
  spec.members = {"h1", "h3"};  // IPv6 underlay: 1300 - 70 = 1230 < 1280
  auto st = CreateVpc(f, spec, 1);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("1230"), std::string::npos);
}

TEST(Alloc, MtuIsRecomputedWhenMembersChange) {
  Fabric f = SampleNodes();
  VpcSpec spec;
  spec.encrypted = false;  // VXLAN straight over the underlay
  spec.name = "vpc1";
  spec.peer_network = Net("10.0.0.0/24");
  spec.members = {"h1", "h2"};
  ASSERT_TRUE(CreateVpc(f, spec, 1).ok());
  EXPECT_EQ(f.FindVpc("vpc1")->mtu, 1450);
  ASSERT_TRUE(AddMember(f, "vpc1", "h3").ok());  // h1-h3 is IPv6: 1430
  EXPECT_EQ(f.FindVpc("vpc1")->mtu, 1430);
  ASSERT_TRUE(RemoveMember(f, "vpc1", "h3").ok());
  EXPECT_EQ(f.FindVpc("vpc1")->mtu, 1450);
}

TEST(Alloc, FixedMtuIsKept) {
  Fabric f = SampleNodes();
  VpcSpec spec;
  spec.name = "vpc1";
  spec.peer_network = Net("10.0.0.0/24");
  spec.members = {"h1", "h2"};
  spec.mtu = 1400;
  ASSERT_TRUE(CreateVpc(f, spec, 1).ok());
  ASSERT_TRUE(AddMember(f, "vpc1", "h3").ok());
  EXPECT_EQ(f.FindVpc("vpc1")->mtu, 1400);
}

TEST(Alloc, TwoHundredFiftyNodesFitASlash24) {
  Fabric f;
  std::vector<std::string> names;
  for (int i = 0; i < 250; ++i) {
    std::string name = "n" + std::to_string(i);
    f.nodes.push_back(MakeNode(name, Platform::kLinux, "198.18." + std::to_string(i / 200) + "." +
                                                           std::to_string(i % 200 + 1), ""));
    names.push_back(name);
  }
  VpcSpec spec;
  spec.name = "big";
  spec.peer_network = Net("10.9.0.0/24");
  spec.members = names;
  ASSERT_TRUE(CreateVpc(f, spec, 1).ok());
  EXPECT_EQ(f.FindVpc("big")->tunnels.size(), 250u * 249u / 2u);
  EXPECT_EQ(AllVnis(f).size(), 250u * 249u / 2u);
}

TEST(Alloc, EncryptedMtuTakesOffWireGuardAndVxlanOverTheTransport) {
  Fabric f = SampleNodes();
  VpcSpec spec;
  spec.name = "vpc1";
  spec.peer_network = Net("10.0.0.0/24");
  spec.members = {"h1", "h2"};  // IPv4 pair: 1500 - 60 (WireGuard) - 50 (VXLAN over IPv4)
  ASSERT_TRUE(CreateVpc(f, spec, 1).ok());
  EXPECT_TRUE(f.FindVpc("vpc1")->encrypted);
  EXPECT_EQ(f.FindVpc("vpc1")->mtu, 1390);
  ASSERT_TRUE(AddMember(f, "vpc1", "h3").ok());  // h1-h3 over IPv6: 1500 - 80 - 50
  EXPECT_EQ(f.FindVpc("vpc1")->mtu, 1370);
  // The WireGuard interface fits the largest VXLAN packet of each pair.
  EXPECT_EQ(model::WireguardMtu(f, *f.FindNode("h1")), 1440);
  EXPECT_EQ(model::WireguardMtu(f, *f.FindNode("h3")), 8940);  // MTU 9000, an IPv4 pair with h2
  // An IPv6 transport network costs VXLAN's IPv6 overhead instead.
  Fabric g = SampleNodes();
  g.transport.network = Net("fd7c::/64");
  ASSERT_TRUE(CreateVpc(g, spec, 1).ok());
  EXPECT_EQ(g.FindVpc("vpc1")->mtu, 1500 - 60 - 70);
}

TEST(Alloc, EncryptedMembersGetStickyTransportAddresses) {
  Fabric f = SampleNodes();
  VpcSpec spec;
  spec.name = "vpc1";
  spec.peer_network = Net("10.0.0.0/24");
  spec.members = {"h2", "h1"};
  ASSERT_TRUE(CreateVpc(f, spec, 1).ok());
  EXPECT_EQ(f.FindNode("h2")->transport, Ip("10.255.0.1"));
  EXPECT_EQ(f.FindNode("h1")->transport, Ip("10.255.0.2"));
  EXPECT_FALSE(f.FindNode("h3")->transport.has_value());
  // A plain VPC hands out none; an encrypted one only to those without.
  spec.name = "vpc2";
  spec.peer_network = Net("10.2.0.0/24");
  spec.members = {"h1", "h3"};
  spec.encrypted = false;
  ASSERT_TRUE(CreateVpc(f, spec, 2).ok());
  EXPECT_FALSE(f.FindNode("h3")->transport.has_value());
  ASSERT_TRUE(AddMember(f, "vpc1", "h3").ok());
  EXPECT_EQ(f.FindNode("h3")->transport, Ip("10.255.0.3"));
  EXPECT_EQ(f.FindNode("h1")->transport, Ip("10.255.0.2"));
  ASSERT_TRUE(RemoveMember(f, "vpc1", "h2").ok());
  ASSERT_TRUE(AddMember(f, "vpc1", "h2").ok());
  EXPECT_EQ(f.FindNode("h2")->transport, Ip("10.255.0.1"));
}

TEST(Alloc, ExhaustedTransportNetworkChangesNothing) {
  Fabric f = SampleNodes();
  f.transport.network = Net("10.255.0.0/30");  // two usable addresses
  VpcSpec spec;
  spec.name = "vpc1";
  spec.peer_network = Net("10.0.0.0/24");
  spec.members = {"h1", "h2", "h3"};
  Fabric before = f;
  auto st = CreateVpc(f, spec, 1);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("transport network 10.255.0.0/30 is exhausted"),
            std::string::npos);
  EXPECT_TRUE(f.vpcs.empty());
  for (const auto& n : f.nodes) EXPECT_FALSE(n.transport.has_value()) << n.name;
}

TEST(Alloc, EncryptedVpcRefusesTheWireGuardPortAndASecondFamilyForAPair) {
  Fabric f = SampleNodes();
  VpcSpec spec;
  spec.name = "vpc1";
  spec.peer_network = Net("10.0.0.0/24");
  spec.members = {"h1", "h3"};
  spec.port = model::kDefaultWgPort;
  auto port = CreateVpc(f, spec, 1);
  ASSERT_FALSE(port.ok());
  EXPECT_NE(port.error().message.find("port 51820 is the fabric's WireGuard port"),
            std::string::npos);
  spec.port = model::kDefaultVxlanPort;
  ASSERT_TRUE(CreateVpc(f, spec, 1).ok());  // h1-h3: WireGuard over IPv6
  spec.name = "vpc2";
  spec.peer_network = Net("10.2.0.0/24");
  spec.family = model::FamilyPref::kV4;
  auto family = CreateVpc(f, spec, 2);
  ASSERT_FALSE(family.ok());
  EXPECT_NE(family.error().message.find("already run WireGuard over ipv6"), std::string::npos);
  spec.encrypted = false;  // a plain VPC may use another family over the same pair
  EXPECT_TRUE(CreateVpc(f, spec, 2).ok());
}

}  // namespace
}  // namespace vpcctl::alloc
