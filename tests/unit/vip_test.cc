// VIP validation, CARP probe parsing and diff, vip-event and vip-watch on scripted runners.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "testing.h"
#include "vpcctl/alloc/vip.h"
#include "vpcctl/base/text.h"
#include "vpcctl/fabric/node_ops.h"
#include "vpcctl/fabric/vip_ops.h"
#include "vpcctl/model/map.h"
#include "vpcctl/plan/diff.h"
#include "vpcctl/platform/freebsd.h"

namespace vpcctl {
namespace {

alloc::VipSpec Spec(const std::string& addr, int vhid, std::vector<std::string> nodes) {
  alloc::VipSpec s;
  s.vpc = "vpc1";
  s.address = addr;
  s.vhid = vhid;
  s.nodes = std::move(nodes);
  s.secret = "secret1";
  return s;
}

std::string AddError(model::Fabric& f, const alloc::VipSpec& s) {
  auto st = alloc::AddVip(f, s);
  return st.ok() ? "ok" : st.error().message;
}

TEST(VipAlloc, RefusesEveryBadInputNamingIt) {
  model::Fabric f = testing::SampleFabric();  // vpc1: h1, h3 linux; h2 freebsd
  ASSERT_EQ(AddError(f, Spec("10.100.0.250", 10, {"h1", "h3"})), "ok");
  const model::Fabric before = f;
  struct Case {
    alloc::VipSpec spec;
    const char* expect;
  };
  std::vector<Case> cases = {
      {Spec("10.100.0.251", 0, {"h1", "h3"}), "invalid vhid 0: must be 1-255"},
      {Spec("10.100.0.251", 256, {"h1", "h3"}), "invalid vhid 256"},
      {Spec("10.100.0.251", 10, {"h1", "h3"}), "vhid 10 is already used"},
      {Spec("10.100.0.3", 11, {"h1", "h3"}), "is node 'h3''s overlay address"},
      {Spec("10.100.0.250", 11, {"h1", "h3"}), "already exists"},
      {Spec("10.100.0.251", 11, {"h1", "h4"}), "'h4' is not a member"},
      {Spec("10.100.0.251", 11, {"h1", "h2"}), "mixes FreeBSD and Linux"},
      {Spec("10.100.0.251", 11, {"h1"}), "at least two nodes"},
      {Spec("10.100.0.251", 11, {"h1", "h1"}), "listed twice"},
      {Spec("fd00::1", 11, {"h1", "h3"}), "is ipv6"},
      {Spec("10.100.0.255", 11, {"h1", "h3"}), "broadcast"},
      {Spec("10.100.0.x", 11, {"h1", "h3"}), "'10.100.0.x'"},
  };
  for (auto& c : cases) {
    std::string msg = AddError(f, c.spec);
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.expect << " not in: " << msg;
  }
  auto empty = Spec("10.100.0.251", 11, {"h1", "h3"});
  empty.secret = "";
  EXPECT_NE(AddError(f, empty).find("secret is empty"), std::string::npos);
  auto quote = Spec("10.100.0.251", 11, {"h1", "h3"});
  quote.secret = "a'b";
  EXPECT_NE(AddError(f, quote).find("outside"), std::string::npos);
  auto slow = Spec("10.100.0.251", 11, {"h1", "h3"});
  slow.advert_ms = 5;
  EXPECT_NE(AddError(f, slow).find("invalid --advert 5"), std::string::npos);
  EXPECT_EQ(f.FindVpc("vpc1")->vips.size(), before.FindVpc("vpc1")->vips.size());
}

TEST(VipAlloc, VipsAreReservedFromOverlayAllocationAndPinMembers) {
  model::Fabric f = testing::SampleFabric();
  ASSERT_EQ(AddError(f, Spec("10.100.0.4", 10, {"h1", "h3"})), "ok");
  ASSERT_TRUE(alloc::AddMember(f, "vpc1", "h4").ok());
  EXPECT_EQ(f.FindVpc("vpc1")->FindMember("h4")->overlay, testing::Ip("10.100.0.5"));
  auto st = alloc::RemoveMember(f, "vpc1", "h3");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("remove it from the VIP first"), std::string::npos);
  EXPECT_TRUE(model::ValidateFabric(f).ok());
  ASSERT_TRUE(alloc::RemoveVip(f, "vpc1", 10).ok());
  EXPECT_TRUE(alloc::RemoveMember(f, "vpc1", "h3").ok());
}

TEST(VipAlloc, FreeBsdGroupsAdvertiseInSecondsWithHostWidePreempt) {
  model::Fabric f = testing::SampleFabric();
  alloc::VpcSpec vpc;
  vpc.name = "vpc2";
  vpc.peer_network = testing::Net("10.20.0.0/24");
  vpc.members = {"h2", "h4"};
  ASSERT_TRUE(alloc::CreateVpc(f, vpc, 2).ok());
  auto s = Spec("10.20.0.250", 1, {"h2", "h4"});
  s.vpc = "vpc2";
  s.advert_ms = 100;
  EXPECT_NE(AddError(f, s).find("whole seconds"), std::string::npos);
  s.advert_ms.reset();
  ASSERT_EQ(AddError(f, s), "ok");
  EXPECT_EQ(f.FindVpc("vpc2")->FindVip(1)->advert_ms, 1000);
  auto nopre = Spec("10.20.0.251", 2, {"h4", "h2"});
  nopre.vpc = "vpc2";
  nopre.preempt = false;
  EXPECT_NE(AddError(f, nopre).find("host-wide"), std::string::npos);
}

TEST(VipMap, SecretsTravelOnlyWhenAsked) {
  model::Fabric f = testing::SampleFabric();
  ASSERT_EQ(AddError(f, Spec("10.100.0.250", 10, {"h1", "h3"})), "ok");
  model::Map m{"0123456789abcdef0123456789abcdef", "h1", f};
  std::string shown = model::MapToJson(m, true);
  std::string hidden = model::MapToJson(m, false);
  EXPECT_NE(shown.find("secret1"), std::string::npos);
  EXPECT_EQ(hidden.find("secret1"), std::string::npos);
  auto back = model::ParseMap(shown);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->fabric.FindVpc("vpc1")->vips.at(0).nodes, (std::vector<std::string>{"h1", "h3"}));
  auto refused = model::ParseMap(hidden);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("redacted"), std::string::npos);
}

