// VIP leases on the controller side, pure: the rules on lease, check, witness and two-node groups
// (add and set), the map's format 3 and who gets a VIP's secret, the node's desired lease group
// (candidate, acceptor only, witness), and the lease fields of the reports.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing.h"
#include "vpcctl/alloc/vip.h"
#include "vpcctl/model/map.h"
#include "vpcctl/model/names.h"
#include "vpcctl/model/reports.h"
#include "vpcctl/plan/diff.h"
#include "vpcctl/plan/state.h"

namespace vpcctl {
namespace {

using json = nlohmann::json;

// vpc1 (10.100.0.0/24) over h1, h2, h3 of SampleFabric() (h2 FreeBSD), vpc2 (10.20.0.0/24) over
// the Linux nodes h1 and h3 only, and h5, a Linux node outside both (dual stack).
model::Fabric LeaseFabric() {
  model::Fabric f = testing::SampleFabric();
  f.nodes.push_back(
      testing::MakeNode("h5", model::Platform::kLinux, "192.0.2.5", "2001:db8::5"));
  alloc::VpcSpec spec;
  spec.name = "vpc2";
  spec.peer_network = testing::Net("10.20.0.0/24");
  spec.members = {"h1", "h3"};
  EXPECT_TRUE(alloc::CreateVpc(f, spec, 2).ok());
  return f;
}

alloc::VipSpec Spec(const std::string& vpc, const std::string& addr, int vhid,
                    std::vector<std::string> nodes) {
  return testing::MakeVipSpec(vpc, addr, vhid, std::move(nodes));
}

std::string SetError(model::Fabric& f, const std::string& vpc, int vhid,
                     const alloc::VipChange& c) {
  auto st = alloc::SetVip(f, vpc, vhid, c);
  if (st.ok()) return "ok";
  EXPECT_EQ(st.error().code, Exit::kUsage) << st.error().message;
  return st.error().message;
}

// --- validation ------------------------------------------------------------------------------

TEST(VipLease, AddRefusesEveryBadLeaseSettingNamingTheValue) {
  model::Fabric f = LeaseFabric();
  const model::Fabric before = f;
  struct Case {
    alloc::VipSpec spec;
    const char* expect;
  };
  auto with = [](alloc::VipSpec s, auto edit) {
    edit(s);
    return s;
  };
  auto base = Spec("vpc1", "10.100.0.250", 10, {"h1", "h3"});
  std::vector<Case> cases = {
      {with(base, [](auto& s) { s.lease_ms = 1349; }), "invalid lease 1349 ms: must be 1350-60000"},
      {with(base, [](auto& s) { s.lease_ms = 60001; }), "invalid lease 60001 ms"},
      {with(base, [](auto& s) { s.lease_ms = 0; }), "invalid lease 0 ms"},
      {with(base, [](auto& s) { s.check = "curl -fs http://127.0.0.1/"; }),
       "invalid check 'curl -fs http://127.0.0.1/': it must start with the program's absolute path"},
      {with(base, [](auto& s) { s.check = "/bin/check\tx"; }), "only printable ASCII"},
      {with(base, [](auto& s) { s.check = "/bin/\xc3\xa9t\xc3\xa9"; }), "only printable ASCII"},
      {with(base, [](auto& s) { s.check = "/" + std::string(1024, 'x'); }), "1025 characters"},
      {with(base, [](auto& s) { s.witness = "ghost"; }),
       "unknown witness 'ghost': not a node of the fabric"},
      {with(base, [](auto& s) { s.witness = "h2"; }),
       "witness 'h2' is a member of VPC 'vpc1'"},
      {with(base, [](auto& s) { s.nodes = {"h1", "ghost"}; }), "unknown node 'ghost' in --nodes"},
      {with(base, [](auto& s) { s.unsafe_two_node = true; }),
       "--unsafe-two-node is for a lease of two acceptors"},
      {Spec("vpc2", "10.20.0.250", 1, {"h1", "h3"}),
       "would have two acceptors only (the members of vpc2)"},
  };
  for (const auto& c : cases) {
    std::string msg = testing::VipAddError(f, c.spec);
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.expect << " not in: " << msg;
  }
  EXPECT_EQ(f.FindVpc("vpc1")->vips.size(), 0u) << "nothing was added";
  EXPECT_EQ(f.FindVpc("vpc2")->vips.size(), 0u) << "nothing was added";
  // Every problem at once.
  auto many = with(base, [](auto& s) {
    s.lease_ms = 5;
    s.check = "relative";
    s.witness = "h3";
  });
  std::string msg = testing::VipAddError(f, many);
  for (const char* e : {"invalid lease 5 ms", "invalid check 'relative'", "witness 'h3'"}) {
    EXPECT_NE(msg.find(e), std::string::npos) << e << " not in: " << msg;
  }
}

TEST(VipLease, TwoMemberGroupsNeedAWitnessOrTheUnsafeFlag) {
  model::Fabric f = LeaseFabric();
  auto witnessed = Spec("vpc2", "10.20.0.250", 1, {"h1", "h3"});
  witnessed.witness = "h5";
  witnessed.lease_ms = 3000;
  witnessed.check = "/usr/bin/curl -fs http://127.0.0.1/";
  ASSERT_EQ(testing::VipAddError(f, witnessed), "ok");
  const model::Vip& w = *f.FindVpc("vpc2")->FindVip(1);
  EXPECT_EQ(w.witness, "h5");
  EXPECT_EQ(w.lease_ms, 3000);
  EXPECT_EQ(w.check, "/usr/bin/curl -fs http://127.0.0.1/");
  EXPECT_FALSE(w.unsafe_two_node);
  auto unsafe = Spec("vpc2", "10.20.0.251", 2, {"h3", "h1"});
  unsafe.unsafe_two_node = true;
  ASSERT_EQ(testing::VipAddError(f, unsafe), "ok");
  EXPECT_TRUE(f.FindVpc("vpc2")->FindVip(2)->unsafe_two_node);
  EXPECT_EQ(f.FindVpc("vpc2")->FindVip(2)->lease_ms, model::kDefaultLeaseMs);
  EXPECT_TRUE(model::ValidateFabric(f).ok()) << model::ValidateFabric(f).error().message;
  // A third member makes the unsafe VIP safe; losing it again needs the flag (or a witness) back.
  model::Fabric grown = f;
  grown.nodes.push_back(testing::MakeNode("h6", model::Platform::kLinux, "192.0.2.6", ""));
  auto st = alloc::AddMember(grown, "vpc2", "h6");
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_FALSE(grown.FindVpc("vpc2")->FindVip(2)->unsafe_two_node);
  EXPECT_EQ(grown.FindVpc("vpc2")->FindVip(1)->witness, "h5") << "untouched";
  auto back = alloc::RemoveMember(grown, "vpc2", "h6");
  ASSERT_FALSE(back.ok());
  EXPECT_NE(back.error().message.find("(vhid 2) with two acceptors only"), std::string::npos)
      << back.error().message;
  // A witness with an unsafe flag is refused: three acceptors are safe.
  auto both = Spec("vpc2", "10.20.0.252", 3, {"h1", "h3"});
  both.witness = "h5";
  both.unsafe_two_node = true;
  EXPECT_NE(testing::VipAddError(f, both).find("has 3 (2 members and witness h5)"),
            std::string::npos);
}

TEST(VipLease, AWitnessMustReachEveryMemberInItsFamily) {
  model::Fabric f = LeaseFabric();
  f.nodes.push_back(testing::MakeNode("h6", model::Platform::kLinux, "", "2001:db8::6"));
  // h6 speaks IPv6 only; vpc1's h2 has no IPv6 underlay address.
  auto s = Spec("vpc1", "10.100.0.250", 10, {"h1", "h3"});
  s.witness = "h6";
  EXPECT_NE(
      testing::VipAddError(f, s).find("witness 'h6' speaks ipv6 on the underlay, but member 'h2'"),
      std::string::npos)
      << testing::VipAddError(f, s);
  s.witness = "h4";  // IPv4 first: every member of vpc1 has IPv4
  EXPECT_EQ(testing::VipAddError(f, s), "ok");
}

TEST(VipLease, SetChangesInPlaceOrNothing) {
  model::Fabric f = LeaseFabric();
  auto s = Spec("vpc2", "10.20.0.250", 1, {"h1", "h3"});
  s.unsafe_two_node = true;
  ASSERT_EQ(testing::VipAddError(f, s), "ok");
  const model::Fabric before = f;
  auto vip = [&] { return *f.FindVpc("vpc2")->FindVip(1); };
  struct Case {
    alloc::VipChange change;
    const char* expect;
  };
  std::vector<Case> bad;
  alloc::VipChange c;
  c.lease_ms = 70000;
  bad.push_back({c, "invalid lease 70000 ms"});
  c = {};
  c.check = "bin/true";
  bad.push_back({c, "invalid check 'bin/true'"});
  c = {};
  c.witness = "h3";
  bad.push_back({c, "witness 'h3' is a member of VPC 'vpc2'"});
  c = {};
  c.witness = "nobody";
  bad.push_back({c, "unknown witness 'nobody'"});
  c = {};
  c.unsafe_two_node = false;  // --safe without a witness
  bad.push_back({c, "would have two acceptors only"});
  c = {};
  c.nodes = std::vector<std::string>{"h1", "h2"};
  bad.push_back({c, "'h2' is not a member of VPC 'vpc2'"});
  c = {};
  c.nodes = std::vector<std::string>{"h1", "h404"};
  bad.push_back({c, "unknown node 'h404' in --nodes"});
  c = {};
  bad.push_back({c, "nothing to change"});
  for (const auto& b : bad) {
    std::string msg = SetError(f, "vpc2", 1, b.change);
    EXPECT_NE(msg.find(b.expect), std::string::npos) << b.expect << " not in: " << msg;
    EXPECT_EQ(vip().lease_ms, before.FindVpc("vpc2")->FindVip(1)->lease_ms);
    EXPECT_EQ(vip().witness, "");
    EXPECT_TRUE(vip().unsafe_two_node);
    EXPECT_EQ(vip().nodes, (std::vector<std::string>{"h1", "h3"}));
  }
  EXPECT_NE(SetError(f, "vpc2", 9, alloc::VipChange{}).find("has no VIP with vhid 9"),
            std::string::npos);
  // Good changes, one at a time and together.
  c = {};
  c.lease_ms = 2500;
  c.check = "/bin/true";
  c.preempt = false;
  c.nodes = std::vector<std::string>{"h3", "h1"};
  ASSERT_EQ(SetError(f, "vpc2", 1, c), "ok");
  EXPECT_EQ(vip().lease_ms, 2500);
  EXPECT_EQ(vip().check, "/bin/true");
  EXPECT_FALSE(vip().preempt);
  EXPECT_EQ(vip().nodes, (std::vector<std::string>{"h3", "h1"}));
  EXPECT_EQ(vip().secret, "secret1") << "the secret stays";
  // A witness makes the group safe: the unsafe flag goes with it.
  c = {};
  c.witness = "h5";
  ASSERT_EQ(SetError(f, "vpc2", 1, c), "ok");
  EXPECT_EQ(vip().witness, "h5");
  EXPECT_FALSE(vip().unsafe_two_node);
  c = {};
  c.check = "";
  c.witness = "";
  c.unsafe_two_node = true;
  ASSERT_EQ(SetError(f, "vpc2", 1, c), "ok");
  EXPECT_EQ(vip().check, "");
  EXPECT_EQ(vip().witness, "");
  EXPECT_TRUE(vip().unsafe_two_node);
  EXPECT_TRUE(model::ValidateFabric(f).ok());
}

TEST(VipLease, MembershipChangesKeepEveryLeaseSafe) {
  model::Fabric f = LeaseFabric();
  ASSERT_EQ(testing::VipAddError(f, Spec("vpc1", "10.100.0.250", 10, {"h1", "h3"})), "ok");
  // vpc1 has three members: removing h2 (not a candidate) would leave two acceptors.
  auto st = alloc::RemoveMember(f, "vpc1", "h2");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("removing 'h2' would leave VIP 10.100.0.250 (vhid 10) with "
                                    "two acceptors only"),
            std::string::npos)
      << st.error().message;
  alloc::VipChange c;
  c.witness = "h5";
  ASSERT_EQ(SetError(f, "vpc1", 10, c), "ok");
  ASSERT_TRUE(alloc::RemoveMember(f, "vpc1", "h2").ok());
  // The witness cannot join the VPC it witnesses.
  st = alloc::AddMember(f, "vpc1", "h5");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("'h5' is the witness of VIP 10.100.0.250"), std::string::npos);
  // A new member the witness cannot reach in its family is refused.
  f.nodes.push_back(testing::MakeNode("h6", model::Platform::kLinux, "", "2001:db8::6"));
  c.witness = "h6";
  ASSERT_EQ(SetError(f, "vpc1", 10, c), "ok");
  st = alloc::AddMember(f, "vpc1", "h2");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("member 'h2' of VPC 'vpc1' has no ipv6 underlay address"),
            std::string::npos)
      << st.error().message;
  EXPECT_TRUE(model::ValidateFabric(f).ok());
}

