// Golden files of both drivers' output for the sample 3-node VPC (one IPv6 pair), rendered for
// every node as if it ran Linux and as if it ran FreeBSD. FreeBSD goldens are also linted with the
// project's grammar checker outside the test suite (see README, "FreeBSD notes").
#include <gtest/gtest.h>

#include "testing.h"
#include "vpcctl/alloc/vip.h"
#include "vpcctl/fabric/guests.h"
#include "vpcctl/base/text.h"
#include "vpcctl/plan/diff.h"
#include "vpcctl/platform/driver.h"
#include "vpcctl/platform/freebsd.h"
#include "vpcctl/platform/linux.h"
#include "vpcctl/vipd/config.h"

#include <algorithm>

namespace vpcctl::platform {
namespace {

// What `vpcctl plan vpc1 --node NODE` prints: the node's steps from nothing, with the machinery
// its platform runs (firewall, WireGuard, VIP daemons) at the default places.
std::string PlanFor(const model::Fabric& f, const std::string& node, model::Platform p,
                    const std::string& vpc = "vpc1") {
  auto desired = plan::DesiredFor(f, node, vpc);
  EXPECT_TRUE(desired.ok());
  desired->platform = p;
  const Driver& d = DriverFor(p);
  d.AddNodeSetup(*desired, NodeEnv{"/usr/local/sbin/vpcctl", std::string(model::DefaultStateDir(d.platform()))});
  auto steps = plan::Diff(*desired, plan::Observed{});
  EXPECT_TRUE(steps.ok());
  return RenderScript(d, *steps);
}

TEST(Golden, LinuxPlansForEveryNode) {
  model::Fabric f = testing::SampleFabric();
  for (const char* node : {"h1", "h2", "h3"}) {
    testing::ExpectGolden(std::string("linux/vpc1-") + node + ".plan",
                          PlanFor(f, node, model::Platform::kLinux));
  }
}

TEST(Golden, FreeBsdPlansForEveryNode) {
  model::Fabric f = testing::SampleFabric();
  for (const char* node : {"h1", "h2", "h3"}) {
    testing::ExpectGolden(std::string("freebsd/vpc1-") + node + ".plan",
                          PlanFor(f, node, model::Platform::kFreeBSD));
  }
}

// h2 behind 1:1 NAT (public 192.0.2.2, local 10.0.2.2): its tunnels start from the local address
// and pf's VXLAN rule guards that address; its peers still send to the public one.
TEST(Golden, PlansForANodeBehindNat) {
  model::Fabric f = testing::SampleFabric();
  f.FindNode("h2")->local4 = testing::Ip("10.0.2.2");
  std::string bsd = PlanFor(f, "h2", model::Platform::kFreeBSD);
  testing::ExpectGolden("freebsd/vpc1-h2.nat.plan", bsd);
  EXPECT_NE(bsd.find("vxlanlocal 10.0.2.2"), std::string::npos) << bsd;
  EXPECT_EQ(bsd.find("vxlanlocal 192.0.2.2"), std::string::npos) << bsd;
  std::string linux = PlanFor(f, "h2", model::Platform::kLinux);
  testing::ExpectGolden("linux/vpc1-h2.nat.plan", linux);
  EXPECT_NE(linux.find("local 10.0.2.2"), std::string::npos) << linux;
  EXPECT_NE(PlanFor(f, "h1", model::Platform::kLinux).find("remote 192.0.2.2"), std::string::npos);
}

TEST(Golden, FreeBsdRcConfForEveryNode) {
  model::Fabric f = testing::SampleFabric();
  alloc::VpcSpec spec;
  spec.name = "vpc2";
  spec.peer_network = testing::Net("fd00:20::/64");
  spec.members = {"h2", "h4"};
  ASSERT_TRUE(alloc::CreateVpc(f, spec, 2).ok());
  for (const char* node : {"h1", "h2", "h3", "h4"}) {
    auto desired = plan::DesiredFor(f, node);
    ASSERT_TRUE(desired.ok());
    testing::ExpectGolden(std::string("freebsd/") + node + ".rc.conf", RenderRcConf(*desired));
  }
}

TEST(Golden, FreeBsdPlanPutsPrivateOnEveryTunnelAndTheAddressOnTheBridgeOnly) {
  model::Fabric f = testing::SampleFabric();
  std::string script = PlanFor(f, "h2", model::Platform::kFreeBSD);
  EXPECT_NE(script.find("ifconfig vpc1 addm vx100 private vx100\n"), std::string::npos);
  EXPECT_NE(script.find("ifconfig vpc1 addm vx102 private vx102\n"), std::string::npos);
  EXPECT_NE(script.find("ifconfig vpc1 inet 10.100.0.2/24 alias\n"), std::string::npos);
  // No address on any member: the only inet/inet6 words are on the bridge.
  for (const auto& line : Split(script, '\n')) {
    if (line.find(" inet") == std::string::npos || line[0] == '#') continue;
    EXPECT_TRUE(StartsWith(line, "ifconfig vpc1 ")) << line;
  }
}

TEST(Golden, LinuxPlanIsolatesEveryTunnel) {
  model::Fabric f = testing::SampleFabric();
  std::string script = PlanFor(f, "h1", model::Platform::kLinux);
  EXPECT_NE(script.find("ip link set dev vx100 type bridge_slave isolated on\n"), std::string::npos);
  EXPECT_NE(script.find("ip link set dev vx101 type bridge_slave isolated on\n"), std::string::npos);
  EXPECT_NE(script.find("dstport 4789"), std::string::npos);
  EXPECT_NE(script.find("ip addr add 10.100.0.1/24 dev vpc1\n"), std::string::npos);
}

}  // namespace
}  // namespace vpcctl::platform

