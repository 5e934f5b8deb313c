#include "vpcctl/model/map.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing.h"

namespace vpcctl::model {
namespace {

using json = nlohmann::json;

Map Sample() { return Map{"0123456789abcdef0123456789abcdef", "h1", testing::SampleFabric()}; }

// Parses the sample map after `edit` changed its JSON; returns the error message or "ok".
std::string After(const std::function<void(json&)>& edit) {
  json j = json::parse(MapToJson(Sample()));
  edit(j);
  auto m = ParseMap(j.dump());
  return m.ok() ? "ok" : m.error().message;
}

TEST(Map, RoundTripsTheFabric) {
  Map m = Sample();
  m.fabric.generation = 42;
  auto back = ParseMap(MapToJson(m));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->fabric_id, m.fabric_id);
  EXPECT_EQ(back->controller, "h1");
  EXPECT_EQ(back->fabric.generation, 42u);
  ASSERT_EQ(back->fabric.nodes.size(), 4u);
  EXPECT_EQ(back->fabric.nodes[2].mtu, 9000);
  EXPECT_EQ(back->fabric.nodes[1].platform, Platform::kFreeBSD);
  const Vpc& v = back->fabric.vpcs.at(0);
  const Vpc& w = m.fabric.vpcs.at(0);
  EXPECT_EQ(v.peer_network, w.peer_network);
  EXPECT_EQ(v.mtu, w.mtu);
  ASSERT_EQ(v.tunnels.size(), w.tunnels.size());
  for (size_t i = 0; i < v.tunnels.size(); ++i) {
    EXPECT_EQ(v.tunnels[i].vni, w.tunnels[i].vni);
    EXPECT_EQ(v.tunnels[i].family, w.tunnels[i].family);
  }
  EXPECT_EQ(MapToJson(*back), MapToJson(m));
}

TEST(Map, CarriesNoSecretsOrSshDetails) {
  Map m = Sample();
  m.fabric.nodes[1].host_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIsecretish";
  m.fabric.nodes[1].ssh_user = "deploy";
  std::string text = MapToJson(m);
  EXPECT_EQ(text.find("AAAAC3Nza"), std::string::npos);
  EXPECT_EQ(text.find("deploy"), std::string::npos);
  EXPECT_EQ(text.find("ssh"), std::string::npos);
}

TEST(Map, RefusesMalformedDocuments) {
  for (const char* bad : {"", "null", "[]", "{", "{\"format\": 1}", "not json at all"}) {
    EXPECT_FALSE(ParseMap(bad).ok()) << bad;
  }
}

TEST(Map, RefusesEveryBrokenInvariantNamingTheField) {
  struct Case {
    const char* expect;
    std::function<void(json&)> edit;
  };
  std::vector<Case> cases = {
      {"format 4", [](json& j) { j["format"] = 4; }},
      {"format 0", [](json& j) { j["format"] = 0; }},
      {"map.fabric", [](json& j) { j["fabric"] = "nothex"; }},
      {"map.generation", [](json& j) { j["generation"] = -1; }},
      {"map.'surprise' is not a field", [](json& j) { j["surprise"] = 1; }},
      {"invalid node name", [](json& j) { j["nodes"][0]["name"] = "H1;x"; }},
      {"platform", [](json& j) { j["nodes"][0]["platform"] = "plan9"; }},
      {"map.nodes[1].underlay.ipv4", [](json& j) { j["nodes"][1]["underlay"]["ipv4"] = "fd00::1"; }},
      {"has no address", [](json& j) { j["nodes"][1]["underlay"] = {{"ipv4", nullptr}, {"ipv6", nullptr}}; }},
      {"map.nodes[0].mtu", [](json& j) { j["nodes"][0]["mtu"] = 100; }},
      {"appears twice", [](json& j) { j["nodes"][1]["name"] = "h1"; }},
      {"belongs to two nodes", [](json& j) { j["nodes"][1]["underlay"]["ipv4"] = "192.0.2.1"; }},
      {"invalid VPC name", [](json& j) { j["vpcs"][0]["name"] = "bridge0"; }},
      {"host bits", [](json& j) { j["vpcs"][0]["peer_network"] = "10.100.0.1/24"; }},
      {"map.vpcs[0].port", [](json& j) { j["vpcs"][0]["port"] = 0; }},
      {"map.vpcs[0].mtu", [](json& j) { j["vpcs"][0]["mtu"] = 10000; }},
      {"is not a node", [](json& j) { j["vpcs"][0]["members"][0]["node"] = "ghost"; }},
      {"outside the usable", [](json& j) { j["vpcs"][0]["members"][0]["overlay"] = "10.9.0.1"; }},
      {"outside the usable", [](json& j) { j["vpcs"][0]["members"][0]["overlay"] = "10.100.0.255"; }},
      {"twice", [](json& j) { j["vpcs"][0]["members"][1]["overlay"] = "10.100.0.1"; }},
      {"VNI used twice", [](json& j) { j["vpcs"][0]["tunnels"][1]["vni"] = j["vpcs"][0]["tunnels"][0]["vni"]; }},
      {"map.vpcs[0].tunnels[0].vni", [](json& j) { j["vpcs"][0]["tunnels"][0]["vni"] = 0; }},
      {"ordered", [](json& j) { std::swap(j["vpcs"][0]["tunnels"][0]["a"], j["vpcs"][0]["tunnels"][0]["b"]); }},
      {"full mesh", [](json& j) { j["vpcs"][0]["tunnels"].erase(0); }},
      {"underlay address", [](json& j) { j["vpcs"][0]["tunnels"][0]["family"] = "ipv6"; }},
      {"FreeBSD", [](json& j) { j["vpcs"][0]["tunnels"][0]["vni"] = 40000; }},
      {"map.vpcs[0].tunnels[0].a", [](json& j) { j["vpcs"][0]["tunnels"][0]["a"] = 7; }},
  };
  for (const auto& c : cases) {
    std::string msg = After(c.edit);
    EXPECT_NE(msg.find(c.expect), std::string::npos) << "expected '" << c.expect << "' in: " << msg;
    EXPECT_NE(msg, "ok");
  }
  EXPECT_EQ(After([](json&) {}), "ok");
}

// An encrypted sample: vpc1 as in the sample fabric, but inside WireGuard, keys reported.
Map EncryptedSample() {
  Map m = Sample();
  m.fabric.vpcs.clear();
  alloc::VpcSpec spec;
  spec.name = "vpc1";
  spec.peer_network = testing::Net("10.100.0.0/24");
  spec.members = {"h1", "h2", "h3"};
  EXPECT_TRUE(alloc::CreateVpc(m.fabric, spec, 1).ok());
  m.fabric.nodes[0].wg_public_key = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
  return m;
}

std::string AfterEncrypted(const std::function<void(json&)>& edit) {
  json j = json::parse(MapToJson(EncryptedSample()));
  edit(j);
  auto m = ParseMap(j.dump());
  return m.ok() ? "ok" : m.error().message;
}

TEST(Map, CarriesEncryptionAndPublicKeysOnly) {
  Map m = EncryptedSample();
  auto back = ParseMap(MapToJson(m));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(back->fabric.vpcs[0].encrypted);
  EXPECT_EQ(back->fabric.transport.network.ToString(), "10.255.0.0/16");
  EXPECT_EQ(back->fabric.transport.port, 51820);
  EXPECT_EQ(back->fabric.nodes[0].transport, testing::Ip("10.255.0.1"));
  EXPECT_EQ(back->fabric.nodes[0].wg_public_key, m.fabric.nodes[0].wg_public_key);
  EXPECT_EQ(MapToJson(*back), MapToJson(m));
  // A map of format 1 (before encryption) is read as all plain.
  json old = json::parse(MapToJson(Sample()));
  old["format"] = 1;
  old.erase("transport");
  for (auto& n : old["nodes"]) {
    n.erase("transport");
    n.erase("wireguard_key");
  }
  for (auto& v : old["vpcs"]) v.erase("encrypted");
  auto legacy = ParseMap(old.dump());
  ASSERT_TRUE(legacy.ok()) << legacy.error().message;
  EXPECT_FALSE(legacy->fabric.vpcs[0].encrypted);
}

TEST(Map, RefusesBrokenEncryptionNamingTheField) {
  struct Case {
    const char* expect;
    std::function<void(json&)> edit;
  };
  std::vector<Case> cases = {
      {"map.transport.network", [](json& j) { j["transport"]["network"] = "10.255.0.1/16"; }},
      {"too small", [](json& j) { j["transport"]["network"] = "10.255.0.0/31"; }},
      {"map.transport.port", [](json& j) { j["transport"]["port"] = 0; }},
      {"map.nodes[0].transport", [](json& j) { j["nodes"][0]["transport"] = "nope"; }},
      {"outside the usable", [](json& j) { j["nodes"][0]["transport"] = "10.9.0.1"; }},
      {"belongs to two nodes", [](json& j) { j["nodes"][1]["transport"] = j["nodes"][0]["transport"]; }},
      {"map.nodes[0].wireguard_key", [](json& j) { j["nodes"][0]["wireguard_key"] = "short="; }},
      {"has no transport address", [](json& j) { j["nodes"][1]["transport"] = nullptr; }},
      {"map.vpcs[0].encrypted", [](json& j) { j["vpcs"][0]["encrypted"] = "yes"; }},
      {"WireGuard port", [](json& j) { j["vpcs"][0]["port"] = 51820; }},
      {"overlaps the transport network", [](json& j) { j["transport"]["network"] = "10.0.0.0/8"; }},
      {"inside the transport network", [](json& j) { j["transport"]["network"] = "192.0.2.0/24"; }},
  };
  for (const auto& c : cases) {
    std::string msg = AfterEncrypted(c.edit);
    EXPECT_NE(msg.find(c.expect), std::string::npos) << "expected '" << c.expect << "' in: " << msg;
  }
  EXPECT_EQ(AfterEncrypted([](json&) {}), "ok");
}

TEST(Map, ValidateFabricAcceptsWhatTheAllocatorBuilds) {
  Fabric f = testing::SampleFabric();
  ASSERT_TRUE(alloc::AddMember(f, "vpc1", "h4").ok());
  EXPECT_TRUE(ValidateFabric(f).ok());
  ASSERT_TRUE(alloc::RemoveMember(f, "vpc1", "h2").ok());
  EXPECT_TRUE(ValidateFabric(f).ok());
}

}  // namespace
}  // namespace vpcctl::model

namespace vpcctl::model {
namespace {

// Found by fuzzing: an unknown key was printed raw, so a key holding a newline forged a second
// line of diagnostics.
TEST(Map, UnknownKeysAreQuotedInMessages) {
  json j = json::parse(MapToJson(Sample(), true));
  j["nodes"][0]["underlay"]["x\nvpcctl: error: forged"] = 1;
  auto m = ParseMap(j.dump());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message.find('\n'), std::string::npos) << m.error().message;
  EXPECT_NE(m.error().message.find("'x\\nvpcctl: error: forged'"), std::string::npos);
}

}  // namespace
}  // namespace vpcctl::model
