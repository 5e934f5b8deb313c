#include <gtest/gtest.h>

#include "vpcctl/ssh/command.h"
#include "vpcctl/ssh/known_hosts.h"

namespace vpcctl::ssh {
namespace {

TEST(RemoteCommand, QuotesEveryValidatedToken) {
  auto c = RemoteCommand::Make({"vpcctl", "--state-dir", "/var/lib/vpcctl", "apply", "--local"});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->Line(false), "'vpcctl' '--state-dir' '/var/lib/vpcctl' 'apply' '--local'");
  EXPECT_EQ(c->Line(true), "sudo -n 'vpcctl' '--state-dir' '/var/lib/vpcctl' 'apply' '--local'");
}

TEST(RemoteCommand, ThroughSudoTheOnlyProgramIsTheFirstToken) {
  auto c = RemoteCommand::Make({"vpcctl", "--deadline", "60", "apply", "--local", "--json"});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->Line(true), "sudo -n 'vpcctl' '--deadline' '60' 'apply' '--local' '--json'");
  // sudo gets one command word: no `timeout`, `env` or shell between it and vpcctl.
  EXPECT_EQ(c->Line(true).find("timeout"), std::string::npos);
}

TEST(RemoteCommand, NothingThatCouldChangeTheCommandGetsIn) {
  for (const char* bad : {"a;b", "$(id)", "`id`", "a b", "a'b", "a\"b", "a\nb", "a|b", "a&b",
                          "a>b", "a<b", "*", "a?", "~", "a!b", "#x", "a\\b", "a\tb", "${x}", "(a)",
                          "a\rb", ""}) {
    auto c = RemoteCommand::Make({"vpcctl", bad});
    EXPECT_FALSE(c.ok()) << bad;
    if (!c.ok()) {
      EXPECT_EQ(c.error().code, Exit::kUsage);
      EXPECT_EQ(c.error().message.find('\n'), std::string::npos) << "message must not break lines";
    }
  }
  EXPECT_FALSE(RemoteCommand::Script({"ok", "no;pe"}).ok());
}

TEST(RemoteCommand, ScriptsGoToShOnStdin) {
  auto c = RemoteCommand::Script({"ssh-ed25519", "AAAAC3NzaC1lZDI1NTE5AAAAI+/=", "vpcctl@h1"});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->Line(false), "'sh' '-s' '--' 'ssh-ed25519' 'AAAAC3NzaC1lZDI1NTE5AAAAI+/=' 'vpcctl@h1'");
}

TEST(KnownHosts, ParsesFormatsAndPins) {
  auto k = KnownHosts::Parse(
      "# comment\n\n10.0.0.2 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOld\n"
      "[fd77::3]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIv6 some comment\n");
  ASSERT_TRUE(k.ok()) << k.error().message;
  ASSERT_EQ(k->entries().size(), 2u);
  EXPECT_EQ(k->Find("10.0.0.2", 22)->base64, "AAAAC3NzaC1lZDI1NTE5AAAAIOld");
  EXPECT_EQ(k->Find("fd77::3", 2222)->type, "ssh-ed25519");
  EXPECT_FALSE(k->Find("fd77::3", 22).has_value());
  k->Pin("10.0.0.2", 22, HostKey{"ssh-ed25519", "AAAAC3NzaC1lZDI1NTE5AAAAINew"});
  EXPECT_EQ(k->entries().size(), 2u);
  auto again = KnownHosts::Parse(k->Format());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->Find("10.0.0.2", 22)->base64, "AAAAC3NzaC1lZDI1NTE5AAAAINew");
  EXPECT_EQ(again->Find("fd77::3", 2222)->base64, "AAAAC3NzaC1lZDI1NTE5AAAAIv6");
  again->Forget("fd77::3", 2222);
  EXPECT_EQ(again->entries().size(), 1u);
}

TEST(KnownHosts, RefusesWhatItDidNotWrite) {
  for (const char* bad : {"onlyhost\n", "h ssh-ed25519\n", "[h:22 ssh-ed25519 AAAAC3NzaC1lZDI1\n",
                          "[h]:0 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5\n",
                          "|1|hashed= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5\n",
                          "*.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5\n",
                          "h ssh-ed25519 AAAA$(id)AAAAAAAAAAAA\n", "h Bad-Type AAAAC3NzaC1lZDI1NTE5\n"}) {
    auto k = KnownHosts::Parse(bad);
    EXPECT_FALSE(k.ok()) << bad;
    if (!k.ok()) {
      EXPECT_NE(k.error().message.find("line 1"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace vpcctl::ssh