namespace vpcctl::platform {
namespace {

TEST(LinuxBatch, AWholePlanIsOneIpBatch) {
  model::Fabric f = testing::SampleFabric();
  auto desired = plan::DesiredFor(f, "h1", "vpc1");
  auto steps = plan::Diff(*desired, plan::Observed{});
  LinuxDriver d;
  auto cmds = RenderAll(d, *steps);
  auto batch = d.Batch(cmds);
  ASSERT_TRUE(batch.ok()) << batch.error().message;
  auto& inv = *batch;
  ASSERT_EQ(inv.size(), 1u);
  EXPECT_EQ(inv[0].argv, (Argv{"ip", "-batch", "-"}));
  EXPECT_EQ(std::count(inv[0].input.begin(), inv[0].input.end(), '\n'),
            static_cast<long>(cmds.size()));
  EXPECT_TRUE(StartsWith(inv[0].input, "link add name vx100 mtu 1430 type vxlan id 100 "));
}

// Removing an address is "make it absent": a VIP's address can leave between probe and apply
// (its lease ended as other nodes dropped the VIP), and the apply must not fail on that.
TEST(LinuxDriver, RemovingAnAddressSucceedsWhenItIsAlreadyGone) {
  LinuxDriver d;
  plan::Step s;
  s.action = plan::Action::kRemoveAddress;
  s.vpc = "vpc1";
  s.ifname = "vpc1";
  s.address = *net::IfAddress::Parse("10.100.0.251/24");
  EXPECT_EQ(d.Render(s), (std::vector<Argv>{{"ip", "addr", "flush", "dev", "vpc1", "to",
                                            "10.100.0.251/32"}}));
  s.address = *net::IfAddress::Parse("fd00:100::fb/64");
  EXPECT_EQ(d.Render(s), (std::vector<Argv>{{"ip", "addr", "flush", "dev", "vpc1", "to",
                                            "fd00:100::fb/128"}}));
}

TEST(LinuxBatch, AllPeersOfAnInterfaceAreOneWgSet) {
  LinuxDriver d;
  auto batch = d.Batch({{"wg", "set", "wg-vpcctl", "listen-port", "51820", "private-key", "/k"},
                        {"wg", "set", "wg-vpcctl", "peer", "A", "endpoint", "1.2.3.4:1"},
                        {"wg", "set", "wg-vpcctl", "peer", "B", "remove"},
                        {"ip", "link", "set", "dev", "x", "up"},
                        {"wg", "set", "wg-vpcctl", "peer", "C", "remove"}});
  ASSERT_TRUE(batch.ok());
  auto& inv = *batch;
  ASSERT_EQ(inv.size(), 4u);
  EXPECT_EQ(inv[0].argv[3], "listen-port");  // device settings stay on their own
  EXPECT_EQ(inv[1].argv, (Argv{"wg", "set", "wg-vpcctl", "peer", "A", "endpoint", "1.2.3.4:1",
                               "peer", "B", "remove"}));
  EXPECT_EQ(inv[3].argv, (Argv{"wg", "set", "wg-vpcctl", "peer", "C", "remove"}));
  EXPECT_EQ(FreeBsdDriver().Batch({inv[1].argv, inv[3].argv})->size(), 1u);
}

TEST(LinuxBatch, KeepsOrderAcrossPrograms) {
  LinuxDriver d;
  auto inv = d.Batch({{"ip", "link", "a"}, {"bridge", "x"}, {"ip", "link", "b"}, {"ip", "link", "c"}});
  ASSERT_TRUE(inv.ok());
  ASSERT_EQ(inv->size(), 3u);
  EXPECT_EQ((*inv)[0].argv, (Argv{"ip", "link", "a"}));
  EXPECT_EQ((*inv)[1].argv, (Argv{"bridge", "x"}));
  EXPECT_EQ((*inv)[2].input, "link b\nlink c\n");
}

TEST(LinuxBatch, EveryCommandOfTheGoldenPlansIsBatchedExactly) {
  model::Fabric plain = testing::SampleFabric();
  model::Fabric encrypted = testing::SampleFabric();
  for (auto& v : encrypted.vpcs) v.encrypted = true;
  for (auto& n : encrypted.nodes) {
    n.transport = testing::Ip("10.255.0." + std::to_string(&n - encrypted.nodes.data() + 1));
  }
  LinuxDriver d;
  size_t checked = 0;
  for (const model::Fabric* f : {&plain, &encrypted}) {
    for (const char* node : {"h1", "h2", "h3"}) {
      auto desired = plan::DesiredFor(*f, node, "vpc1");
      ASSERT_TRUE(desired.ok()) << desired.error().message;
      desired->platform = model::Platform::kLinux;
      d.AddNodeSetup(*desired, NodeEnv{"/usr/local/sbin/vpcctl", std::string(model::DefaultStateDir(d.platform()))});
      auto steps = plan::Diff(*desired, plan::Observed{});
      ASSERT_TRUE(steps.ok());
      auto cmds = RenderAll(d, *steps);
      for (const auto& c : cmds) {
        if (c[0] != "ip" && c[0] != "bridge") continue;
        auto st = CheckBatchTokens(c);
        EXPECT_TRUE(st.ok()) << st.error().message;
        ++checked;
      }
      auto batch = d.Batch(cmds);
      EXPECT_TRUE(batch.ok()) << node << ": " << batch.error().message;
    }
  }
  EXPECT_GT(checked, 20u);
}

TEST(LinuxBatch, ATokenThatWouldNeedQuotingIsRefusedNamingIt) {
  LinuxDriver d;
  std::vector<std::string> bads = {"vx1#0", "a b", "a'b",          "a\"b", "a\nb",
                                   "a\\b",  "a\tb", "caf\xc3\xa9", "a\x7f", ""};
  for (const auto& bad : bads) {
    Argv evil = {"ip", "link", "set", "dev", bad, "up"};
    auto st = CheckBatchTokens(evil);
    ASSERT_FALSE(st.ok()) << Quoted(bad);
    EXPECT_NE(st.error().message.find("the token " + Quoted(bad)), std::string::npos)
        << st.error().message;
    EXPECT_EQ(st.error().message.find('\n'), std::string::npos) << "one line";
    auto batch = d.Batch({{"ip", "link", "add", "name", "vx1", "type", "dummy"}, evil});
    ASSERT_FALSE(batch.ok()) << Quoted(bad);
    EXPECT_NE(batch.error().message.find("into an iproute2 batch"), std::string::npos);
  }
  // Alone, a command is not batched: its argv reaches execvp as it is.
  auto alone = d.Batch({{"ip", "link", "set", "dev", "a b", "up"}});
  ASSERT_TRUE(alone.ok());
  EXPECT_EQ((*alone)[0].argv[4], "a b");
}

}  // namespace
}  // namespace vpcctl::platform

