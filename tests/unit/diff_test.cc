#include "vpcctl/plan/diff.h"

#include <gtest/gtest.h>
#include <set>

#include "testing.h"
#include "vpcctl/platform/driver.h"

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
                               "set-mac vpc1", "add-member vx100", "add-member vx101",
                               "add-address vpc1", "up vx100", "up vx101", "up vpc1",
                               "pin-neighbour vpc1", "pin-neighbour vpc1"}));
}

// h1 applied: its bridge has its overlay MAC, and h2's and h3's addresses are pinned.
Observed AppliedH1() {
  const Desired h1 = H1();
  Observed o;
  ObservedInterface br;
  br.name = "vpc1";
  br.kind = IfKind::kBridge;
  br.owner = "vpcctl:vpc1";
  br.mtu = h1.vpcs[0].mtu;
  br.up = true;
  br.addresses = {h1.vpcs[0].address};
  br.mac = h1.vpcs[0].mac;
  o.interfaces.push_back(br);
  for (const auto& t : h1.vpcs[0].tunnels) {
    ObservedInterface vx;
    vx.name = t.ifname;
    vx.kind = IfKind::kVxlan;
    vx.owner = "vpcctl:vpc1";
    vx.mtu = br.mtu;
    vx.up = true;
    vx.vni = t.vni;
    vx.local = t.local;
    vx.remote = t.remote;
    vx.port = t.port;
    vx.learning = false;
    vx.master = "vpc1";
    vx.isolated = true;
    o.interfaces.push_back(vx);
  }
  o.neighbours = std::vector<ObservedNeighbour>{};
  for (const auto& n : h1.vpcs[0].neighbours) o.neighbours->push_back({"vpc1", n.address, n.mac});
  return o;
}

TEST(DiffPins, EveryPeerIsPinnedToItsOverlayMacAndOnlyVpcctlsPinsAreRemoved) {
  Desired d = H1();
  ASSERT_EQ(d.vpcs[0].neighbours.size(), 2u);
  EXPECT_EQ(d.vpcs[0].neighbours[0].node, "h2");
  EXPECT_EQ(d.vpcs[0].neighbours[0].mac, OverlayMac(d.vpcs[0].vpc_id, d.vpcs[0].neighbours[0].address));
  EXPECT_NE(d.vpcs[0].mac, d.vpcs[0].neighbours[0].mac);
  EXPECT_TRUE(d.pin_neighbours);
  auto none = Diff(d, AppliedH1());
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_TRUE(none->empty()) << ::testing::PrintToString(Names(*none));

  // h2's entry points elsewhere, h3's is gone, a former member's pin is left over, and a pin the
  // administrator made (another MAC) sits on the same bridge.
  Observed o = AppliedH1();
  auto& n = *o.neighbours;
  n[0].mac = *net::MacAddress::Parse("02:00:00:00:00:99");
  n.erase(n.begin() + 1);
  auto former = testing::Ip("10.100.0.9");
  n.push_back({"vpc1", former, OverlayMac(d.vpcs[0].vpc_id, former)});
  n.push_back({"vpc1", testing::Ip("10.100.0.50"), *net::MacAddress::Parse("52:54:00:00:00:50")});
  o.interfaces[0].mac = *net::MacAddress::Parse("2e:82:15:74:45:d9");
  auto steps = Diff(d, o);
  ASSERT_TRUE(steps.ok()) << steps.error().message;
  EXPECT_EQ(Names(*steps), (std::vector<std::string>{"set-mac vpc1", "pin-neighbour vpc1",
                                                      "pin-neighbour vpc1", "unpin-neighbour vpc1"}));
  EXPECT_EQ((*steps)[0].mac, d.vpcs[0].mac);
  EXPECT_EQ((*steps)[1].address.address, d.vpcs[0].neighbours[0].address);
  EXPECT_EQ((*steps)[2].address.address, d.vpcs[0].neighbours[1].address);
  EXPECT_EQ((*steps)[3].address.address, former);
  EXPECT_EQ(Describe((*steps)[1]),
            "pin h2's 10.100.0.2 to " + d.vpcs[0].neighbours[0].mac.ToString() +
                " on vpc1 [lladdr 02:00:00:00:00:99, want " + d.vpcs[0].neighbours[0].mac.ToString() +
                "]");

  // Neighbours not probed: an existing bridge's pins are left alone (nothing known to compare).
  Observed unknown = AppliedH1();
  unknown.neighbours.reset();
  auto quiet = Diff(d, unknown);
  ASSERT_TRUE(quiet.ok());
  EXPECT_TRUE(quiet->empty()) << ::testing::PrintToString(Names(*quiet));

  // FreeBSD resolves peers itself: its bridge gets the overlay MAC, and no pins.
  d.pin_neighbours = false;
  auto bsd = Diff(d, Observed{});
  ASSERT_TRUE(bsd.ok());
  for (const auto& name : Names(*bsd)) EXPECT_NE(name, "pin-neighbour vpc1");
}