// --- the map ---------------------------------------------------------------------------------

model::Map LeaseMap() {
  model::Fabric f = LeaseFabric();
  auto s = Spec("vpc1", "10.100.0.250", 10, {"h3", "h1"});
  s.lease_ms = 2000;
  s.check = "/usr/local/bin/healthy --port 80";
  s.witness = "h5";
  s.preempt = false;
  EXPECT_EQ(testing::VipAddError(f, s), "ok");
  auto u = Spec("vpc2", "10.20.0.250", 1, {"h1", "h3"});
  u.secret = "secret2";
  u.unsafe_two_node = true;
  EXPECT_EQ(testing::VipAddError(f, u), "ok");
  return model::Map{"0123456789abcdef0123456789abcdef", "h1", f};
}

TEST(VipLeaseMap, RoundTripsTheLeaseFieldsInFormat3) {
  model::Map m = LeaseMap();
  std::string text = model::MapToJson(m, true);
  json j = json::parse(text);
  EXPECT_EQ(j["format"], 3);
  const json& v = j["vpcs"][0]["vips"][0];
  EXPECT_EQ(v["lease_ms"], 2000);
  EXPECT_EQ(v["check"], "/usr/local/bin/healthy --port 80");
  EXPECT_EQ(v["witness"], "h5");
  EXPECT_EQ(v["unsafe_two_node"], false);
  EXPECT_TRUE(j["vpcs"][1]["vips"][0]["check"].is_null());
  EXPECT_TRUE(j["vpcs"][1]["vips"][0]["witness"].is_null());
  EXPECT_EQ(j["vpcs"][1]["vips"][0]["unsafe_two_node"], true);
  auto back = model::ParseMap(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  const model::Vip& w = back->fabric.vpcs[0].vips[0];
  EXPECT_EQ(w.lease_ms, 2000);
  EXPECT_EQ(w.check, "/usr/local/bin/healthy --port 80");
  EXPECT_EQ(w.witness, "h5");
  EXPECT_FALSE(w.preempt);
  EXPECT_TRUE(back->fabric.vpcs[1].vips[0].unsafe_two_node);
  EXPECT_EQ(model::MapToJson(*back, true), text);
}

TEST(VipLeaseMap, SecretsGoToEveryMemberAndTheWitnessOnly) {
  model::Map m = LeaseMap();
  m.fabric.nodes.push_back(testing::MakeNode("h7", model::Platform::kLinux, "192.0.2.7", ""));
  auto secret_for = [&](const std::string& node, int vpc) {
    return json::parse(model::MapToJson(m, true, node))["vpcs"][vpc]["vips"][0]["secret"];
  };
  // vpc1: members h1, h2 (not a candidate), h3; witness h5.
  for (const char* n : {"h1", "h2", "h3", "h5"}) EXPECT_EQ(secret_for(n, 0), "secret1") << n;
  for (const char* n : {"h4", "h7"}) EXPECT_TRUE(secret_for(n, 0).is_null()) << n;
  // vpc2: members h1, h3, no witness.
  for (const char* n : {"h1", "h3"}) EXPECT_EQ(secret_for(n, 1), "secret2") << n;
  for (const char* n : {"h2", "h4", "h5"}) EXPECT_TRUE(secret_for(n, 1).is_null()) << n;
  // What each node was sent parses, and each node builds its part from it.
  for (const char* n : {"h1", "h2", "h3", "h4", "h5", "h7"}) {
    auto map = model::ParseMap(model::MapToJson(m, true, n));
    ASSERT_TRUE(map.ok()) << n << ": " << map.error().message;
    auto d = plan::DesiredFor(map->fabric, n);
    EXPECT_TRUE(d.ok()) << n << ": " << d.error().message;
  }
  // A map withholding the secret from a node of the lease is refused by that node.
  auto h7 = model::ParseMap(model::MapToJson(m, true, "h7"));
  for (const char* n : {"h2", "h5"}) {
    auto d = plan::DesiredFor(h7->fabric, n);
    ASSERT_FALSE(d.ok()) << n;
    EXPECT_NE(d.error().message.find(std::string("withholds its secret from ") + n +
                                     ", which takes part in its lease"),
              std::string::npos)
        << d.error().message;
  }
}

std::string AfterEdit(const std::function<void(json&)>& edit) {
  json j = json::parse(model::MapToJson(LeaseMap(), true));
  edit(j);
  auto m = model::ParseMap(j.dump());
  return m.ok() ? "ok" : m.error().message;
}

TEST(VipLeaseMap, RefusesBrokenLeaseFieldsNamingThem) {
  struct Case {
    const char* expect;
    std::function<void(json&)> edit;
  };
  auto vip = [](json& j) -> json& { return j["vpcs"][0]["vips"][0]; };
  std::vector<Case> cases = {
      {"map.vpcs[0].vips[0].lease_ms", [&](json& j) { vip(j)["lease_ms"] = 1000; }},
      {"map.vpcs[0].vips[0].lease_ms", [&](json& j) { vip(j)["lease_ms"] = 60001; }},
      {"map.vpcs[0].vips[0].lease_ms", [&](json& j) { vip(j).erase("lease_ms"); }},
      {"map.vpcs[0].vips[0].check", [&](json& j) { vip(j)["check"] = "rm -rf /"; }},
      {"map.vpcs[0].vips[0].check", [&](json& j) { vip(j)["check"] = ""; }},
      {"map.vpcs[0].vips[0].check", [&](json& j) { vip(j)["check"] = "/bin/x\n"; }},
      {"map.vpcs[0].vips[0].witness", [&](json& j) { vip(j)["witness"] = "H5;x"; }},
      {"witness 'ghost' is not a node", [&](json& j) { vip(j)["witness"] = "ghost"; }},
      {"witness 'h2' is a member", [&](json& j) { vip(j)["witness"] = "h2"; }},
      {"map.vpcs[0].vips[0].unsafe_two_node", [&](json& j) { vip(j)["unsafe_two_node"] = 1; }},
      {"only two acceptors (the members of vpc2)",
       [](json& j) { j["vpcs"][1]["vips"][0]["unsafe_two_node"] = false; }},
      {"format 4", [](json& j) { j["format"] = 4; }},
  };
  for (const auto& c : cases) {
    std::string msg = AfterEdit(c.edit);
    EXPECT_NE(msg.find(c.expect), std::string::npos) << "expected '" << c.expect << "' in: " << msg;
  }
  EXPECT_EQ(AfterEdit([](json&) {}), "ok");
}

TEST(VipLeaseMap, ReadsFormat2MapsWithTheDefaults) {
  json j = json::parse(model::MapToJson(LeaseMap(), true));
  j["format"] = 2;
  for (auto& v : j["vpcs"]) {
    for (auto& vip : v["vips"]) {
      for (const char* k : {"lease_ms", "check", "witness", "unsafe_two_node"}) vip.erase(k);
    }
  }
  auto m = model::ParseMap(j.dump());
  ASSERT_TRUE(m.ok()) << m.error().message;
  const model::Vip& three = m->fabric.vpcs[0].vips[0];
  EXPECT_EQ(three.lease_ms, model::kDefaultLeaseMs);
  EXPECT_EQ(three.check, "");
  EXPECT_EQ(three.witness, "");
  EXPECT_FALSE(three.unsafe_two_node);
  // Before leases, either node of a two-member VPC held the VIP alone: it still may.
  EXPECT_TRUE(m->fabric.vpcs[1].vips[0].unsafe_two_node);
  // A format-2 map does not carry the lease fields.
  j["vpcs"][0]["vips"][0]["lease_ms"] = 2000;
  auto mixed = model::ParseMap(j.dump());
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.error().message.find("'lease_ms' is not a field"), std::string::npos)
      << mixed.error().message;
}