namespace vpcctl::platform {
namespace {

// The sample fabric plus vpc2 (FreeBSD h2 and h4, IPv6 peer network) and vpc3 (same nodes,
// IPv4), each with a CARP VIP, and a keepalived VIP on vpc1 between the Linux nodes h1 and h3.
model::Fabric WithVips() {
  model::Fabric f = testing::SampleFabric();
  alloc::VpcSpec spec;
  spec.name = "vpc2";
  spec.peer_network = testing::Net("fd00:20::/64");
  spec.members = {"h2", "h4"};
  EXPECT_TRUE(alloc::CreateVpc(f, spec, 2).ok());
  spec.name = "vpc3";
  spec.peer_network = testing::Net("10.30.0.0/24");
  EXPECT_TRUE(alloc::CreateVpc(f, spec, 3).ok());
  alloc::VipSpec vip;
  vip.vpc = "vpc1";
  vip.address = "10.100.0.250";
  vip.vhid = 10;
  vip.nodes = {"h3", "h1"};
  vip.secret = "s3cretS3cret";
  auto st = alloc::AddVip(f, vip);
  EXPECT_TRUE(st.ok()) << st.error().message;
  vip.vpc = "vpc2";
  vip.unsafe_two_node = true;  // vpc2 and vpc3 have two members and no witness
  vip.address = "fd00:20::250";
  vip.vhid = 20;
  vip.nodes = {"h4", "h2"};
  st = alloc::AddVip(f, vip);
  EXPECT_TRUE(st.ok()) << st.error().message;
  vip.vpc = "vpc3";
  vip.address = "10.30.0.250";
  vip.vhid = 30;
  vip.advert_ms = 2000;
  st = alloc::AddVip(f, vip);
  EXPECT_TRUE(st.ok()) << st.error().message;
  return f;
}

std::string PlanWithVips(const model::Fabric& f, const std::string& node, const std::string& vpc,
                         bool show_secrets) {
  auto desired = plan::DesiredFor(f, node, vpc);
  EXPECT_TRUE(desired.ok());
  const Driver& d = DriverFor(desired->platform);
  d.AddNodeSetup(*desired, NodeEnv{"/usr/local/sbin/vpcctl", std::string(model::DefaultStateDir(d.platform()))});
  auto steps = plan::Diff(*desired, plan::Observed{});
  EXPECT_TRUE(steps.ok());
  return RenderScript(d, show_secrets ? *steps : plan::Redacted(*steps));
}

TEST(GoldenVip, VipdConfiguration) {
  model::Fabric f = WithVips();
  auto desired = plan::DesiredFor(f, "h1");
  ASSERT_TRUE(desired.ok());
  NodeEnv env{"/usr/local/sbin/vpcctl", "/var/lib/vpcctl"};
  plan::DesiredFile file = VipdConfigFile(*desired, env);
  EXPECT_EQ(file.path, "/var/lib/vpcctl/vipd.json");
  EXPECT_EQ(file.mode, 0600u) << "it holds the VIP secrets";
  testing::ExpectGolden("linux/h1.vipd.json", file.content);
  auto parsed = vipd::ParseConfig(file.content);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(vipd::ConfigToJson(*parsed), file.content);
  plan::DesiredDaemon d = VipdDaemon(*desired, env);
  EXPECT_EQ(d.start, (Argv{"/usr/local/sbin/vpcctl", "--state-dir", "/var/lib/vpcctl", "vipd"}));
  EXPECT_TRUE(d.detach);
  EXPECT_EQ(d.ready, "/var/lib/vpcctl/vipd.sock");
  auto none = plan::DesiredFor(testing::SampleFabric(), "h1");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(VipdConfigFile(*none, env).content, "") << "no VIP: no vipd";
  EXPECT_TRUE(VipdDaemon(*none, env).start.empty());
}

TEST(GoldenVip, KeepalivedIsRetired) {
  model::Fabric f = WithVips();
  plan::Desired d = *plan::DesiredFor(f, "h1");
  DriverFor(model::Platform::kLinux).AddNodeSetup(d, NodeEnv{"v", "/s"});
  bool file = false, daemon = false;
  for (const auto& x : d.files) {
    if (x.path == "/s/keepalived.conf") file = x.content.empty();
  }
  for (const auto& x : d.daemons) {
    if (x.name == "keepalived") daemon = x.start.empty() && x.pidfile == "/s/keepalived.pid";
  }
  EXPECT_TRUE(file) << "an upgraded node's keepalived.conf is removed";
  EXPECT_TRUE(daemon) << "an upgraded node's keepalived is stopped";
}

TEST(GoldenVip, FreeBsdPlansWithCarp) {
  model::Fabric f = WithVips();
  testing::ExpectGolden("freebsd/vpc2-h2.plan", PlanWithVips(f, "h2", "vpc2", true));
  testing::ExpectGolden("freebsd/vpc3-h4.plan", PlanWithVips(f, "h4", "vpc3", true));
  std::string redacted = PlanWithVips(f, "h2", "vpc2", false);
  EXPECT_EQ(redacted.find("s3cretS3cret"), std::string::npos);
  EXPECT_NE(redacted.find("pass '(redacted)'"), std::string::npos);
}

TEST(GoldenVip, FreeBsdRcConfWithCarp) {
  model::Fabric f = WithVips();
  for (const char* node : {"h2", "h4"}) {
    auto desired = plan::DesiredFor(f, node);
    ASSERT_TRUE(desired.ok());
    testing::ExpectGolden(std::string("freebsd/") + node + ".vips.rc.conf",
                          RenderRcConf(*desired, /*show_secrets=*/true));
    std::string redacted = RenderRcConf(*desired, false);
    EXPECT_EQ(redacted.find("s3cretS3cret"), std::string::npos);
  }
}

TEST(GoldenVip, LinuxPlanStartsVipd) {
  model::Fabric f = WithVips();
  testing::ExpectGolden("linux/vpc1-h3.vips.plan", PlanWithVips(f, "h3", "vpc1", false));
}

}  // namespace
}  // namespace vpcctl::platform

