// Nodes behind 1:1 NAT: the underlay address is the public one, on none of the node's
// interfaces; the tunnels start from the local address it has. Detected at enrolment (node add)
// and again at every apply (the route to the peers), given with --local-address, carried in the
// map only for such nodes, shown by node show; bad values refused with nothing changed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fake_world.h"
#include "testing.h"
#include "vpcctl/fabric/node_state.h"
#include "vpcctl/model/map.h"
#include "vpcctl/plan/state.h"
#include "vpcctl/platform/freebsd.h"
#include "vpcctl/platform/linux.h"

namespace vpcctl {
namespace {

using json = nlohmann::json;
using testing::Ip;

// SampleFabric with h3 behind NAT: public 192.0.2.3 (its underlay), local 10.0.3.2.
model::Fabric NatFabric() {
  model::Fabric f = testing::SampleFabric();
  f.FindNode("h3")->local4 = Ip("10.0.3.2");
  return f;
}

TEST(Nat, TheMapCarriesLocalAddressesOnlyForNodesBehindNat) {
  model::Map m{"0123456789abcdef0123456789abcdef", "h1", NatFabric()};
  json j = json::parse(model::MapToJson(m));
  for (const auto& n : j["nodes"]) {
    if (n["name"] == "h3") {
      EXPECT_EQ(n["local"]["ipv4"], "10.0.3.2");
      EXPECT_TRUE(n["local"]["ipv6"].is_null());
    } else {
      EXPECT_FALSE(n.contains("local")) << n.dump();  // older nodes read it as before
    }
  }
  auto back = model::ParseMap(j.dump());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->fabric.FindNode("h3")->local4, Ip("10.0.3.2"));
  EXPECT_FALSE(back->fabric.FindNode("h2")->BehindNat());
}

TEST(Nat, TheMapRefusesALocalAddressWithoutItsUnderlayOrEqualToIt) {
  model::Fabric f = testing::SampleFabric();
  f.FindNode("h2")->local6 = Ip("fd00::2");  // h2 has no IPv6 underlay
  auto st = model::ValidateFabric(f);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("fd00::2"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("no ipv6 underlay"), std::string::npos);
  f = testing::SampleFabric();
  f.FindNode("h2")->local4 = Ip("192.0.2.2");
  st = model::ValidateFabric(f);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("equal to its underlay"), std::string::npos);
  // Two nodes behind NATs of their own may have the same private address.
  f = NatFabric();
  f.FindNode("h2")->local4 = Ip("10.0.3.2");
  EXPECT_TRUE(model::ValidateFabric(f).ok());
}

TEST(Nat, PlainTunnelsStartFromTheLocalAddressAndPeersSendToThePublicOne) {
  model::Fabric f = NatFabric();
  auto h3 = plan::DesiredFor(f, "h3");
  ASSERT_TRUE(h3.ok()) << h3.error().message;
  int v4 = 0;
  for (const auto& t : h3->vpcs[0].tunnels) {
    if (!t.remote.is_v4()) continue;
    ++v4;
    EXPECT_EQ(t.local, Ip("10.0.3.2")) << t.ifname;
  }
  EXPECT_EQ(v4, 1);  // h2-h3; h1-h3 runs over IPv6, which is not behind NAT
  for (const auto& t : h3->vpcs[0].tunnels) {
    if (t.remote.is_v6()) {
      EXPECT_EQ(t.local, Ip("2001:db8::3"));
    }
  }
  auto h2 = plan::DesiredFor(f, "h2");
  ASSERT_TRUE(h2.ok());
  for (const auto& t : h2->vpcs[0].tunnels) {
    if (t.peer == "h3") {
      EXPECT_EQ(t.remote, Ip("192.0.2.3"));
    }
  }
  // The firewall lets in the peers' public addresses, which is where NATed traffic comes from.
  EXPECT_NE(std::find(h2->fabric_underlays.begin(), h2->fabric_underlays.end(), Ip("192.0.2.3")),
            h2->fabric_underlays.end());
}

