// vpcctl plan on a controller whose local node is h1: it builds a node's desired state as apply
// does there (one builder, BuildDesired), so what it prints is what apply runs.
#include "vpcctl/fabric/plans.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fake_world.h"
#include "vpcctl/exec/runner.h"
#include "vpcctl/fabric/apply.h"
#include "vpcctl/fabric/nodes.h"
#include "vpcctl/fabric/vpcs.h"
#include "vpcctl/model/map.h"

namespace vpcctl::fabric {
namespace {

using json = nlohmann::json;

class PlansTest : public FakeWorld {
 protected:
  void SetUp() override {
    FakeWorld::SetUp();
    runner_.On({"ip"}, "[]");  // a node with nothing on it
    runner_.On({"nft"}, "", 1);
  }
  // Every command of `vpc`'s plan on `node`, one line each.
  std::vector<std::string> Planned(const std::string& vpc, const std::string& node = "") {
    PlanOptions o;
    o.vpc = vpc;
    o.node = node;
    o.json = true;
    out_.str("");
    Status st = Plan(*ctx_, o);
    EXPECT_TRUE(st.ok()) << st.error().message;
    std::vector<std::string> lines;
    if (!st.ok()) return lines;
    json plan = json::parse(out_.str());
    for (const auto& step : plan["steps"]) {
      for (const auto& argv : step["commands"]) {
        lines.push_back(ShellLine(argv.get<std::vector<std::string>>()));
      }
    }
    return lines;
  }
  // The commands apply would run on h1, this node, holding nothing yet, given the fabric's map.
  std::vector<std::string> ApplyDryRun() {
    auto s = Session::Read(*ctx_);
    EXPECT_TRUE(s.ok());
    if (!s.ok()) return {};
    auto id = (*s)->store().GetSetting("fabric_id");
    EXPECT_TRUE(id.ok() && *id);
    std::string map = dir_ + "/map.json";
    std::ofstream(map) << model::MapToJson(
        model::Map{id.ok() && *id ? **id : "", "h1", (*s)->fabric});
    s->reset();
    ApplyOptions o;
    o.dry_run = true;
    o.json = true;
    o.map_file = map;
    o.node = "h1";
    out_.str("");
    Status st = Apply(*ctx_, o);
    EXPECT_TRUE(st.ok()) << st.error().message;
    if (!st.ok()) return {};
    return json::parse(out_.str())["commands"].get<std::vector<std::string>>();
  }
};

TEST_F(PlansTest, WhatPlanPrintsForTheLocalNodeIsWhatApplyRunsThere) {
  PlainVpc("vpc1", "10.100.0.0/24", "h1");
  std::vector<std::string> planned = Planned("vpc1");
  ASSERT_FALSE(planned.empty());
  EXPECT_EQ(planned, ApplyDryRun());
  // Its firewall is in this node's state directory, not the platform's default.
  bool here = false;
  for (const auto& line : planned) here = here || line.find(dir_ + "/state/") != std::string::npos;
  EXPECT_TRUE(here) << ::testing::PrintToString(planned);
}

TEST_F(PlansTest, AnotherNodesPlanUsesItsEnrolledVpcctlAndItsPlatformsStateDirectory) {
  WritePassword("s3cret");
  ssh_.AddHost("192.0.2.2", 22, LinuxHost(kKeyA, "192.0.2.2"));
  TrustOurKey("192.0.2.2");
  auto add = Add("h2", "192.0.2.2");
  add.mtu = "1500";
  add.remote_vpcctl = "/opt/vpcctl/sbin/vpcctl";
  Status st = NodeAdd(*ctx_, add);
  ASSERT_TRUE(st.ok()) << st.error().message;
  VpcInitOptions v;
  v.name = "vpc1";
  v.peer_network = "10.100.0.0/24";
  v.members = "h1,h2";
  ASSERT_TRUE(VpcInit(*ctx_, v).ok());
  std::string all;
  for (const auto& line : Planned("vpc1", "h2")) all += line + "\n";
  EXPECT_NE(all.find("/var/lib/vpcctl/"), std::string::npos) << all;
  EXPECT_EQ(all.find(dir_), std::string::npos) << all;
  std::string mine;
  for (const auto& line : Planned("vpc1", "h1")) mine += line + "\n";
  EXPECT_NE(mine.find(dir_ + "/state/"), std::string::npos) << mine;
  EXPECT_EQ(mine.find("/var/lib/vpcctl/"), std::string::npos) << mine;
}

TEST_F(PlansTest, AnUnknownVpcOrNodeIsNamed) {
  PlainVpc("vpc1", "10.100.0.0/24", "h1");
  PlanOptions o;
  o.vpc = "vpc9";
  Status st = Plan(*ctx_, o);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("unknown VPC 'vpc9'"), std::string::npos) << st.error().message;
  o.vpc = "vpc1";
  o.node = "h9";
  st = Plan(*ctx_, o);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("unknown node 'h9'"), std::string::npos) << st.error().message;
  EXPECT_EQ(st.error().code, Exit::kUsage);
}

}  // namespace
}  // namespace vpcctl::fabric
