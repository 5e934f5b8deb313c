#include <gtest/gtest.h>

#include "vpcctl/net/ip.h"

namespace vpcctl::net {
namespace {

TEST(IpAddress, ParsesAndFormatsBothFamilies) {
  auto v4 = IpAddress::Parse("192.0.2.10");
  ASSERT_TRUE(v4.ok());
  EXPECT_TRUE(v4->is_v4());
  EXPECT_EQ(v4->ToString(), "192.0.2.10");
  auto v6 = IpAddress::Parse("2001:DB8:0:0::1");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->is_v6());
  EXPECT_EQ(v6->ToString(), "2001:db8::1");
  EXPECT_EQ(FamilyName(v6->family()), "ipv6");
}

TEST(IpAddress, RefusesMalformedInputNamingIt) {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4 ", " 1.2.3.4",
                          "fe80::1%eth0", "2001:db8:::1", "abc", "1.2.3.4;reboot", "::g"}) {
    auto r = IpAddress::Parse(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.error().message.find(std::string("'") + bad + "'"), std::string::npos)
          << r.error().message;
      EXPECT_EQ(r.error().code, Exit::kUsage);
    }
  }
}

TEST(IpAddress, KnowsMulticastAndOrdering) {
  EXPECT_TRUE(IpAddress::Parse("239.1.1.1")->IsMulticast());
  EXPECT_TRUE(IpAddress::Parse("ff02::1")->IsMulticast());
  EXPECT_FALSE(IpAddress::Parse("10.0.0.1")->IsMulticast());
  EXPECT_TRUE(IpAddress::Parse("0.0.0.0")->IsUnspecified());
  EXPECT_LT(*IpAddress::Parse("10.0.0.1"), *IpAddress::Parse("10.0.0.2"));
}

TEST(IpAddress, PlusCarriesAcrossBytes) {
  EXPECT_EQ(IpAddress::Parse("10.0.0.255")->Plus(1).ToString(), "10.0.1.0");
  EXPECT_EQ(IpAddress::Parse("10.0.255.255")->Plus(2).ToString(), "10.1.0.1");
  EXPECT_EQ(IpAddress::Parse("2001:db8::ffff:ffff")->Plus(1).ToString(), "2001:db8::1:0:0");
}

TEST(Cidr, ParsesNetworksAndRefusesHostBits) {
  auto c = Cidr::Parse("10.100.0.0/24");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->prefix(), 24);
  EXPECT_EQ(c->ToString(), "10.100.0.0/24");
  auto bad = Cidr::Parse("10.100.0.1/24");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("host bits"), std::string::npos);
  EXPECT_NE(bad.error().message.find("'10.100.0.1/24'"), std::string::npos);
  EXPECT_NE(bad.error().message.find("10.100.0.0/24"), std::string::npos);
  EXPECT_FALSE(Cidr::Parse("2001:db8::1/64").ok());
  EXPECT_TRUE(Cidr::Parse("2001:db8::/64").ok());
  for (const char* m : {"10.0.0.0", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/08", "10.0.0.0/",
                        "/24", "2001:db8::/129", "10.0.0.0/24/1", "10.0.0.0/2 4"}) {
    EXPECT_FALSE(Cidr::Parse(m).ok()) << m;
  }
}

TEST(Cidr, ContainsChecksFamilyAndPrefix) {
  auto c = *Cidr::Parse("10.100.0.0/16");
  EXPECT_TRUE(c.Contains(*IpAddress::Parse("10.100.255.1")));
  EXPECT_FALSE(c.Contains(*IpAddress::Parse("10.101.0.1")));
  EXPECT_FALSE(c.Contains(*IpAddress::Parse("::a64:1")));
  auto all = *Cidr::Parse("0.0.0.0/0");
  EXPECT_TRUE(all.Contains(*IpAddress::Parse("203.0.113.9")));
}

TEST(Cidr, NthHostSkipsNetworkAndBroadcastOnIpv4) {
  auto c = *Cidr::Parse("10.0.0.0/24");
  EXPECT_EQ(c.UsableHosts(), 254u);
  EXPECT_EQ(c.Host(0).ToString(), "10.0.0.1");
  EXPECT_EQ(c.Host(253).ToString(), "10.0.0.254");
  EXPECT_EQ(c.Broadcast().ToString(), "10.0.0.255");
  auto p31 = *Cidr::Parse("10.0.0.0/31");
  EXPECT_EQ(p31.UsableHosts(), 2u);
  EXPECT_EQ(p31.Host(0).ToString(), "10.0.0.0");
  auto v6 = *Cidr::Parse("fd00::/64");
  EXPECT_EQ(v6.Host(0).ToString(), "fd00::1");
  EXPECT_EQ(v6.Host(65535).ToString(), "fd00::1:0");
  EXPECT_EQ(Cidr::Parse("fd00::/8")->Size(), UINT64_MAX);
}

TEST(IfAddress, KeepsHostBitsAndKnowsItsNetwork) {
  auto a = IfAddress::Parse("10.1.2.3/16");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->Network().ToString(), "10.1.0.0/16");
  EXPECT_EQ(a->ToString(), "10.1.2.3/16");
  EXPECT_FALSE(IfAddress::Parse("10.1.2.3").ok());
  EXPECT_EQ(IfAddress::Parse("10.1.2.3", true)->prefix, 32);
}

TEST(MacAddress, ParsesAndFlagsMulticast) {
  auto m = MacAddress::Parse("02:00:5E:10:00:01");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->ToString(), "02:00:5e:10:00:01");
  EXPECT_FALSE(m->IsMulticast());
  EXPECT_TRUE(MacAddress::Parse("01:00:5e:00:00:01")->IsMulticast());
  for (const char* bad : {"02:00:5e:10:00", "02-00-5e-10-00-01", "02:00:5e:10:00:0g",
                          "020:0:5e:10:00:01", "02:00:5e:10:00:01:00"}) {
    EXPECT_FALSE(MacAddress::Parse(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace vpcctl::net

namespace vpcctl::net {
namespace {

// Found by fuzzing: inet_pton stopped at an embedded NUL, so "f0d0::\0<anything>" parsed, and a
// host name check built on it let tabs and brackets through.
TEST(IpAddress, RefusesEmbeddedNul) {
  std::string text("f0d0::\0\t[x", 10);
  EXPECT_FALSE(IpAddress::Parse(text).ok());
  EXPECT_FALSE(Cidr::Parse(std::string("10.0.0.0\0/8", 11)).ok());
}

}  // namespace
TEST(Endpoint, ReadsAnAddressAndPortAsIfconfigAndWgPrintThem) {
  IpAddress a;
  int port = 0;
  ASSERT_TRUE(ParseEndpoint("192.0.2.1:4789", &a, &port));
  EXPECT_EQ(a.ToString(), "192.0.2.1");
  EXPECT_EQ(port, 4789);
  ASSERT_TRUE(ParseEndpoint("[2001:db8::1]:51820", &a, &port));
  EXPECT_EQ(a.ToString(), "2001:db8::1");
  EXPECT_EQ(port, 51820);
  for (const char* bad : {"(none)", "192.0.2.1", "192.0.2.1:65536", "[2001:db8::1]", "x:1", ":1"}) {
    EXPECT_FALSE(ParseEndpoint(bad, &a, &port)) << bad;
  }
}

}  // namespace vpcctl::net