TEST(Nat, EncryptedTunnelsKeepTheirTransportAddressesAndWireguardGoesToThePublicOne) {
  model::Fabric f = testing::EncryptedSample();
  f.FindNode("h2")->local4 = Ip("10.0.2.2");
  auto h2 = plan::DesiredFor(f, "h2");
  ASSERT_TRUE(h2.ok()) << h2.error().message;
  for (const auto& t : h2->vpcs[0].tunnels) EXPECT_EQ(t.local, *f.FindNode("h2")->transport);
  auto h1 = plan::DesiredFor(f, "h1");
  ASSERT_TRUE(h1.ok());
  ASSERT_TRUE(h1->wireguard);
  bool seen = false;
  for (const auto& p : h1->wireguard->peers) {
    if (p.node != "h2") continue;
    seen = true;
    EXPECT_EQ(p.endpoint, Ip("192.0.2.2"));
  }
  EXPECT_TRUE(seen);
}

plan::Observed LinuxObserved() {
  auto o = platform::LinuxDriver().ParseProbe(
      {testing::ReadData("fixtures/linux/h1-vpc1.ip-d-addr.json"), "[]"});
  EXPECT_TRUE(o.ok());
  return o.ok() ? *o : plan::Observed{};
}

TEST(Nat, LinuxReadsTheRoutesSourceAddress) {
  platform::LinuxDriver d;
  EXPECT_EQ(d.RouteProbe(Ip("203.0.113.9")),
            (platform::Argv{"ip", "-j", "-4", "route", "get", "203.0.113.9"}));
  EXPECT_EQ(d.RouteProbe(Ip("2001:db8::9"))[2], "-6");
  plan::Observed o = LinuxObserved();
  std::string out =
      R"([{"dst":"203.0.113.9","gateway":"192.0.2.254","dev":"eth0","prefsrc":"192.0.2.1",)"
      R"("flags":[],"uid":0,"cache":[]}])";
  EXPECT_EQ(d.ParseRouteSource(out, o, net::Family::kV4), Ip("192.0.2.1"));
  EXPECT_EQ(d.ParseRouteSource(out, o, net::Family::kV6), std::nullopt);
  // A source the node does not have (a stale answer, a forged one) is not taken.
  std::string other = R"([{"dst":"203.0.113.9","dev":"eth0","prefsrc":"192.0.2.77"}])";
  EXPECT_EQ(d.ParseRouteSource(other, o, net::Family::kV4), std::nullopt);
  EXPECT_EQ(d.ParseRouteSource("RTNETLINK answers: Network is unreachable", o, net::Family::kV4),
            std::nullopt);
}

TEST(Nat, FreeBsdTakesTheAddressOfTheRoutesInterface) {
  platform::FreeBsdDriver d;
  EXPECT_EQ(d.RouteProbe(Ip("203.0.113.9")),
            (platform::Argv{"route", "-n", "get", "-inet", "203.0.113.9"}));
  EXPECT_EQ(d.RouteProbe(Ip("2001:db8::9"))[3], "-inet6");
  auto o = d.ParseProbe({testing::ReadData("fixtures/freebsd/h2-vpc1.14.ifconfig.txt")});
  ASSERT_TRUE(o.ok()) << o.error().message;
  std::string out =
      "   route to: 203.0.113.9\n"
      "destination: default\n"
      "       mask: default\n"
      "    gateway: 192.0.2.254\n"
      "        fib: 0\n"
      "  interface: vtnet0\n"
      "      flags: <UP,GATEWAY,DONE,STATIC>\n";
  EXPECT_EQ(d.ParseRouteSource(out, *o, net::Family::kV4), Ip("192.0.2.2"));
  EXPECT_EQ(d.ParseRouteSource("route: route has not been found\n", *o, net::Family::kV4),
            std::nullopt);
}

}  // namespace