// --- the node's lease group ------------------------------------------------------------------

const plan::DesiredVip* VipOf(const plan::Desired& d, const std::string& vpc, int vhid) {
  for (const auto& v : d.vpcs) {
    if (v.vpc != vpc) continue;
    for (const auto& vip : v.vips)
      if (vip.vhid == vhid) return &vip;
  }
  return nullptr;
}

TEST(VipLeaseDesired, ACandidateSpeaksOnItsOverlayToEveryMemberAndTheWitness) {
  model::Map m = LeaseMap();
  auto d = plan::DesiredFor(m.fabric, "h1");
  ASSERT_TRUE(d.ok()) << d.error().message;
  const plan::DesiredVip* v = VipOf(*d, "vpc1", 10);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->rank, 1);  // nodes h3, h1
  EXPECT_EQ(v->lease_ms, 2000);
  EXPECT_EQ(v->check, "/usr/local/bin/healthy --port 80");
  EXPECT_FALSE(v->preempt);
  EXPECT_FALSE(v->unsafe_two_node);
  EXPECT_EQ(v->secret, "secret1");
  EXPECT_EQ(v->local, testing::Ip("10.100.0.1"));
  EXPECT_EQ(v->acceptors, 4u);  // h1, h2, h3 and the witness h5
  ASSERT_EQ(v->group.size(), 3u);
  EXPECT_EQ(v->group[0].node, "h2");
  EXPECT_EQ(v->group[0].rank, -1);
  EXPECT_TRUE(v->group[0].acceptor);
  EXPECT_EQ(v->group[0].addresses, (std::vector<net::IpAddress>{testing::Ip("10.100.0.2")}));
  EXPECT_EQ(v->group[1].node, "h3");
  EXPECT_EQ(v->group[1].rank, 0);
  EXPECT_EQ(v->group[1].addresses, (std::vector<net::IpAddress>{testing::Ip("10.100.0.3")}));
  EXPECT_EQ(v->group[2].node, "h5");
  EXPECT_EQ(v->group[2].rank, -1);
  EXPECT_TRUE(v->group[2].acceptor);
  EXPECT_EQ(v->group[2].addresses, (std::vector<net::IpAddress>{testing::Ip("192.0.2.5"),
                                                                 testing::Ip("2001:db8::5")}));
  EXPECT_EQ(v->peers, (std::vector<net::IpAddress>{testing::Ip("10.100.0.3")}));
  // vpc2: two acceptors, unsafe.
  const plan::DesiredVip* u = VipOf(*d, "vpc2", 1);
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->rank, 0);
  EXPECT_TRUE(u->unsafe_two_node);
  EXPECT_EQ(u->acceptors, 2u);
  ASSERT_EQ(u->group.size(), 1u);
  EXPECT_EQ(u->group[0].node, "h3");
  EXPECT_TRUE(d->witness_vips.empty());
}

