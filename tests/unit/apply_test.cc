// apply on a node, with its commands answered by a fake runner: the options it refuses, a node
// that holds no map yet, and a dry run that plans against a map without storing or running it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fake_node.h"

namespace vpcctl::fabric {
namespace {

using json = nlohmann::json;

class ApplyTest : public FakeNode {
 protected:
  void SetUp() override {
    FakeNode::SetUp();
    model::Fabric f = testing::SampleFabric();
    f.generation = 4;
    map_path_ = dir_ + "/map.json";
    std::ofstream(map_path_) << MapText(f);
    runner_.On({"ip", "-j", "-d", "addr"},
               testing::ReadData("fixtures/linux/h1-vpc1.ip-d-addr.json"));
    runner_.On({"ip"}, "[]");
    runner_.On({"nft"}, "", 1);
  }
  Status Run(const ApplyOptions& o) {
    out_.str("");
    Context ctx = Ctx("apply");
    return Apply(ctx, o);
  }
  // Commands run other than the probes' listings.
  std::vector<std::string> Changes() {
    std::vector<std::string> out;
    for (const auto& c : runner_.calls()) {
      std::string line = Join(c, " ");
      bool listing = StartsWith(line, "ip -j ") || StartsWith(line, "nft list");
      if (!listing) out.push_back(line);
    }
    return out;
  }

  std::string map_path_;
};

TEST_F(ApplyTest, ContradictoryOptionsAreRefusedBeforeAnythingIsTouched) {
  ApplyOptions map_without_dry_run;
  map_without_dry_run.map_file = map_path_;
  Status st = Run(map_without_dry_run);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("--map plans against a map without storing it"),
            std::string::npos);
  ApplyOptions both;
  both.map_file = map_path_;
  both.import = true;
  both.dry_run = true;
  st = Run(both);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "give --map or --import, not both");
  ApplyOptions bad_node;
  bad_node.node = "no such/node";
  st = Run(bad_node);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("no such/node"), std::string::npos) << st.error().message;
  EXPECT_TRUE(runner_.calls().empty());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/state"));
}

TEST_F(ApplyTest, ANodeWithoutAMapHasNothingToApplyAndSaysSo) {
  ApplyOptions o;
  o.json = true;
  ASSERT_TRUE(Run(o).ok());
  json r = json::parse(out_.str());
  EXPECT_EQ(r["no_map"], true);
  EXPECT_EQ(r["converged"], true);
  EXPECT_TRUE(runner_.calls().empty());
  o.json = false;
  ASSERT_TRUE(Run(o).ok());
  EXPECT_NE(out_.str().find("no map on this node yet"), std::string::npos) << out_.str();
}

TEST_F(ApplyTest, ADryRunPlansAgainstAMapWithoutStoringItOrChangingTheNode) {
  ApplyOptions o;
  o.dry_run = true;
  o.json = true;
  o.map_file = map_path_;
  o.node = "h1";
  ASSERT_TRUE(Run(o).ok()) << out_.str();
  json r = json::parse(out_.str());
  EXPECT_EQ(r["node"], "h1");
  EXPECT_EQ(r["generation"], 4);
  EXPECT_EQ(r["dry_run"], true);
  // The fixture holds vpc1's interfaces; what is left is the node's own setup (its firewall,
  // absent here, and the pinned peers), each with the commands that would make it.
  ASSERT_FALSE(r["steps"].empty());
  EXPECT_EQ(r["changes"], r["steps"].size());
  EXPECT_FALSE(r["commands"].empty());
  for (const auto& s : r["steps"]) EXPECT_NE(s["action"], "create-tunnel") << s.dump();
  EXPECT_TRUE(Changes().empty()) << ::testing::PrintToString(Changes());
  // Nothing stored: the node still holds no map.
  ApplyOptions plain;
  plain.json = true;
  ASSERT_TRUE(Run(plain).ok());
  EXPECT_EQ(json::parse(out_.str())["no_map"], true);
}

}  // namespace
}  // namespace vpcctl::fabric