TEST(CarpProbe, ParsesCarpAddressesAndDiffsThem) {
  auto obs = platform::ParseIfconfig(testing::ReadData("fixtures/freebsd/h3-mixed.15.ifconfig.txt"));
  ASSERT_TRUE(obs.ok());
  const auto* br = obs->Find("vpc1");
  ASSERT_EQ(br->vips.size(), 1u);
  EXPECT_EQ(br->vips[0].address, testing::Ip("10.100.0.250"));
  EXPECT_EQ(br->vips[0].vhid, 7);
  EXPECT_EQ(br->vips[0].state, "MASTER");
  EXPECT_EQ(br->vips[0].advbase, 1);
  EXPECT_EQ(br->vips[0].advskew, 0);

  plan::Desired d;
  d.kernel_vips = true;
  plan::DesiredVpc dv;
  dv.vpc = "vpc1";
  dv.mtu = 1430;
  dv.address = *net::IfAddress::Parse("10.100.0.3/24");
  plan::DesiredVip vip;
  vip.address = testing::Ip("10.100.0.250");
  vip.vhid = 7;
  vip.advert_ms = 1000;
  dv.vips.push_back(vip);
  dv.keep_addresses.push_back(vip.address);
  d.vpcs.push_back(dv);
  plan::Observed o = *obs;
  o.interfaces.erase(std::remove_if(o.interfaces.begin(), o.interfaces.end(),
                                    [](const auto& i) { return i.name != "vpc1"; }),
                     o.interfaces.end());
  o.interfaces[0].owner = "vpcctl:vpc1";
  o.interfaces[0].up = true;
  auto count = [&](plan::Action a, const std::vector<plan::Step>& steps) {
    return std::count_if(steps.begin(), steps.end(), [&](const auto& s) { return s.action == a; });
  };
  auto same = plan::Diff(d, o);
  ASSERT_TRUE(same.ok()) << same.error().message;
  EXPECT_EQ(count(plan::Action::kAddVip, *same), 0);
  d.vpcs[0].vips[0].rank = 1;  // wants advskew 10: replace
  auto changed = plan::Diff(d, o);
  EXPECT_EQ(count(plan::Action::kRemoveVip, *changed), 1);
  EXPECT_EQ(count(plan::Action::kAddVip, *changed), 1);
  d.vpcs[0].vips.clear();  // no longer wanted
  auto gone = plan::Diff(d, o);
  EXPECT_EQ(count(plan::Action::kRemoveVip, *gone), 1);
  auto cmds = platform::FreeBsdDriver().Render((*gone)[0]);
  EXPECT_EQ(cmds.back(), (platform::Argv{"ifconfig", "vpc1", "inet", "10.100.0.250", "-alias"}));
}