TEST(VipLeaseDesired, AMemberOutsideTheCandidatesIsAnAcceptorOnly) {
  model::Map m = LeaseMap();
  auto d = plan::DesiredFor(m.fabric, "h2");
  ASSERT_TRUE(d.ok()) << d.error().message;
  const plan::DesiredVip* v = VipOf(*d, "vpc1", 10);
  ASSERT_NE(v, nullptr) << "every VIP of the VPC, candidate or not";
  EXPECT_EQ(v->rank, -1);
  EXPECT_EQ(v->secret, "secret1");
  EXPECT_EQ(v->local, testing::Ip("10.100.0.2"));
  EXPECT_EQ(v->acceptors, 4u);
  ASSERT_EQ(v->group.size(), 3u);
  EXPECT_EQ(v->group[0].node, "h1");
  EXPECT_EQ(v->group[0].rank, 1);
  EXPECT_EQ(v->group[1].node, "h3");
  EXPECT_EQ(v->group[1].rank, 0);
  EXPECT_EQ(v->group[2].node, "h5");
  EXPECT_EQ(d->vpcs[0].keep_addresses, (std::vector<net::IpAddress>{testing::Ip("10.100.0.250")}));
  // CARP (FreeBSD) carries only a candidate's VIP: h2 adds none.
  d->kernel_vips = true;
  auto steps = plan::Diff(*d, plan::Observed{});
  ASSERT_TRUE(steps.ok()) << steps.error().message;
  for (const auto& s : *steps) EXPECT_NE(s.action, plan::Action::kAddVip) << plan::Describe(s);
}