namespace vpcctl::platform {
namespace {

plan::Step GuestStep(plan::Action action, model::GuestKind kind, const std::string& guest,
                     model::Platform p, bool with_ip) {
  model::Attachment a;
  a.id = 3;
  a.vpc = "vpc1";
  a.kind = kind;
  a.guest = guest;
  if (with_ip) a.address = *net::IfAddress::Parse("10.100.0.10/24");
  a.mac = *net::MacAddress::Parse("02:00:5e:10:00:0a");
  fabric::NameGuestInterfaces(a, p);
  plan::Step s;
  s.action = action;
  s.vpc = a.vpc;
  s.ifname = a.ifname;
  s.guest = a;
  s.mtu = 1430;
  return s;
}

std::string GuestScript(model::GuestKind kind, const std::string& guest, model::Platform p,
                        bool with_ip) {
  const Driver& d = DriverFor(p);
  return RenderScript(d, {GuestStep(plan::Action::kAttachGuest, kind, guest, p, with_ip),
                          GuestStep(plan::Action::kDetachGuest, kind, guest, p, with_ip)});
}

TEST(GoldenGuest, FreeBsdJailAndBhyve) {
  testing::ExpectGolden("freebsd/attach-jail.sh",
                        GuestScript(model::GuestKind::kJail, "web", model::Platform::kFreeBSD, true));
  testing::ExpectGolden("freebsd/attach-bhyve.sh",
                        GuestScript(model::GuestKind::kVm, "db", model::Platform::kFreeBSD, false));
}

TEST(GoldenGuest, LinuxNamespaceAndTap) {
  testing::ExpectGolden("linux/attach-netns.sh",
                        GuestScript(model::GuestKind::kNetns, "blue", model::Platform::kLinux, true));
  testing::ExpectGolden("linux/attach-tap.sh",
                        GuestScript(model::GuestKind::kTap, "qemu0", model::Platform::kLinux, false));
}

TEST(GoldenGuest, JailEndsAndMtu) {
  auto s = GuestStep(plan::Action::kAttachGuest, model::GuestKind::kJail, "web",
                     model::Platform::kFreeBSD, false);
  EXPECT_EQ(s.guest.ifname, "epair20003a");
  EXPECT_EQ(s.guest.inside, "epair20003b");
  auto cmds = FreeBsdDriver().Render(s);
  EXPECT_EQ(cmds[0], (Argv{"ifconfig", "epair20003", "create"}));
  EXPECT_EQ(cmds[3], (Argv{"ifconfig", "epair20003b", "ether", "02:00:5e:10:00:0a"}));
  EXPECT_EQ(cmds[5], (Argv{"ifconfig", "epair20003b", "vnet", "web"}));
}

}  // namespace
}  // namespace vpcctl::platform

