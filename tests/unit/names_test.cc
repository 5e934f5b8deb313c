#include <gtest/gtest.h>

#include "vpcctl/model/fabric.h"
#include "vpcctl/model/names.h"

namespace vpcctl::model {
namespace {

// Everything that could carry a shell command into a remote command line.
const char* const kHostile[] = {"a;reboot", "a$(id)", "a`id`", "a b", "a'b", "a\"b",
                                "a\nb",     "a|b",    "a&b",   "a>b", "a\\b", "a*",
                                "a\tb",     "a$b",    "a{b}",  "a(b", "a#b",  "a!b"};

TEST(Names, NodeNamesFollowTheGrammar) {
  for (const char* ok : {"h1", "a", "node-1", "abcdefghijklmnopqrstuvwxyz012345"}) {
    EXPECT_TRUE(ValidateNodeName(ok).ok()) << ok;
  }
  for (const char* bad : {"", "H1", "1h", "-h", "h_1", "abcdefghijklmnopqrstuvwxyz0123456", "h.1"}) {
    auto st = ValidateNodeName(bad);
    EXPECT_FALSE(st.ok()) << bad;
    EXPECT_EQ(st.error().code, Exit::kUsage);
  }
}

TEST(Names, VpcNamesFitAnInterfaceName) {
  for (const char* ok : {"vpc1", "a", "blue", "abcdefghijkl", "vxa", "bridges"}) {
    EXPECT_TRUE(ValidateVpcName(ok).ok()) << ok;
  }
  for (const char* bad : {"", "Vpc1", "vpc-1", "abcdefghijklm", "1vpc", "vpc_1"}) {
    EXPECT_FALSE(ValidateVpcName(bad).ok()) << bad;
  }
}

TEST(Names, VpcNamesThatAKernelClonerOwnsAreRefused) {
  for (const char* bad : {"vx100", "vxlan", "vxlan3", "bridge0", "epair1", "tap0", "lo", "lo0",
                          "eth0"}) {
    auto st = ValidateVpcName(bad);
    EXPECT_FALSE(st.ok()) << bad;
    if (!st.ok()) {
      EXPECT_NE(st.error().message.find("kernel interface"), std::string::npos);
    }
  }
}

TEST(Names, NoShellMetacharacterPassesAnyValidator) {
  for (const char* bad : kHostile) {
    EXPECT_FALSE(ValidateNodeName(bad).ok()) << bad;
    EXPECT_FALSE(ValidateVpcName(bad).ok()) << bad;
    EXPECT_FALSE(ValidateUserName(bad).ok()) << bad;
    EXPECT_FALSE(ValidateHost(bad).ok()) << bad;
    EXPECT_FALSE(ValidatePortText(bad).ok()) << bad;
  }
}

TEST(Names, MessagesQuoteTheBadValueWithControlCharactersEscaped) {
  auto st = ValidateNodeName("a\nb");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("'a\\nb'"), std::string::npos) << st.error().message;
  EXPECT_EQ(st.error().message.find('\n'), std::string::npos);
  auto up = ValidateNodeName("Web1");
  EXPECT_NE(up.error().message.find("'Web1'"), std::string::npos);
}

TEST(Names, HostsAreAddressesOrDnsNames) {
  for (const char* ok : {"192.0.2.1", "2001:db8::1", "node1.example.net", "h-1"}) {
    EXPECT_TRUE(ValidateHost(ok).ok()) << ok;
  }
  for (const char* bad : {"", "a..b", "-a.b", "1.2.3.999", "a_b.c", "host:22"}) {
    EXPECT_FALSE(ValidateHost(bad).ok()) << bad;
  }
}

TEST(Names, PortsAre1To65535) {
  EXPECT_TRUE(ValidatePortText("1").ok());
  EXPECT_TRUE(ValidatePortText("65535").ok());
  for (const char* bad : {"0", "65536", "-1", "22a", "", "022"}) {
    auto st = ValidatePortText(bad);
    EXPECT_FALSE(st.ok()) << bad;
  }
}

TEST(VniRange, ParsesAndRefusesBadRanges) {
  auto r = VniRange::Parse("100-200");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->lo, 100u);
  EXPECT_EQ(r->hi, 200u);
  for (const char* bad : {"100", "0-10", "200-100", "1-16777216", "a-b", "1-", "-5", "1 - 5"}) {
    auto br = VniRange::Parse(bad);
    EXPECT_FALSE(br.ok()) << bad;
    if (!br.ok()) {
      EXPECT_NE(br.error().message.find(std::string("'") + bad + "'"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace vpcctl::model