TEST(VipLeaseDesired, AWitnessOutsideEveryVpcGetsItsLeaseGroupOnTheUnderlay) {
  model::Map m = LeaseMap();
  auto d = plan::DesiredFor(m.fabric, "h5");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_TRUE(d->vpcs.empty()) << "a witness has no VPC";
  ASSERT_EQ(d->witness_vips.size(), 1u);
  EXPECT_EQ(d->witness_vips[0].vpc, "vpc1");
  const plan::DesiredVip& v = d->witness_vips[0].vip;
  EXPECT_EQ(v.vhid, 10);
  EXPECT_EQ(v.rank, -1);
  EXPECT_EQ(v.secret, "secret1");
  EXPECT_EQ(v.local, testing::Ip("192.0.2.5")) << "IPv4 first";
  EXPECT_EQ(v.acceptors, 4u);
  EXPECT_EQ(v.lease_ms, 2000);
  ASSERT_EQ(v.group.size(), 3u);
  EXPECT_EQ(v.group[0].node, "h1");
  EXPECT_EQ(v.group[0].rank, 1);
  EXPECT_EQ(v.group[0].addresses,
            (std::vector<net::IpAddress>{testing::Ip("192.0.2.1"), testing::Ip("2001:db8::1"),
                                         testing::Ip("10.100.0.1")}));
  EXPECT_EQ(v.group[1].node, "h2");
  EXPECT_EQ(v.group[1].rank, -1);
  EXPECT_EQ(v.group[1].addresses,
            (std::vector<net::IpAddress>{testing::Ip("192.0.2.2"), testing::Ip("10.100.0.2")}));
  EXPECT_EQ(v.group[2].node, "h3");
  EXPECT_EQ(v.group[2].rank, 0);
  // Asked for that VPC alone, it is the witness's part still.
  auto only = plan::DesiredFor(m.fabric, "h5", "vpc1");
  ASSERT_TRUE(only.ok()) << only.error().message;
  EXPECT_EQ(only->witness_vips.size(), 1u);
  auto other = plan::DesiredFor(m.fabric, "h5", "vpc2");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find("not a member of VPC 'vpc2'"), std::string::npos);
}