namespace vpcctl::platform {
namespace {

// vpc1 of the sample fabric, encrypted, with every node's WireGuard key reported: h1-h2 over
// IPv4, h1-h3 over IPv6, h2-h3 over IPv4.
model::Fabric Encrypted() {
  model::Fabric f = testing::SampleNodes();
  alloc::VpcSpec spec;
  spec.name = "vpc1";
  spec.peer_network = testing::Net("10.100.0.0/24");
  spec.members = {"h1", "h2", "h3"};
  EXPECT_TRUE(alloc::CreateVpc(f, spec, 1).ok());
  const char* keys[] = {"xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=",
                        "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=",
                        "gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdyYBz6EA="};
  for (int i = 0; i < 3; ++i) f.nodes[i].wg_public_key = keys[i];
  return f;
}

TEST(GoldenEncrypted, PlansForEveryNodeOnBothSystems) {
  model::Fabric f = Encrypted();
  for (const char* node : {"h1", "h2", "h3"}) {
    testing::ExpectGolden(std::string("linux/vpc1-") + node + ".encrypted.plan",
                          PlanFor(f, node, model::Platform::kLinux));
    testing::ExpectGolden(std::string("freebsd/vpc1-") + node + ".encrypted.plan",
                          PlanFor(f, node, model::Platform::kFreeBSD));
  }
  auto desired = plan::DesiredFor(f, "h2");
  ASSERT_TRUE(desired.ok());
  testing::ExpectGolden("freebsd/h2.encrypted.rc.conf", RenderRcConf(*desired));
}

TEST(GoldenEncrypted, TunnelsRunBetweenTransportAddressesAndWireGuardBetweenUnderlays) {
  std::string h1 = PlanFor(Encrypted(), "h1", model::Platform::kLinux);
  EXPECT_NE(h1.find("ip link add name vx101 mtu 1370 type vxlan id 101 local 10.255.0.1 "
                    "remote 10.255.0.3 dstport 4789 nolearning\n"),
            std::string::npos)
      << h1;
  EXPECT_NE(h1.find("ip link add name wg-vpcctl mtu 1440 type wireguard\n"), std::string::npos);
  EXPECT_NE(h1.find("wg set wg-vpcctl listen-port 51820 private-key /var/lib/vpcctl/wg.key\n"),
            std::string::npos);
  // Endpoints in the pair's family, the peer's transport address only, keepalive on.
  EXPECT_NE(h1.find("wg set wg-vpcctl peer TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0= endpoint "
                    "192.0.2.2:51820 allowed-ips 10.255.0.2/32 persistent-keepalive 25\n"),
            std::string::npos);
  EXPECT_NE(h1.find("endpoint '[2001:db8::3]:51820' allowed-ips 10.255.0.3/32"), std::string::npos);
  // The firewall: VXLAN of each tunnel only through WireGuard from its peer's transport address.
  EXPECT_NE(h1.find("iifname \"wg-vpcctl\" ip saddr 10.255.0.3 udp dport 4789 @th,96,24 101 "
                    "accept\n"),
            std::string::npos);
  EXPECT_NE(h1.find("udp dport 4789 @th,96,24 { 100, 101 } drop\n"), std::string::npos);
  EXPECT_NE(h1.find("ip6 saddr { 2001:db8::1, 2001:db8::3, 2001:db8::4 } udp dport 51820 accept"),
            std::string::npos);
  EXPECT_NE(h1.find("udp dport 51820 drop\n"), std::string::npos);
  // No private key anywhere: only the key file's path.
  EXPECT_EQ(h1.find("PrivateKey"), std::string::npos);
}

TEST(GoldenEncrypted, PeersWithoutAReportedKeyWaitForIt) {
  model::Fabric f = Encrypted();
  f.nodes[2].wg_public_key.clear();  // h3 has not reported its key yet
  std::string h1 = PlanFor(f, "h1", model::Platform::kLinux);
  EXPECT_NE(h1.find("allowed-ips 10.255.0.2/32"), std::string::npos);
  EXPECT_EQ(h1.find("allowed-ips 10.255.0.3/32"), std::string::npos);
  // Its tunnel is made all the same, and works once the key is there.
  EXPECT_NE(h1.find("remote 10.255.0.3"), std::string::npos);
}

}  // namespace
}  // namespace vpcctl::platform