namespace fabric {
namespace {

class NatWorld : public FakeWorld {
 protected:
  void SetUp() override {
    FakeWorld::SetUp();
    WritePassword("s3cret");
  }
  // A Linux host at the public address `ip` whose interfaces have 192.0.2.1 (the fixture's).
  void Host(const std::string& ip) {
    ssh_.AddHost(ip, 22, LinuxHost(kKeyA, ip));
    TrustOurKey(ip);
  }
  std::string Show(const std::string& name) {
    out_.str("");
    EXPECT_TRUE(NodeShow(*ctx_, name, false).ok());
    return out_.str();
  }
};

TEST_F(NatWorld, EnrolmentDetectsANodeBehindNat) {
  Host("198.51.100.44");
  route_source_["198.51.100.44"] = "192.0.2.1";
  Status st = NodeAdd(*ctx_, Add("h4", "198.51.100.44"));
  ASSERT_TRUE(st.ok()) << st.error().message;
  model::Fabric stored = Stored();
  const model::Node* h4 = stored.FindNode("h4");
  ASSERT_NE(h4, nullptr);
  EXPECT_EQ(h4->underlay4, testing::Ip("198.51.100.44"));
  EXPECT_EQ(h4->local4, testing::Ip("192.0.2.1"));
  EXPECT_EQ(h4->mtu, 1500);  // the local address's interface, not a 1500 guessed with a warning
  EXPECT_EQ(err_.str().find("assuming an underlay MTU"), std::string::npos) << err_.str();
  EXPECT_NE(Show("h4").find("behind NAT:   local 192.0.2.1, public 198.51.100.44\n"),
            std::string::npos)
      << Show("h4");
  out_.str("");
  ASSERT_TRUE(NodeList(*ctx_, false).ok());
  EXPECT_NE(out_.str().find("198.51.100.44 (behind NAT: local 192.0.2.1)"), std::string::npos)
      << out_.str();
  bool asked = false;
  for (const auto& c : ssh_.Commands("198.51.100.44", 22))
    asked = asked || c.find("'route' 'get' '198.51.100.44'") != std::string::npos;
  EXPECT_TRUE(asked);
}

TEST_F(NatWorld, ANodeThatHasItsUnderlayAddressIsNotBehindNat) {
  Host("192.0.2.1");  // the fixture's own address
  route_source_["192.0.2.1"] = "192.0.2.1";
  auto o = Add("h2", "192.0.2.1");
  Status st = NodeAdd(*ctx_, o);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_FALSE(Stored().FindNode("h2")->BehindNat());
  EXPECT_EQ(Show("h2").find("behind NAT"), std::string::npos);
  for (const auto& c : ssh_.Commands("192.0.2.1", 22))
    EXPECT_EQ(c.find("'route'"), std::string::npos) << "no route asked: " << c;
}

TEST_F(NatWorld, AGivenLocalAddressOverridesDetection) {
  Host("198.51.100.44");
  route_source_["198.51.100.44"] = "192.0.2.1";
  auto o = Add("h4", "198.51.100.44");
  o.local_address = {"192.0.2.1"};
  Status st = NodeAdd(*ctx_, o);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(Stored().FindNode("h4")->local4, testing::Ip("192.0.2.1"));
  for (const auto& c : ssh_.Commands("198.51.100.44", 22))
    EXPECT_EQ(c.find("'route'"), std::string::npos) << "given, so not detected: " << c;
}

TEST_F(NatWorld, BadLocalAddressesAreNamedWithNothingChanged) {
  Host("198.51.100.44");
  uint64_t generation = Stored().generation;
  auto o = Add("h4", "198.51.100.44");
  o.local_address = {"nope", "224.0.0.5", "198.51.100.44", "fd00::4"};
  Status st = NodeAdd(*ctx_, o);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Exit::kUsage);
  for (const char* named : {"'nope'", "'224.0.0.5'", "198.51.100.44 is the underlay address",
                            "fd00::4: node 'h4' has no ipv6 underlay"}) {
    EXPECT_NE(st.error().message.find(named), std::string::npos)
        << named << " in: " << st.error().message;
  }
  o.local_address = {"10.0.0.1", "10.0.0.2"};
  st = NodeAdd(*ctx_, o);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("two ipv4 local addresses"), std::string::npos);
  EXPECT_EQ(Stored().FindNode("h4"), nullptr);
  EXPECT_EQ(Stored().generation, generation);
  EXPECT_TRUE(ssh_.Commands("198.51.100.44", 22).empty()) << "refused before connecting";
}