class NodeVip : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vpcctl-vip-XXXXXX";
    dir_ = mkdtemp(tmpl);
    ctx_ = std::make_unique<fabric::Context>(fabric::Context{
        store::StatePaths{dir_ + "/state"}, runner_, ssh_, term_, io_, "vpcctl test"});
    model::Fabric f = testing::SampleFabric();
    EXPECT_EQ(AddError(f, Spec("10.100.0.250", 10, {"h1", "h3"})), "ok");
    model::Map m{"0123456789abcdef0123456789abcdef", "h1", f};
    in_.str(model::MapToJson(m, true));
    fabric::MapImportOptions o;
    o.node = "h1";
    auto st = fabric::MapImport(*ctx_, o);
    EXPECT_TRUE(st.ok()) << st.error().message;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
  exec::FakeRunner runner_;
  ssh::FakeClient ssh_;
  exec::NoTerminal term_;
  std::istringstream in_;
  std::ostringstream out_, err_;
  fabric::Output io_{in_, out_, err_, false};
  std::unique_ptr<fabric::Context> ctx_;
};

TEST_F(NodeVip, EventRecordsTheTransitionAndRunsHooksWithTheDetails) {
  std::filesystem::create_directories(dir_ + "/state/hooks.d");
  std::string hook = dir_ + "/state/hooks.d/10-notify";
  std::ofstream(hook) << "#!/bin/sh\n";
  std::filesystem::permissions(hook, std::filesystem::perms::owner_all);
  std::ofstream(dir_ + "/state/hooks.d/README") << "not executable\n";
  runner_.On({"env"}, "", 0);
  ASSERT_TRUE(fabric::VipEvent(*ctx_, {"vrrp", "INSTANCE", "vpc1_10", "MASTER", "200"}).ok());
  ASSERT_EQ(runner_.calls().size(), 1u);
  EXPECT_EQ(runner_.calls()[0],
            (exec::Argv{"env", "VPC=vpc1", "VIP=10.100.0.250", "VHID=10", "STATE=MASTER",
                        "VPCCTL_STATE_DIR=" + dir_ + "/state", hook}));
  ASSERT_TRUE(fabric::VipEvent(*ctx_, {"carp", "10@vpc1", "BACKUP"}).ok());
  auto db = fabric::OpenNodeStore(*ctx_);
  auto events = (*db)->VipEvents("vpc1", 10, 5);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].state, "BACKUP");
  EXPECT_EQ((*events)[1].state, "MASTER");
  for (auto bad : std::vector<std::vector<std::string>>{
           {"vrrp", "INSTANCE", "vpc1_999", "MASTER"}, {"carp", "10@vpc1", "PWNED"},
           {"carp", "10@Vpc;1", "MASTER"}, {"other"}}) {
    EXPECT_FALSE(fabric::VipEvent(*ctx_, bad).ok()) << Join(bad, " ");
  }
}

TEST_F(NodeVip, HealthNeedsAMajorityOfTheVpc) {
  std::string reply_ok = "1 packets transmitted, 1 received, 0% packet loss, time 0ms\n";
  std::string reply_lost = "1 packets transmitted, 0 received, 100% packet loss, time 0ms\n";
  runner_.On({"ping"}, [&](const exec::Argv& argv, const std::string&) {
    exec::CommandResult r;
    r.out = argv.back() == "10.100.0.2" ? reply_ok : reply_lost;
    return r;
  });
  EXPECT_TRUE(fabric::VipHealth(*ctx_, "vpc1").ok()) << "h1 + h2 = 2 of 3";
  runner_.On({"ping"}, reply_lost, 1);
  auto st = fabric::VipHealth(*ctx_, "vpc1");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("reaches 1 of 3"), std::string::npos);
}

TEST_F(NodeVip, WatchDemotesCarpWithoutQuorumAndRestoresIt) {
  std::atomic<int> pings{0};
  runner_.On({"ping"}, [&](const exec::Argv&, const std::string&) {
    exec::CommandResult r;
    // Round one: both peers lost. Round two: back.
    r.out = ++pings <= 2 ? "1 packets transmitted, 0 received, 100% packet loss\n"
                         : "1 packets transmitted, 1 received, 0% packet loss\n";
    return r;
  });
  runner_.On({"sysctl"}, "", 0);
  ASSERT_TRUE(fabric::VipWatch(*ctx_, 2).ok());
  std::vector<exec::Argv> sysctls;
  for (const auto& c : runner_.calls())
    if (c[0] == "sysctl") sysctls.push_back(c);
  ASSERT_EQ(sysctls.size(), 2u);
  EXPECT_EQ(sysctls[0], (exec::Argv{"sysctl", "net.inet.carp.demotion=240"}));
  EXPECT_EQ(sysctls[1], (exec::Argv{"sysctl", "net.inet.carp.demotion=-240"}));
}

}  // namespace
}  // namespace vpcctl
