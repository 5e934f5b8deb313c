// vpc set: a VPC's MTU, port and quotas change in place with nothing renumbered; every bad value
// is named at once, with nothing changed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fake_world.h"
#include "vpcctl/fabric/context.h"

namespace vpcctl::fabric {
namespace {

class VpcSetTest : public FakeWorld {
 protected:
  void SetUp() override {
    FakeWorld::SetUp();
    EnrolHosts({"h2", "h3"});
    PlainVpc("vpc1", "10.100.0.0/24", "h1,h2,h3");
  }
  VpcSetOptions Set() {
    VpcSetOptions o;
    o.name = "vpc1";
    return o;
  }
  Status Run(const VpcSetOptions& o) {
    out_.str("");
    err_.str("");
    return VpcSet(*ctx_, o);
  }
  void ExpectRefused(const VpcSetOptions& o, std::initializer_list<const char*> named) {
    model::Fabric before = Stored();
    Status st = Run(o);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, Exit::kUsage);
    for (const char* n : named) {
      EXPECT_NE(st.error().message.find(n), std::string::npos)
          << n << " in: " << st.error().message;
    }
    model::Fabric after = Stored();
    EXPECT_EQ(after.generation, before.generation);
    const model::Vpc& a = *before.FindVpc("vpc1");
    const model::Vpc& b = *after.FindVpc("vpc1");
    EXPECT_EQ(b.mtu, a.mtu);
    EXPECT_EQ(b.mtu_fixed, a.mtu_fixed);
    EXPECT_EQ(b.port, a.port);
    EXPECT_EQ(b.max_jails, a.max_jails);
  }
};

TEST_F(VpcSetTest, PortMtuAndQuotasChangeWithNothingRenumbered) {
  model::Fabric before = Stored();
  auto o = Set();
  o.port = "4790";
  o.mtu = "1400";
  o.max_jails = "8";
  Status st = Run(o);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(out_.str(),
            "updated VPC vpc1: mtu 1450 (derived) -> 1400 (fixed); port 4789 -> 4790; max-jails "
            "none -> 8\n");
  EXPECT_NE(err_.str().find("vpcctl vpc deploy vpc1"), std::string::npos) << err_.str();
  model::Fabric after = Stored();
  EXPECT_EQ(after.generation, before.generation + 1);
  const model::Vpc& a = *before.FindVpc("vpc1");
  const model::Vpc& b = *after.FindVpc("vpc1");
  EXPECT_EQ(b.port, 4790);
  EXPECT_EQ(b.mtu, 1400);
  EXPECT_TRUE(b.mtu_fixed);
  EXPECT_EQ(b.max_jails, 8);
  ASSERT_EQ(b.tunnels.size(), a.tunnels.size());
  for (size_t i = 0; i < a.tunnels.size(); ++i) EXPECT_EQ(b.tunnels[i].vni, a.tunnels[i].vni);
  for (size_t i = 0; i < a.members.size(); ++i) {
    EXPECT_EQ(b.members[i].overlay, a.members[i].overlay);
  }

  o = Set();
  o.mtu = "auto";
  o.json = true;
  ASSERT_TRUE(Run(o).ok());
  auto j = nlohmann::json::parse(out_.str());
  EXPECT_EQ(j["mtu"], 1450);
  EXPECT_FALSE(j["mtu_fixed"].get<bool>());
  EXPECT_EQ(j["changes"], nlohmann::json::array({"mtu 1400 (fixed) -> 1450 (derived)"}));
}

TEST_F(VpcSetTest, TheSameValuesChangeNothingAndBumpNoGeneration) {
  uint64_t gen = Stored().generation;
  auto o = Set();
  o.port = "4789";
  ASSERT_TRUE(Run(o).ok());
  EXPECT_EQ(out_.str(), "updated VPC vpc1: nothing changed\n");
  EXPECT_EQ(Stored().generation, gen);
}

TEST_F(VpcSetTest, EveryBadValueIsNamedAtOnceWithNothingChanged) {
  auto o = Set();
  o.mtu = "big";
  o.port = "0";
  o.max_vms = "-1";
  ExpectRefused(o, {"'big'", "'0'", "'-1'"});
  o = Set();
  o.mtu = "500";
  ExpectRefused(o, {"invalid MTU 500", "576-9216"});
  ExpectRefused(Set(), {"nothing to set"});
  o = Set();
  o.name = "vpc9";
  o.port = "4790";
  ExpectRefused(o, {"unknown VPC 'vpc9'"});
}

}  // namespace
}  // namespace vpcctl::fabric