namespace vpcctl::platform {
namespace {

TEST(LinuxRps, MaskCoversEveryCpuIn32BitGroups) {
  EXPECT_EQ(RpsMask(1), "1");
  EXPECT_EQ(RpsMask(2), "3");
  EXPECT_EQ(RpsMask(12), "fff");
  EXPECT_EQ(RpsMask(32), "ffffffff");
  EXPECT_EQ(RpsMask(36), "f,ffffffff");
  EXPECT_EQ(RpsMask(64), "ffffffff,ffffffff");
  EXPECT_EQ(RpsMask(0), "1");
}

}  // namespace
}  // namespace vpcctl::platform

namespace vpcctl::platform {
namespace {

// FreeBSD VIPs under the lease: CARP carries the address, vipd (under daemon(8)) decides.
NodeEnv FreeBsdEnv() { return NodeEnv{"/usr/local/sbin/vpcctl", "/var/db/vpcctl"}; }

std::string ScriptFor(plan::Desired d) {
  FreeBsdDriver fb;
  d.platform = model::Platform::kFreeBSD;
  fb.AddNodeSetup(d, FreeBsdEnv());
  auto steps = plan::Diff(d, plan::Observed{});
  EXPECT_TRUE(steps.ok()) << steps.error().message;
  return RenderScript(fb, plan::Redacted(*steps));
}

// A VIP of vpc1 for which this node is an acceptor only (not among the candidates).
plan::DesiredVip AcceptorOnly() {
  plan::DesiredVip v;
  v.address = testing::Ip("10.100.0.250");
  v.vhid = 10;
  v.rank = -1;
  v.advert_ms = 1000;
  v.secret = "s3cretS3cret";
  v.local = testing::Ip("10.100.0.2");
  v.acceptors = 3;
  return v;
}

TEST(GoldenVipLease, CarpStateCommandsAndTheSupervisedDaemon) {
  std::string out = "# vipd acquires the lease of vhid 20 on vpc2, then loses it\n";
  out += ShellLine(CarpStateCommand("vpc2", 20, true)) + "\n";
  out += ShellLine(CarpStateCommand("vpc2", 20, false)) + "\n";
  out += "# vipd starts (or restarts) on a node with vhid 30 on vpc3: BACKUP first\n";
  out += ShellLine(CarpStateCommand("vpc3", 30, false)) + "\n";
  out += "# apply starts vipd under daemon(8)\n";
  out += ShellLine(SupervisedVipd({"/usr/local/sbin/vpcctl", "--state-dir", "/var/db/vpcctl", "vipd"},
                                  "/var/db/vpcctl/vipd.pid", "/var/db/vpcctl")) +
         "\n";
  testing::ExpectGolden("freebsd/carp-state.sh", out);
  EXPECT_EQ(CarpStateCommand("vpc1", 7, true),
            (Argv{"ifconfig", "vpc1", "vhid", "7", "advskew", "0", "state", "master"}));
  EXPECT_EQ(CarpStateCommand("vpc1", 7, false),
            (Argv{"ifconfig", "vpc1", "vhid", "7", "advskew", "240", "state", "backup"}));
  EXPECT_EQ(VipdSupervisorPidfile("/s"), "/s/vipd-daemon.pid");
  // devd's rule file goes where devd reads it for the prefix the node's vpcctl lives under.
  EXPECT_EQ(DevdConfPath("/usr/local/sbin/vpcctl"), "/usr/local/etc/devd/vpcctl.conf");
  EXPECT_EQ(DevdConfPath("/usr/sbin/vpcctl"), "/etc/devd/vpcctl.conf");
  EXPECT_EQ(DevdConfPath("/opt/vpcctl/sbin/vpcctl"), "/opt/vpcctl/etc/devd/vpcctl.conf");
}

TEST(GoldenVipLease, TheRcDScriptRunsWhatApplyRuns) {
  // dist/rc.d/vpcctl_vipd controls the daemon apply starts: same command, same pid files.
  std::string script = testing::ReadData("../dist/rc.d/vpcctl_vipd.in");
  const std::string dir = "${vpcctl_state_dir}";
  Argv argv = SupervisedVipd({"%%PREFIX%%/sbin/vpcctl", "--state-dir", dir, "vipd"},
                             vipd::PidfilePath(dir), dir);
  ASSERT_EQ(argv.front(), "daemon");
  argv.erase(argv.begin());
  EXPECT_NE(script.find("\ncommand=\"/usr/sbin/daemon\"\n"), std::string::npos) << script;
  EXPECT_NE(script.find("\ncommand_args=\"" + Join(argv, " ") + "\"\n"), std::string::npos)
      << Join(argv, " ");
  EXPECT_NE(script.find("\npidfile=\"" + VipdSupervisorPidfile(dir) + "\"\n"), std::string::npos);
  EXPECT_NE(script.find("\nrequired_files=\"" + vipd::ConfigPath(dir) + "\"\n"), std::string::npos);
}

TEST(GoldenVipLease, CandidatesGetCarpThatPrefersNoNodeAndVipdUnderDaemon) {
  model::Fabric f = WithVips();
  auto desired = plan::DesiredFor(f, "h2", "vpc2");
  ASSERT_TRUE(desired.ok());
  std::string plan = ScriptFor(*desired);
  EXPECT_NE(plan.find("ifconfig vpc2 inet6 vhid 20 advbase 1 advskew 240 pass '(redacted)' alias "
                      "fd00:20::250/128\n"),
            std::string::npos)
      << plan;
  // CARP's host-wide preemption is not vpcctl's any more; the lease decides.
  EXPECT_EQ(plan.find("net.inet.carp.preempt"), std::string::npos);
  EXPECT_NE(plan.find("daemon -f -r -S -T vpcctl-vipd -P /var/db/vpcctl/vipd-daemon.pid -p "
                      "/var/db/vpcctl/vipd.pid /usr/local/sbin/vpcctl --state-dir /var/db/vpcctl "
                      "vipd\n"),
            std::string::npos)
      << plan;
  EXPECT_NE(plan.find("# write /var/db/vpcctl/vipd.json"), std::string::npos);
  EXPECT_EQ(plan.find("vip-watch"), std::string::npos) << "never started again";
  EXPECT_NE(plan.find("match \"subsystem\"\t\"[0-9]+@(vpc2)\";"), std::string::npos);
  // Every node's VIP setup names the same vipd: the pid file daemon(8) writes for vipd itself.
  plan::Desired d = *desired;
  FreeBsdDriver().AddNodeSetup(d, FreeBsdEnv());
  const plan::DesiredDaemon* vipd = nullptr;
  const plan::DesiredDaemon* watch = nullptr;
  for (const auto& dm : d.daemons) {
    if (dm.name == "vipd") vipd = &dm;
    if (dm.name == "vip-watch") watch = &dm;
  }
  ASSERT_TRUE(vipd && watch);
  EXPECT_EQ(vipd->pidfile, "/var/db/vpcctl/vipd.pid");
  EXPECT_EQ(vipd->program, "vpcctl");
  EXPECT_NE(std::find(vipd->marks.begin(), vipd->marks.end(), "/var/db/vpcctl"), vipd->marks.end());
  EXPECT_NE(std::find(vipd->marks.begin(), vipd->marks.end(), "vipd"), vipd->marks.end());
  EXPECT_TRUE(vipd->reload_on_hup);
  EXPECT_FALSE(vipd->detach) << "daemon(8) detaches it";
  EXPECT_TRUE(vipd->stale.empty()) << "daemon(8)'s locked pid files are never removed";
  EXPECT_TRUE(watch->start.empty()) << "vip-watch is only ever stopped";
  auto config = std::find_if(d.files.begin(), d.files.end(),
                             [](const auto& f) { return f.path == "/var/db/vpcctl/vipd.json"; });
  ASSERT_NE(config, d.files.end());
  EXPECT_EQ(config->mode, 0600u) << "it holds the VIP secrets";
  EXPECT_FALSE(config->content.empty());
}

TEST(GoldenVipLease, AnAcceptorOnlyMemberRunsVipdWithoutCarp) {
  auto desired = plan::DesiredFor(testing::SampleFabric(), "h2", "vpc1");
  ASSERT_TRUE(desired.ok());
  desired->vpcs[0].vips = {AcceptorOnly()};
  std::string plan = ScriptFor(*desired);
  testing::ExpectGolden("freebsd/vpc1-h2.acceptor.plan", plan);
  EXPECT_EQ(plan.find(" vhid "), std::string::npos) << "no CARP address";
  EXPECT_EQ(plan.find("devd"), std::string::npos) << "no CARP state to follow";
  EXPECT_NE(plan.find("vpcctl-vipd"), std::string::npos);
  EXPECT_NE(plan.find("block drop in quick on ! vpc1 proto udp to 10.100.0.0/24 port 4797\n"),
            std::string::npos);
  EXPECT_NE(plan.find("block drop in quick proto udp from ! <vpcctl_nodes> to ! <vpcctl_overlay> "
                      "port 4797\n"),
            std::string::npos);
  EXPECT_EQ(RenderRcConf(*desired, true).find("vhid"), std::string::npos);
}

TEST(GoldenVipLease, AWitnessOutsideEveryVpcRunsVipdBehindTheFirewall) {
  model::Fabric f = testing::SampleFabric();
  plan::Desired d;
  d.node = "h4";
  for (const auto& n : f.nodes) {
    for (const auto* a : {&n.underlay4, &n.underlay6})
      if (*a) d.fabric_underlays.push_back(**a);
  }
  plan::DesiredVip v = AcceptorOnly();
  v.local = testing::Ip("192.0.2.4");
  d.witness_vips.push_back(plan::Desired::WitnessVip{"vpc1", v});
  std::string plan = ScriptFor(d);
  testing::ExpectGolden("freebsd/witness-h4.plan", plan);
  EXPECT_NE(plan.find("block drop in quick proto udp from ! <vpcctl_nodes> to any port 4797\n"),
            std::string::npos);
  EXPECT_EQ(plan.find("proto carp"), std::string::npos) << "no VPC: no CARP rule";
  EXPECT_EQ(plan.find(" vhid "), std::string::npos);
  EXPECT_NE(plan.find("vpcctl-vipd"), std::string::npos);
}

TEST(GoldenVipLease, ANodeWithoutVipsStopsTheVipMachinery) {
  plan::Desired d = *plan::DesiredFor(testing::SampleFabric(), "h2", "vpc1");
  FreeBsdDriver().AddNodeSetup(d, FreeBsdEnv());
  plan::Observed o;
  o.daemons["vipd"] = true;
  o.daemons["vip-watch"] = true;
  o.files["/var/db/vpcctl/vipd.json"] = "{}";
  o.files[DevdConfPath("/usr/local/sbin/vpcctl")] = "old";
  auto steps = plan::Diff(d, o);
  ASSERT_TRUE(steps.ok());
  std::vector<std::string> seen;
  for (const auto& s : *steps) {
    if (s.action == plan::Action::kStopDaemon || s.action == plan::Action::kRemoveFile) {
      seen.push_back(plan::Describe(s));
    }
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"remove /usr/local/etc/devd/vpcctl.conf [no VIP left]",
                                            "remove /var/db/vpcctl/vipd.json [no VIP left]",
                                            "stop vip-watch [no VIP left]",
                                            "stop vipd [no VIP left]"}));
  EXPECT_EQ(RenderPfAnchor(d).find("4797"), std::string::npos) << "no vipd: no lease rules";
}

}  // namespace
}  // namespace vpcctl::platform
