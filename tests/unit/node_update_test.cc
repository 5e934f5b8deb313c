// vpcctl node update on a controller with a scripted SSH world: a member's underlay changes with
// nothing renumbered; a node that moves must present its pinned host key; --repin pins a new one
// under enrolment's rules; every bad value is named, with nothing changed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fake_world.h"
#include "vpcctl/fabric/check.h"
#include "vpcctl/fabric/context.h"
#include "vpcctl/ssh/known_hosts.h"

namespace vpcctl::fabric {
namespace {

class NodeUpdateTest : public FakeWorld {
 protected:
  void SetUp() override {
    FakeWorld::SetUp();
    EnrolHosts({"h2", "h3"});
    PlainVpc("vpc1", "10.100.0.0/24", "h1,h2,h3");
  }
  NodeUpdateOptions Update(const std::string& name) {
    NodeUpdateOptions o;
    o.name = name;
    return o;
  }
  Status Run(const NodeUpdateOptions& o) {
    out_.str("");
    err_.str("");
    return NodeUpdate(*ctx_, o);
  }
  // Refused as bad input, naming each of `named`, with the fabric as it was.
  void ExpectRefused(const NodeUpdateOptions& o, std::initializer_list<const char*> named) {
    model::Fabric before = Stored();
    Status st = Run(o);
    ASSERT_FALSE(st.ok());
    for (const char* n : named) {
      EXPECT_NE(st.error().message.find(n), std::string::npos)
          << n << " in: " << st.error().message;
    }
    model::Fabric after = Stored();
    EXPECT_EQ(after.generation, before.generation);
    EXPECT_EQ(after.nodes.size(), before.nodes.size());
    for (const auto& n : before.nodes) {
      const model::Node* m = after.FindNode(n.name);
      ASSERT_NE(m, nullptr);
      EXPECT_EQ(m->underlay4, n.underlay4);
      EXPECT_EQ(m->ssh_host, n.ssh_host);
      EXPECT_EQ(m->ssh_port, n.ssh_port);
      EXPECT_EQ(m->mtu, n.mtu);
      EXPECT_EQ(m->host_key, n.host_key);
    }
  }
};

TEST_F(NodeUpdateTest, AMembersUnderlayChangesWithNothingRenumbered) {
  model::Fabric before = Stored();
  size_t sent = ssh_.Commands("192.0.2.2", 22).size();
  auto o = Update("h2");
  o.underlay = {"192.0.2.12"};
  Status st = Run(o);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(out_.str(), "updated node h2: underlay 192.0.2.2 -> 192.0.2.12\n");
  EXPECT_NE(err_.str().find("nothing was renumbered"), std::string::npos) << err_.str();
  EXPECT_EQ(ssh_.Commands("192.0.2.2", 22).size(), sent) << "an underlay change needs no login";
  model::Fabric after = Stored();
  EXPECT_EQ(after.generation, before.generation + 1);
  EXPECT_EQ(after.FindNode("h2")->underlay4->ToString(), "192.0.2.12");
  EXPECT_EQ(after.FindNode("h2")->ssh_host, "192.0.2.2");
  const model::Vpc& v0 = *before.FindVpc("vpc1");
  const model::Vpc& v1 = *after.FindVpc("vpc1");
  ASSERT_EQ(v1.tunnels.size(), v0.tunnels.size());
  for (size_t i = 0; i < v0.tunnels.size(); ++i) {
    EXPECT_EQ(v1.tunnels[i].vni, v0.tunnels[i].vni);
    EXPECT_EQ(v1.tunnels[i].a, v0.tunnels[i].a);
    EXPECT_EQ(v1.tunnels[i].b, v0.tunnels[i].b);
  }
  ASSERT_EQ(v1.members.size(), v0.members.size());
  for (size_t i = 0; i < v0.members.size(); ++i) {
    EXPECT_EQ(v1.members[i].overlay, v0.members[i].overlay);
  }
}

TEST_F(NodeUpdateTest, AnMtuChangeIsRecordedAndTheVpcsMtuFollows) {
  auto o = Update("h3");
  o.mtu = "1400";
  o.json = true;
  Status st = Run(o);
  ASSERT_TRUE(st.ok()) << st.error().message;
  auto j = nlohmann::json::parse(out_.str());
  EXPECT_EQ(j["mtu"], 1400);
  EXPECT_EQ(j["changes"], nlohmann::json::array({"mtu 1500 -> 1400"}));
  EXPECT_EQ(Stored().FindVpc("vpc1")->mtu, 1400 - 50);
}

TEST_F(NodeUpdateTest, AnAddressAnotherNodeHasIsRefused) {
  auto o = Update("h2");
  o.underlay = {"192.0.2.3"};
  ExpectRefused(o, {"192.0.2.3", "h3"});
  o = Update("h2");
  o.address = "192.0.2.3";
  ExpectRefused(o, {"192.0.2.3", "h3"});
  o = Update("h2");
  o.underlay = {"192.0.2.200"};
  ExpectRefused(o, {"192.0.2.200", "h1"});
}

TEST_F(NodeUpdateTest, EveryBadValueIsNamedAtOnce) {
  auto o = Update("h2");
  o.mtu = "100";
  o.port = "70000";
  o.underlay = {"not-an-address"};
  ExpectRefused(o, {"'100'", "'70000'", "'not-an-address'"});
  ExpectRefused(Update("h2"), {"nothing to update"});
  o = Update("h9");
  o.mtu = "1400";
  ExpectRefused(o, {"unknown node 'h9'"});
  o = Update("h2");
  o.mtu = "1400";
  o.yes = true;
  ExpectRefused(o, {"--repin"});
}

TEST_F(NodeUpdateTest, ATunnelsFamilyCannotBeTakenFromAMember) {
  auto o = Update("h2");
  o.underlay = {"2001:db8::2"};
  ExpectRefused(o, {"cannot update node 'h2'", "tunnel 100", "ipv4 underlay address"});
}

TEST_F(NodeUpdateTest, ANodeThatMovesMustPresentItsPinnedKey) {
  ssh_.AddHost("192.0.2.22", 22, LinuxHost(kKeyA, "192.0.2.22"));
  TrustOurKey("192.0.2.22");
  ssh_.AddHost("192.0.2.23", 22, LinuxHost(kKeyB, "192.0.2.23"));
  TrustOurKey("192.0.2.23");
  auto o = Update("h2");
  o.address = "192.0.2.23";
  ExpectRefused(o, {"192.0.2.23", "not node 'h2''s pinned", "--repin"});
  EXPECT_TRUE(ssh_.Commands("192.0.2.23", 22).empty()) << "nothing sent to another host";

  o.address = "192.0.2.22";
  Status st = Run(o);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(out_.str(), "updated node h2: ssh root@192.0.2.2:22 -> root@192.0.2.22:22\n");
  auto pins = ssh::LoadKnownHosts(dir_ + "/state/known_hosts");
  ASSERT_TRUE(pins.ok());
  EXPECT_EQ(pins->Find("192.0.2.22", 22), kKeyA);
  EXPECT_FALSE(pins->Find("192.0.2.2", 22)) << "the old address is forgotten";
  EXPECT_EQ(Stored().FindNode("h2")->underlay4->ToString(), "192.0.2.2") << "underlay kept";
}

TEST_F(NodeUpdateTest, RepinPinsAReinstalledHostsKeyOnlyOnceConfirmed) {
  ssh_.Find("192.0.2.2", 22)->key = kKeyB;  // reinstalled
  auto o = Update("h2");
  o.repin = true;
  std::string fp_b = *ssh::Fingerprint(kKeyB.Line());
  ExpectRefused(o, {("--fingerprint " + fp_b).c_str()});
  o.fingerprint = *ssh::Fingerprint(kKeyA.Line());
  ExpectRefused(o, {fp_b.c_str()});
  o.fingerprint = fp_b;
  Status st = Run(o);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(out_.str(), "updated node h2: host key re-pinned\n");
  EXPECT_EQ(Stored().FindNode("h2")->host_key, kKeyB.Line());
  auto pins = ssh::LoadKnownHosts(dir_ + "/state/known_hosts");
  ASSERT_TRUE(pins.ok());
  EXPECT_EQ(pins->Find("192.0.2.2", 22), kKeyB);
  NodeCheckOptions check;
  check.names = {"h2"};
  EXPECT_TRUE(NodeCheck(*ctx_, check).ok()) << err_.str();
}

TEST_F(NodeUpdateTest, ThisNodeTakesOnlyUnderlayAndMtu) {
  auto o = Update("h1");
  o.address = "192.0.2.201";
  ExpectRefused(o, {"'h1' is this node"});
  o = Update("h1");
  o.repin = true;
  ExpectRefused(o, {"'h1' is this node"});
  o = Update("h1");
  o.underlay = {"192.0.2.201"};
  Status st = Run(o);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(Stored().FindNode("h1")->underlay4->ToString(), "192.0.2.201");
}

}  // namespace
}  // namespace vpcctl::fabric