TEST(DiffPins, OverlayMacsAreLocallyAdministeredUnicastAndDistinctPerMember) {
  auto a = OverlayMac(1, testing::Ip("10.100.0.1"));
  EXPECT_EQ(a.ToString(), "02:00:01:64:00:01");
  EXPECT_FALSE(a.IsMulticast());
  EXPECT_EQ(OverlayMac(0x1234, testing::Ip("fd10::2:3")).ToString(), "02:12:34:02:00:03");
  std::set<std::string> seen;
  for (int i = 1; i < 1000; ++i) {
    auto ip = net::IpAddress::V4(0x0a640000u + static_cast<uint32_t>(i));
    EXPECT_TRUE(seen.insert(OverlayMac(7, ip).ToString()).second) << ip.ToString();
  }
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

namespace vpcctl::plan {
namespace {

using testing::Ip;

constexpr const char* kKeyH1 = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
constexpr const char* kKeyH2 = "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=";
constexpr const char* kKeyH3 = "gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdyYBz6EA=";
constexpr const char* kNewKey = "0JFhO8ayKKhRzg/pm+JJsHJnIqUf2WwJLdLJbiAGmWk=";

// h1's part of the sample VPC, encrypted, every key known, with a firewall to keep.
Desired EncryptedH1() {
  model::Fabric f = testing::EncryptedSample();  // keys kKeyH1..kKeyH3
  Desired d = *DesiredFor(f, "h1");
  d.wireguard->key_file = "/s/wg.key";
  d.firewall = {"table inet vpcctl {...}\n", "/s/firewall.rules", "/s/firewall.listing", "nft",
                "the nftables package"};
  d.wireguard_go = {"wireguard-go", "/s/wg.pid", "", {"wireguard-go", "-f", "wg-vpcctl"},
                    {}, false, true, "/s/wg.log", "/run/wireguard/wg-vpcctl.sock", "wg-vpcctl",
                    "wireguard-go", {"wg-vpcctl"}};
  return d;
}

// What a node with exactly `d` observes: interfaces, WireGuard, the firewall and its records.
Observed ConvergedEncrypted(const Desired& d) {
  Observed o;
  for (const auto& v : d.vpcs) {
    for (const auto& t : v.tunnels) {
      ObservedInterface i;
      i.name = t.ifname;
      i.kind = IfKind::kVxlan;
      i.mtu = v.mtu;
      i.up = true;
      i.owner = OwnerTag(v.vpc);
      i.vni = t.vni;
      i.local = t.local;
      i.remote = t.remote;
      i.port = t.port;
      i.learning = false;
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
    br.addresses = {v.address};
    o.interfaces.push_back(br);
  }
  const auto& w = *d.wireguard;
  ObservedInterface wg;
  wg.name = w.ifname;
  wg.kind = IfKind::kWireguard;
  wg.mtu = w.mtu;
  wg.up = true;
  wg.owner = OwnerTag(kWgOwner);
  wg.addresses = {w.address};
  o.interfaces.push_back(wg);
  ObservedWireguard ow;
  ow.public_key = w.public_key;
  ow.port = w.port;
  for (const auto& p : w.peers) {
    ObservedWgPeer op;
    op.public_key = p.public_key;
    op.endpoint = p.endpoint;
    op.endpoint_port = p.port;
    op.allowed_ips = {p.transport.ToString() + "/32"};
    op.keepalive = model::kWgKeepalive;
    op.latest_handshake = 1700000000;
    ow.peers.push_back(op);
  }
  o.wireguard = ow;
  o.firewall = "table inet vpcctl { listed }\n";
  o.files[d.firewall.rules_path] = d.firewall.rules;
  o.files[d.firewall.listing_path] = *o.firewall;
  o.tools = std::set<std::string>{"wg", "nft", "wireguard-go"};
  o.wireguard_kernel = true;
  return o;
}

TEST(DiffEncrypted, AConvergedNodeNeedsNothing) {
  Desired d = EncryptedH1();
  d.wireguard->public_key = kKeyH1;
  auto steps = Diff(d, ConvergedEncrypted(d));
  ASSERT_TRUE(steps.ok()) << steps.error().message;
  EXPECT_TRUE(steps->empty()) << ::testing::PrintToString(Names(*steps));
}

TEST(DiffEncrypted, FromNothingTheFirewallAndWireGuardComeBeforeTheTunnels) {
  Desired d = EncryptedH1();
  d.wireguard->public_key = kKeyH1;
  Observed o;
  o.tools = std::set<std::string>{"wg", "nft"};
  o.wireguard_kernel = true;
  auto steps = Diff(d, o);
  ASSERT_TRUE(steps.ok()) << steps.error().message;
  EXPECT_EQ(Names(*steps),
            (std::vector<std::string>{
                "load-firewall firewall", "create-wireguard wg-vpcctl", "add-address wg-vpcctl",
                "set-wireguard wg-vpcctl", "set-wireguard-peer wg-vpcctl",
                "set-wireguard-peer wg-vpcctl", "up wg-vpcctl", "create-tunnel vx100",
                "create-tunnel vx101", "create-bridge vpc1", "set-mac vpc1", "add-member vx100",
                "add-member vx101", "add-address vpc1", "up vx100", "up vx101", "up vpc1",
                "pin-neighbour vpc1", "pin-neighbour vpc1"}));
}

TEST(DiffEncrypted, WithoutKernelWireGuardWireguardGoStartsOnceTheTunnelsAreUp) {
  Desired d = EncryptedH1();
  Observed o;
  o.tools = std::set<std::string>{"wg", "nft", "wireguard-go"};
  o.wireguard_kernel = false;
  auto steps = Diff(d, o);
  ASSERT_TRUE(steps.ok()) << steps.error().message;
  auto names = Names(*steps);
  // Everything but WireGuard first (a burst of netlink events can close wireguard-go's device),
  // then wireguard-go, detached, and its interface.
  auto start = std::find(names.begin(), names.end(), "start-daemon wireguard-go");
  ASSERT_NE(start, names.end());
  size_t at = static_cast<size_t>(start - names.begin());
  EXPECT_TRUE((*steps)[at].daemon.detach);
  EXPECT_EQ(names[at - 3], "up vpc1");  // then the pins, both
  EXPECT_EQ(names[at - 1], "pin-neighbour vpc1");
  EXPECT_EQ(names[at + 1], "set-owner wg-vpcctl");
  EXPECT_EQ(names[at + 2], "set-mtu wg-vpcctl");
  EXPECT_EQ(names.back(), "up wg-vpcctl");
  // A wireguard-go whose interface vanished is restarted.
  o.daemons["wireguard-go"] = true;
  auto again = Names(*Diff(d, o));
  auto stop = std::find(again.begin(), again.end(), "stop-daemon wireguard-go");
  ASSERT_NE(stop, again.end());
  EXPECT_EQ(*(stop + 1), "start-daemon wireguard-go");
}

TEST(DiffEncrypted, MissingWireGuardOrFirewallToolsNameThePackage) {
  Desired d = EncryptedH1();
  Observed o;
  o.tools = std::set<std::string>{"wg", "nft"};
  o.wireguard_kernel = false;
  auto no_engine = Diff(d, o);
  ASSERT_FALSE(no_engine.ok());
  EXPECT_NE(no_engine.error().message.find("install the wireguard-go package"), std::string::npos);
  o.tools = std::set<std::string>{"nft", "wireguard-go"};
  auto no_wg = Diff(d, o);
  ASSERT_FALSE(no_wg.ok());
  EXPECT_NE(no_wg.error().message.find("wireguard-tools"), std::string::npos);
  o.tools = std::set<std::string>{"wg", "wireguard-go"};
  auto no_nft = Diff(d, o);
  ASSERT_FALSE(no_nft.ok());
  EXPECT_NE(no_nft.error().message.find("nftables"), std::string::npos);
}

TEST(DiffEncrypted, ANewKeyIsSetAndEveryKeptPeerPoked) {
  Desired d = EncryptedH1();
  d.wireguard->public_key = kKeyH1;
  Observed o = ConvergedEncrypted(d);
  d.wireguard->public_key = kNewKey;  // the key file was rotated
  auto steps = Diff(d, o);
  ASSERT_TRUE(steps.ok());
  ASSERT_EQ(Names(*steps), (std::vector<std::string>{"set-wireguard wg-vpcctl"}));
  EXPECT_EQ((*steps)[0].reason, "key changed");
  EXPECT_EQ((*steps)[0].poke, (std::vector<std::string>{kKeyH2, kKeyH3}));
  // Rendered: the key file, then keepalive off and on for the peers, which sends one at once.
  auto cmds = platform::RenderCommon((*steps)[0]);
  ASSERT_TRUE(cmds.has_value());
  ASSERT_EQ(cmds->size(), 3u);
  EXPECT_EQ((*cmds)[0], (platform::Argv{"wg", "set", "wg-vpcctl", "listen-port", "51820",
                                        "private-key", "/s/wg.key"}));
  EXPECT_EQ((*cmds)[1], (platform::Argv{"wg", "set", "wg-vpcctl", "peer", kKeyH2,
                                        "persistent-keepalive", "0", "peer", kKeyH3,
                                        "persistent-keepalive", "0"}));
  EXPECT_EQ((*cmds)[2][6], "25");
  EXPECT_EQ((*cmds)[2][10], "25");
}

TEST(DiffEncrypted, PeersAreSyncedAsADelta) {
  Desired d = EncryptedH1();
  d.wireguard->public_key = kKeyH1;
  Observed o = ConvergedEncrypted(d);
  o.wireguard->peers[0].endpoint = Ip("192.0.2.99");              // h2 moved, by hand
  o.wireguard->peers[1].public_key = kNewKey;                     // h3 rekeyed
  o.wireguard->peers.push_back(o.wireguard->peers[0]);            // a stranger
  o.wireguard->peers.back().public_key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  auto steps = Diff(d, o);
  ASSERT_TRUE(steps.ok());
  std::vector<std::string> what;
  for (const auto& s : *steps) what.push_back(std::string(ActionName(s.action)) + " " + s.reason);
  // h3 is known under another key at the same transport address: "new key", not "missing" (the
  // rekeyed node starts the handshake itself; nobody waits for one here).
  EXPECT_EQ(what, (std::vector<std::string>{"set-wireguard-peer endpoint changed",
                                            "set-wireguard-peer new key",
                                            "remove-wireguard-peer not a peer in the map",
                                            "remove-wireguard-peer not a peer in the map"}));
}

TEST(DiffEncrypted, FirewallDriftIsRepairedAndItGoesWithTheLastVpc) {
  Desired d = EncryptedH1();
  d.wireguard->public_key = kKeyH1;
  Observed o = ConvergedEncrypted(d);
  auto reason = [&](const Observed& obs) {
    auto steps = Diff(d, obs);
    EXPECT_TRUE(steps.ok());
    return steps->empty() ? std::string("none") : steps->front().reason;
  };
  Observed edited = o;
  edited.firewall = "table inet vpcctl { a rule deleted }\n";
  EXPECT_EQ(reason(edited), "edited outside vpcctl");
  Observed gone = o;
  gone.firewall.reset();
  EXPECT_EQ(reason(gone), "missing");
  Observed old_rules = o;
  old_rules.files[d.firewall.rules_path] = "older rules\n";
  EXPECT_EQ(reason(old_rules), "rules changed");
  Desired none;
  none.firewall = d.firewall;
  none.firewall.rules.clear();
  auto removal = Diff(none, o);
  ASSERT_TRUE(removal.ok());
  auto names = Names(*removal);
  // The interfaces go first, then their firewall.
  EXPECT_EQ(std::count(names.begin(), names.end(), "remove-firewall firewall"), 1);
  EXPECT_EQ(names[names.size() - 1], "remove-firewall firewall");
}

TEST(DiffEncrypted, ALearningTunnelIsRecreated) {
  Desired d = EncryptedH1();
  d.wireguard->public_key = kKeyH1;
  Observed o = ConvergedEncrypted(d);
  o.interfaces[0].learning = true;
  auto steps = Diff(d, o);
  ASSERT_TRUE(steps.ok());
  ASSERT_GE(steps->size(), 2u);
  EXPECT_EQ(Names(*steps)[0], "destroy vx100");
  EXPECT_EQ((*steps)[0].reason, "learns remote addresses, want nolearning");
  EXPECT_EQ(Names(*steps)[1], "create-tunnel vx100");
}

TEST(DiffEncrypted, TheWireGuardInterfaceGoesWhenTheLastEncryptedVpcDoes) {
  Desired d = EncryptedH1();
  d.wireguard->public_key = kKeyH1;
  Observed o = ConvergedEncrypted(d);
  Desired plain = d;
  plain.wireguard.reset();
  for (auto& v : plain.vpcs) {
    v.encrypted = false;
    for (auto& t : v.tunnels) t.encrypted = false;
  }
  auto steps = Diff(plain, o);
  ASSERT_TRUE(steps.ok());
  EXPECT_EQ(Names(*steps)[0], "destroy wg-vpcctl");
}

}  // namespace
}  // namespace vpcctl::plan