TEST_F(NatWorld, NodeUpdateSetsTheLocalAddressOrDetectsItAgain) {
  Host("198.51.100.44");
  auto add = Add("h4", "198.51.100.44");
  add.local_address = {"10.9.9.9"};
  ASSERT_TRUE(NodeAdd(*ctx_, add).ok());
  EXPECT_NE(err_.str().find("10.9.9.9 is on none of h4's interfaces"), std::string::npos)
      << err_.str();
  NodeUpdateOptions up;
  up.name = "h4";
  up.local_address = {"auto"};
  route_source_["198.51.100.44"] = "192.0.2.1";
  out_.str("");
  Status st = NodeUpdate(*ctx_, up);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(out_.str(), "updated node h4: local address 10.9.9.9 -> 192.0.2.1\n");
  up.local_address = {"10.0.4.2"};
  size_t logins = ssh_.Commands("198.51.100.44", 22).size();
  ASSERT_TRUE(NodeUpdate(*ctx_, up).ok());
  EXPECT_EQ(Stored().FindNode("h4")->local4, testing::Ip("10.0.4.2"));
  EXPECT_EQ(ssh_.Commands("198.51.100.44", 22).size(), logins) << "a given address needs no login";
  up.local_address = {"auto", "10.0.4.3"};
  st = NodeUpdate(*ctx_, up);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("give it alone"), std::string::npos);
  EXPECT_EQ(Stored().FindNode("h4")->local4, testing::Ip("10.0.4.2"));
}

// Apply's side: the node looks at its own interfaces and routes every time.
class LocateTest : public FakeWorld {
 protected:
  model::Map map_{"0123456789abcdef0123456789abcdef", "h1", testing::SampleFabric()};
  plan::Observed observed_ = LinuxObserved();
  const platform::LinuxDriver driver_;
};

TEST_F(LocateTest, ANodeWithItsUnderlayAddressIsNotBehindNat) {
  // h1's underlay 192.0.2.1 and 2001:db8::1 are on the fixture's eth0.
  map_.fabric.FindNode("h1")->local4 = testing::Ip("10.0.1.2");  // stale: the NAT is gone
  auto found = LocateBehindNat(*ctx_, driver_, map_, "h1", observed_);
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_TRUE(found->empty());
  EXPECT_FALSE(map_.fabric.FindNode("h1")->BehindNat());
  EXPECT_TRUE(runner_.calls().empty()) << "no route asked";
}

TEST_F(LocateTest, ANodeBehindNatStartsFromTheSourceOfItsRouteToAPeer) {
  model::Node& h3 = *map_.fabric.FindNode("h3");  // 192.0.2.3: not on the fixture's interfaces
  h3.underlay6.reset();
  for (auto& v : map_.fabric.vpcs)
    for (auto& t : v.tunnels) t.family = net::Family::kV4;
  runner_.On({"ip", "-j", "-4", "route", "get"},
             R"([{"dst":"192.0.2.1","dev":"eth0","prefsrc":"192.0.2.1"}])");
  auto found = LocateBehindNat(*ctx_, driver_, map_, "h3", observed_);
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0], (model::NatReport{"ipv4", "192.0.2.3", "192.0.2.1", true}));
  EXPECT_EQ(map_.fabric.FindNode("h3")->local4, testing::Ip("192.0.2.1"));
  ASSERT_EQ(runner_.calls().size(), 1u);
  EXPECT_EQ(runner_.calls()[0].back(), "192.0.2.1") << "the route to a peer (h1)";
  // The map's own local address, when the node has it, is taken without asking.
  auto again = LocateBehindNat(*ctx_, driver_, map_, "h3", observed_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[0], (model::NatReport{"ipv4", "192.0.2.3", "192.0.2.1", false}));
  EXPECT_EQ(runner_.calls().size(), 1u);
}

TEST_F(LocateTest, NoSourceForAFamilyItsTunnelsUseIsAnErrorNamingTheFix) {
  model::Node& h2 = *map_.fabric.FindNode("h2");  // 192.0.2.2, IPv4 tunnels, not on eth0
  runner_.On({"ip", "-j", "-4", "route", "get"}, "RTNETLINK answers: Network is unreachable", 2);
  auto found = LocateBehindNat(*ctx_, driver_, map_, "h2", observed_);
  ASSERT_FALSE(found.ok());
  EXPECT_NE(found.error().message.find("192.0.2.2 is on none of its interfaces"), std::string::npos)
      << found.error().message;
  EXPECT_NE(found.error().message.find("vpcctl node update h2 --local-address"), std::string::npos);
  EXPECT_FALSE(h2.BehindNat());
}

}  // namespace
}  // namespace fabric
}  // namespace vpcctl
