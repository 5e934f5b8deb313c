// Probe parsers on captured output: tests/fixtures/linux holds real iproute2 6.1 output taken
// after running the sample plan for h1 in a network namespace; tests/fixtures/freebsd holds
// `ifconfig -a` text in the exact formats of FreeBSD 14 and 15's print functions.
#include <gtest/gtest.h>

#include "testing.h"
#include "vpcctl/fabric/init.h"
#include "vpcctl/plan/diff.h"
#include "vpcctl/platform/freebsd.h"
#include "vpcctl/platform/linux.h"

namespace vpcctl::platform {
namespace {

using plan::IfKind;
using testing::Ip;
using testing::ReadData;

Result<plan::Observed> LinuxFixture(const std::string& name) {
  return LinuxDriver().ParseProbe({ReadData("fixtures/linux/" + name + ".ip-link.json"),
                                   ReadData("fixtures/linux/" + name + ".ip-addr.json"),
                                   ReadData("fixtures/linux/" + name + ".bridge-link.json")});
}

std::vector<std::string> Names(const std::vector<plan::Step>& steps) {
  std::vector<std::string> out;
  for (const auto& s : steps) out.push_back(std::string(plan::ActionName(s.action)) + " " + s.ifname);
  return out;
}

TEST(LinuxParser, ReadsTunnelsBridgeAndAddresses) {
  auto obs = LinuxFixture("h1-vpc1");
  ASSERT_TRUE(obs.ok()) << obs.error().message;
  const auto* vx100 = obs->Find("vx100");
  ASSERT_NE(vx100, nullptr);
  EXPECT_EQ(vx100->kind, IfKind::kVxlan);
  EXPECT_EQ(vx100->vni, 100u);
  EXPECT_EQ(vx100->local, Ip("192.0.2.1"));
  EXPECT_EQ(vx100->remote, Ip("192.0.2.2"));
  EXPECT_EQ(vx100->port, 4789);
  EXPECT_EQ(vx100->mtu, 1430);
  EXPECT_EQ(vx100->owner, "vpcctl:vpc1");
  EXPECT_EQ(vx100->master, "vpc1");
  EXPECT_TRUE(vx100->isolated);
  EXPECT_TRUE(vx100->up);
  EXPECT_GT(vx100->ifindex, 0);
  const auto* vx101 = obs->Find("vx101");
  ASSERT_NE(vx101, nullptr);
  EXPECT_EQ(vx101->local, Ip("2001:db8::1"));
  EXPECT_EQ(vx101->remote, Ip("2001:db8::3"));
  const auto* br = obs->Find("vpc1");
  ASSERT_NE(br, nullptr);
  EXPECT_EQ(br->kind, IfKind::kBridge);
  bool has = false;
  for (const auto& a : br->addresses) has = has || a.ToString() == "10.100.0.1/24";
  EXPECT_TRUE(has);
  const auto* eth0 = obs->Find("eth0");
  ASSERT_NE(eth0, nullptr);
  EXPECT_EQ(eth0->kind, IfKind::kOther);
}

TEST(LinuxParser, OneIpDashDAddrReadsWhatLinkAddrAndBridgeRead) {
  // What the probe runs now: `ip -j -d addr show` (links, details, port flags and addresses in one
  // process), and `ip -j netns list` only when a namespace guest is concerned.
  EXPECT_EQ(LinuxDriver().ProbeCommands(), (std::vector<Argv>{{"ip", "-j", "-d", "addr", "show"}}));
  EXPECT_EQ(LinuxDriver().NamespaceProbe(), (Argv{"ip", "-j", "netns", "list"}));
  auto one = LinuxDriver().ParseProbe({ReadData("fixtures/linux/h1-vpc1.ip-d-addr.json"), "[]"});
  auto three = LinuxFixture("h1-vpc1");
  ASSERT_TRUE(one.ok()) << one.error().message;
  ASSERT_TRUE(three.ok());
  ASSERT_EQ(one->interfaces.size(), three->interfaces.size());
  for (size_t i = 0; i < one->interfaces.size(); ++i) {
    const auto& a = one->interfaces[i];
    const auto& b = three->interfaces[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.addresses, b.addresses) << a.name;
    EXPECT_EQ(a.isolated, b.isolated) << a.name;
    EXPECT_EQ(a.master, b.master) << a.name;
    EXPECT_EQ(a.mac, b.mac) << a.name;
    EXPECT_EQ(a.vni, b.vni) << a.name;
  }
  auto desired = plan::DesiredFor(testing::SampleFabric(), "h1");
  auto steps = plan::Diff(*desired, *one);
  ASSERT_TRUE(steps.ok());
  EXPECT_TRUE(steps->empty()) << ::testing::PrintToString(Names(*steps));
}

TEST(LinuxParser, AppliedPlanLeavesNoDrift) {
  auto obs = LinuxFixture("h1-vpc1");
  ASSERT_TRUE(obs.ok());
  auto desired = plan::DesiredFor(testing::SampleFabric(), "h1");
  ASSERT_TRUE(desired.ok());
  auto steps = plan::Diff(*desired, *obs);
  ASSERT_TRUE(steps.ok()) << steps.error().message;
  EXPECT_TRUE(steps->empty()) << ::testing::PrintToString(Names(*steps));
}

TEST(LinuxParser, DriftIsRepairedStepByStep) {
  // After the plan: vx100 left the bridge, vx101's MTU went to 1500, vpc1 went down and gained a
  // stray address in the peer network, and someone created an unrelated bridge foreign0. The
  // kernel raised the bridge's MTU to that of its one remaining port (1500).
  auto obs = LinuxFixture("h1-vpc1-drifted");
  ASSERT_TRUE(obs.ok());
  auto desired = plan::DesiredFor(testing::SampleFabric(), "h1");
  auto steps = plan::Diff(*desired, *obs);
  ASSERT_TRUE(steps.ok()) << steps.error().message;
  EXPECT_EQ(Names(*steps),
            (std::vector<std::string>{"set-mtu vx101", "set-mtu vpc1", "add-member vx100",
                                      "remove-address vpc1", "up vpc1"}));
  EXPECT_EQ((*steps)[3].address.ToString(), "10.100.0.77/24");
}

TEST(LinuxParser, RejectsGarbage) {
  EXPECT_FALSE(ParseIpLink("not json").ok());
  EXPECT_FALSE(ParseIpLink("{}").ok());
  EXPECT_FALSE(ParseIpAddr("[").ok());
  EXPECT_FALSE(ParseBridgeLink("").ok());
  auto odd = ParseIpLink(R"([{"ifname": 3}, 7, {"ifname": "x", "linkinfo": "y", "flags": 1}])");
  ASSERT_TRUE(odd.ok());
  ASSERT_EQ(odd->size(), 1u);
  EXPECT_EQ((*odd)[0].name, "x");
}

class FreeBsdParser : public ::testing::TestWithParam<const char*> {};

TEST_P(FreeBsdParser, ReadsTunnelsBridgeMembersAndAddresses) {
  auto obs = ParseIfconfig(ReadData(std::string("fixtures/freebsd/h2-vpc1.") + GetParam() +
                                    ".ifconfig.txt"));
  ASSERT_TRUE(obs.ok()) << obs.error().message;
  const auto* vx100 = obs->Find("vx100");
  ASSERT_NE(vx100, nullptr);
  EXPECT_EQ(vx100->kind, IfKind::kVxlan);
  EXPECT_EQ(vx100->vni, 100u);
  EXPECT_EQ(vx100->local, Ip("192.0.2.2"));
  EXPECT_EQ(vx100->remote, Ip("192.0.2.1"));
  EXPECT_EQ(vx100->port, 4789);
  EXPECT_EQ(vx100->mtu, 1430);
  EXPECT_EQ(vx100->owner, "vpcctl:vpc1");
  EXPECT_EQ(vx100->master, "vpc1");
  EXPECT_TRUE(vx100->isolated);
  EXPECT_TRUE(vx100->up);
  const auto* br = obs->Find("vpc1");
  ASSERT_NE(br, nullptr);
  EXPECT_EQ(br->kind, IfKind::kBridge);
  ASSERT_EQ(br->addresses.size(), 1u);
  EXPECT_EQ(br->addresses[0].ToString(), "10.100.0.2/24");
  const auto* lo = obs->Find("lo0");
  ASSERT_NE(lo, nullptr);
  EXPECT_EQ(lo->addresses.size(), 3u);
  EXPECT_EQ(lo->addresses[0].ToString(), "127.0.0.1/8");
  EXPECT_EQ(lo->addresses[2].ToString(), "fe80::1/64");
}

TEST_P(FreeBsdParser, AppliedPlanLeavesNoDrift) {
  auto obs = ParseIfconfig(ReadData(std::string("fixtures/freebsd/h2-vpc1.") + GetParam() +
                                    ".ifconfig.txt"));
  ASSERT_TRUE(obs.ok());
  auto desired = plan::DesiredFor(testing::SampleFabric(), "h2");
  auto steps = plan::Diff(*desired, *obs);
  ASSERT_TRUE(steps.ok()) << steps.error().message;
  EXPECT_TRUE(steps->empty()) << ::testing::PrintToString(Names(*steps));
}

INSTANTIATE_TEST_SUITE_P(Releases, FreeBsdParser, ::testing::Values("14", "15"));

TEST(FreeBsdParserMixed, Ipv6EndpointsCarpAndLeftoverClones) {
  auto obs = ParseIfconfig(ReadData("fixtures/freebsd/h3-mixed.15.ifconfig.txt"));
  ASSERT_TRUE(obs.ok()) << obs.error().message;
  const auto* vx101 = obs->Find("vx101");
  ASSERT_NE(vx101, nullptr);
  EXPECT_EQ(vx101->local, Ip("2001:db8::3"));
  EXPECT_EQ(vx101->remote, Ip("2001:db8::1"));
  EXPECT_EQ(vx101->master, "vpc1");
  EXPECT_FALSE(vx101->isolated);
  const auto* br = obs->Find("vpc1");
  ASSERT_NE(br, nullptr);
  ASSERT_EQ(br->addresses.size(), 1u) << "the CARP address is not the node's own";
  EXPECT_FALSE(br->up);
  const auto* clone = obs->Find("vxlan102");
  ASSERT_NE(clone, nullptr);
  EXPECT_FALSE(clone->up);
  EXPECT_EQ(obs->Find("vtnet0")->mtu, 9000);
  // vpc1 here is a bridge without our marker that already has a member: never clobbered.
  auto desired = plan::DesiredFor(testing::SampleFabric(), "h3");
  desired->platform = model::Platform::kFreeBSD;
  auto steps = plan::Diff(*desired, *obs);
  ASSERT_FALSE(steps.ok());
  EXPECT_NE(steps.error().message.find("interface vpc1 exists and is not managed by vpcctl"),
            std::string::npos)
      << steps.error().message;
}

TEST(FreeBsdParserMixed, RejectsTextThatIsNotIfconfig) {
  EXPECT_FALSE(ParseIfconfig("hello world\n").ok());
  EXPECT_FALSE(ParseIfconfig("\tinet 10.0.0.1 netmask 0xffffff00\n").ok());
  auto empty = ParseIfconfig("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->interfaces.empty());
}

TEST(MtuOfAddress, FindsTheInterfaceHoldingTheAddress) {
  auto obs = ParseIfconfig(ReadData("fixtures/freebsd/h3-mixed.15.ifconfig.txt"));
  ASSERT_TRUE(obs.ok());
  EXPECT_EQ(fabric::MtuOfAddress(*obs, Ip("2001:db8::3")), 9000);
  EXPECT_EQ(fabric::MtuOfAddress(*obs, Ip("10.100.0.3")), 1430);
  EXPECT_FALSE(fabric::MtuOfAddress(*obs, Ip("192.0.2.99")).has_value());
}

}  // namespace
}  // namespace vpcctl::platform

namespace vpcctl::platform {
namespace {

using testing::Ip;
using testing::ReadData;

using testing::EncryptedSample;

TEST(WgDump, ReadsTheDeviceAndEveryPeerButNeverThePrivateKey) {
  std::string text = ReadData("fixtures/wireguard/h1.dump");
  std::string raw = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=" + text.substr(text.find('\t'));
  ScrubWgDump(raw);
  EXPECT_EQ(raw.find("yAnz5TF"), std::string::npos);
  auto w = ParseWgDump(raw);
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(w->public_key, "nZx6Bl6DRx0OdPOL9mwhi4u8Xraymgjyr4a6lRJQcnY=");
  EXPECT_EQ(w->port, 51820);
  ASSERT_EQ(w->peers.size(), 3u);
  EXPECT_EQ(w->peers[0].endpoint, Ip("10.77.0.2"));
  EXPECT_EQ(w->peers[0].endpoint_port, 51820);
  EXPECT_EQ(w->peers[0].allowed_ips, std::vector<std::string>{"10.255.0.2/32"});
  EXPECT_EQ(w->peers[0].latest_handshake, 1796101744);
  EXPECT_EQ(w->peers[0].keepalive, 25);
  EXPECT_EQ(w->peers[1].endpoint, Ip("fd77::3"));
  EXPECT_EQ(w->peers[1].latest_handshake, 0);
  EXPECT_FALSE(w->peers[2].endpoint.has_value());
  EXPECT_TRUE(w->peers[2].allowed_ips.empty());
  EXPECT_EQ(w->peers[2].keepalive, 0);
  EXPECT_FALSE(ParseWgDump("").ok());
  auto bad = ParseWgDump(text + "a\tb\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.find("xxxx"), std::string::npos);
}

TEST(FreeBsdParserEncrypted, ReadsWireGuardAndLearningAndLeavesNoDrift) {
  auto obs = ParseIfconfig(ReadData("fixtures/freebsd/h2-encrypted.15.ifconfig-v.txt"));
  ASSERT_TRUE(obs.ok()) << obs.error().message;
  const auto* wg = obs->Find("wg-vpcctl");
  ASSERT_NE(wg, nullptr);
  EXPECT_EQ(wg->kind, IfKind::kWireguard);
  EXPECT_EQ(wg->owner, "vpcctl:wg-transport");
  ASSERT_EQ(wg->addresses.size(), 1u);
  EXPECT_EQ(wg->addresses[0].ToString(), "10.255.0.2/16");
  EXPECT_EQ(obs->Find("vx100")->learning, false);
  // h2's WireGuard as `wg show wg-vpcctl dump` reports it.
  obs->wireguard = *ParseWgDump(
      "x\tTrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=\t51820\toff\n"
      "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\t(none)\t192.0.2.1:51820\t10.255.0.1/32\t1\t2\t3\t25\n"
      "gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdyYBz6EA=\t(none)\t192.0.2.3:51820\t10.255.0.3/32\t1\t2\t3\t25\n");
  auto desired = plan::DesiredFor(EncryptedSample(), "h2");
  ASSERT_TRUE(desired.ok());
  auto steps = plan::Diff(*desired, *obs);
  ASSERT_TRUE(steps.ok()) << steps.error().message;
  EXPECT_TRUE(steps->empty()) << ::testing::PrintToString(Names(*steps));
  // The same tunnel learning (vxlanlearn) is drift: it is made again without.
  std::string text = ReadData("fixtures/freebsd/h2-encrypted.15.ifconfig-v.txt");
  size_t at = text.find("config: nolearning");
  text.replace(at, 18, "config: learning");
  auto learning = ParseIfconfig(text);
  ASSERT_TRUE(learning.ok());
  EXPECT_EQ(learning->Find("vx100")->learning, true);
}

}  // namespace
}  // namespace vpcctl::platform

namespace vpcctl::platform {
namespace {

TEST(WgHandshakes, ReadsEveryPeersLastHandshake) {
  auto h = ParseWgHandshakes("xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\t1796101744\n"
                             "gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdyYBz6EA=\t0\n");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->at("xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="), 1796101744);
  EXPECT_EQ(h->at("gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdyYBz6EA="), 0);
  EXPECT_TRUE(ParseWgHandshakes("").ok());
  EXPECT_FALSE(ParseWgHandshakes("key\tsoon\n").ok());
  // Past INT64_MAX is no time at all: refused here, "never" in the dump (found by fuzzing).
  EXPECT_FALSE(ParseWgHandshakes("key\t9223372036854775808\n").ok());
  auto dump = ParseWgDump("x\tTrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=\t51820\toff\n"
                          "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\t(none)\t192.0.2.1:51820\t"
                          "10.255.0.1/32\t9223372036854775808\t2\t3\t25\n");
  ASSERT_TRUE(dump.ok());
  EXPECT_EQ(dump->peers[0].latest_handshake, 0);
}

}  // namespace
}  // namespace vpcctl::platform