TEST(VipLeaseDesired, AnIpv6OnlyWitnessSpeaksIpv6) {
  model::Map m = LeaseMap();
  m.fabric.nodes.push_back(testing::MakeNode("h6", model::Platform::kLinux, "", "2001:db8::6"));
  alloc::VipChange c;
  c.witness = "h6";
  c.unsafe_two_node = false;
  ASSERT_EQ(SetError(m.fabric, "vpc2", 1, c), "ok");
  auto d = plan::DesiredFor(m.fabric, "h6");
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_EQ(d->witness_vips.size(), 1u);
  EXPECT_EQ(d->witness_vips[0].vip.local, testing::Ip("2001:db8::6"));
  auto h1 = plan::DesiredFor(m.fabric, "h1");
  const plan::DesiredVip* v = VipOf(*h1, "vpc2", 1);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->acceptors, 3u);
  EXPECT_EQ(v->group.back().addresses, (std::vector<net::IpAddress>{testing::Ip("2001:db8::6")}));
}

// --- reports ---------------------------------------------------------------------------------

TEST(VipLeaseReports, StatusCarriesTheLeaseFieldsWhenVipdAnswered) {
  model::StatusReport r;
  r.node = "h2";
  r.generation = 7;
  model::VpcHealth v;
  v.name = "vpc1";
  v.address = "10.100.0.2/24";
  model::VipHealth none;  // vipd did not answer: no lease fields at all
  none.vhid = 10;
  none.address = "10.100.0.250";
  none.rank = -1;
  model::VipHealth seen = none;
  seen.vhid = 11;
  seen.holder = "h3";
  seen.epoch = 42;
  seen.remaining_ms = 1180;
  seen.lease_state = "ACCEPTOR";
  seen.round_ms = 3;
  v.vips = {none, seen};
  r.vpcs.push_back(v);
  json j = r.ToJson();
  const json& a = j["vpcs"][0]["vips"][0];
  for (const char* k : {"holder", "epoch", "remaining_ms", "lease_state", "round_ms"}) {
    EXPECT_FALSE(a.contains(k)) << k;
  }
  EXPECT_EQ(j["vpcs"][0]["vips"][1]["holder"], "h3");
  EXPECT_EQ(j["vpcs"][0]["vips"][1]["epoch"], 42);
  auto back = model::StatusReport::FromJson(j);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, r);
  // Null reads as absent.
  json nulls = j;
  nulls["vpcs"][0]["vips"][0]["holder"] = nullptr;
  nulls["vpcs"][0]["vips"][0]["epoch"] = nullptr;
  EXPECT_TRUE(model::StatusReport::FromJson(nulls).ok());
  struct Case {
    const char* key;
    json value;
  };
  for (const auto& c : std::vector<Case>{{"holder", "H3;x"},
                                         {"epoch", -1},
                                         {"remaining_ms", -5},
                                         {"remaining_ms", 1e12},
                                         {"lease_state", "MASTER"},
                                         {"round_ms", "3"},
                                         {"rank", -2}}) {
    json bad = j;
    bad["vpcs"][0]["vips"][1][c.key] = c.value;
    auto p = model::StatusReport::FromJson(bad);
    ASSERT_FALSE(p.ok()) << c.key << " " << c.value.dump();
    EXPECT_NE(p.error().message.find(c.key), std::string::npos) << p.error().message;
  }
}

TEST(VipLeaseReports, VipTakeReportIsStrict) {
  auto ok = model::ParseReport<model::VipTakeReport>(
      R"({"vpc":"vpc1","vhid":10,"holder":"h2","took_ms":12})");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->vpc, "vpc1");
  EXPECT_EQ(ok->vhid, 10);
  EXPECT_EQ(ok->holder, "h2");
  EXPECT_EQ(ok->took_ms, 12);
  EXPECT_EQ(model::VipTakeReport::FromJson(ok->ToJson()).value(), *ok);
  for (const char* bad : {R"({"vpc":"vpc1","vhid":10,"holder":"h2"})",
                          R"({"vpc":"vpc1","vhid":0,"holder":"h2","took_ms":1})",
                          R"({"vpc":"Vpc;1","vhid":10,"holder":"h2","took_ms":1})",
                          R"({"vpc":"vpc1","vhid":10,"holder":"h2\n","took_ms":1})",
                          R"({"vpc":"vpc1","vhid":10,"holder":"h2","took_ms":-1})",
                          R"({"vpc":"vpc1","vhid":10,"holder":"h2","took_ms":1,"x":1})"}) {
    EXPECT_FALSE(model::ParseReport<model::VipTakeReport>(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace vpcctl
