// Golden files of both drivers' output for the sample 3-node VPC (one IPv6 pair), rendered for
// every node as if it ran Linux and as if it ran FreeBSD. FreeBSD goldens are also linted with the
// project's grammar checker outside the test suite (see README, "FreeBSD notes").
#include <gtest/gtest.h>

#include "testing.h"
#include "vpcctl/base/text.h"
#include "vpcctl/plan/diff.h"
#include "vpcctl/platform/driver.h"
#include "vpcctl/platform/freebsd.h"
#include "vpcctl/platform/linux.h"

#include <algorithm>

namespace vpcctl::platform {
namespace {

std::string PlanFor(const model::Fabric& f, const std::string& node, model::Platform p) {
  auto desired = plan::DesiredFor(f, node, "vpc1");
  EXPECT_TRUE(desired.ok());
  desired->platform = p;
  auto steps = plan::Diff(*desired, plan::Observed{});
  EXPECT_TRUE(steps.ok());
  return RenderScript(DriverFor(p), *steps);
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
  auto inv = d.Batch(cmds);
  ASSERT_EQ(inv.size(), 1u);
  EXPECT_EQ(inv[0].argv, (Argv{"ip", "-batch", "-"}));
  EXPECT_EQ(std::count(inv[0].input.begin(), inv[0].input.end(), '\n'),
            static_cast<long>(cmds.size()));
  EXPECT_TRUE(StartsWith(inv[0].input, "link add name vx100 mtu 1430 type vxlan id 100 "));
}

TEST(LinuxBatch, KeepsOrderAcrossPrograms) {
  LinuxDriver d;
  auto inv = d.Batch({{"ip", "link", "a"}, {"bridge", "x"}, {"ip", "link", "b"}, {"ip", "link", "c"}});
  ASSERT_EQ(inv.size(), 3u);
  EXPECT_EQ(inv[0].argv, (Argv{"ip", "link", "a"}));
  EXPECT_EQ(inv[1].argv, (Argv{"bridge", "x"}));
  EXPECT_EQ(inv[2].input, "link b\nlink c\n");
}

TEST(Ping, ParsesBothFormats) {
  auto l = ParsePing(
      "--- 10.0.0.2 ping statistics ---\n3 packets transmitted, 2 received, 33% packet loss, time "
      "402ms\nrtt min/avg/max/mdev = 0.041/0.052/0.066/0.010 ms\n");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->transmitted, 3);
  EXPECT_EQ(l->received, 2);
  EXPECT_DOUBLE_EQ(l->avg_ms, 0.052);
  auto f = ParsePing(
      "--- 10.0.0.2 ping statistics ---\n3 packets transmitted, 3 packets received, 0.0% packet "
      "loss\nround-trip min/avg/max/stddev = 0.041/0.5/0.066/0.010 ms\n");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->received, 3);
  EXPECT_DOUBLE_EQ(f->avg_ms, 0.5);
  auto none = ParsePing("3 packets transmitted, 0 received, +3 errors, 100% packet loss\n");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->received, 0);
  EXPECT_LT(none->avg_ms, 0);
  EXPECT_FALSE(ParsePing("ping: unknown host").ok());
}

}  // namespace
}  // namespace vpcctl::platform
