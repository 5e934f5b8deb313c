// node add / node check / node remove against a scripted SSH world (FakeClient): what is sent,
// what is refused before anything is sent, and what is recorded.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fake_client.h"
#include "fake_world.h"
#include "testing.h"
#include "vpcctl/base/text.h"
#include "vpcctl/exec/files.h"
#include "vpcctl/fabric/check.h"
#include "vpcctl/fabric/nodes.h"
#include "vpcctl/fabric/state_check.h"
#include "vpcctl/ssh/client.h"
#include "vpcctl/ssh/keys.h"
#include "vpcctl/store/state_dir.h"
#include "vpcctl/store/store.h"

namespace vpcctl::fabric {
namespace {

class Enrol : public FakeWorld {};

TEST_F(Enrol, PasswordBootstrapPinsInstallsAndDetects) {
  ssh_.AddHost("192.0.2.1", 22, LinuxHost(kKeyA, "192.0.2.1"));
  WritePassword("s3cret");
  Status st = NodeAdd(*ctx_, Add("h2", "192.0.2.1"));
  ASSERT_TRUE(st.ok()) << st.error().message << err_.str();
  EXPECT_NE(out_.str().find("authenticated with password"), std::string::npos) << out_.str();
  auto pins = ssh::LoadKnownHosts(dir_ + "/state/known_hosts");
  ASSERT_TRUE(pins.ok());
  EXPECT_EQ(pins->Find("192.0.2.1", 22), kKeyA);
  auto cmds = ssh_.Commands("192.0.2.1", 22);
  ASSERT_FALSE(cmds.empty());
  EXPECT_NE(cmds[0].find("'vpcctl@h1'"), std::string::npos) << "our key carries vpcctl@h1";
  EXPECT_EQ(authorized_, 1);
  std::ostringstream show;
  Output show_io{in_, show, err_, false};
  Context show_ctx{ctx_->paths, runner_, ssh_, term_, show_io, prober_, "t"};
  ASSERT_TRUE(NodeShow(show_ctx, "h2", true).ok());
  auto j = nlohmann::json::parse(show.str());
  EXPECT_EQ(j["platform"], "linux");
  EXPECT_EQ(j["mtu"], 1500);
  EXPECT_EQ(j["remote_version"], "0.1.0");
  EXPECT_EQ(j["host_key_fingerprint"], *ssh::Fingerprint(kKeyA.Line()));
  EXPECT_FALSE(j["ssh"]["sudo"].get<bool>());
  // The password is nowhere in the state directory.
  for (const auto& f : std::filesystem::directory_iterator(dir_ + "/state")) {
    auto text = exec::ReadFile(f.path().string());
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(text->find("s3cret"), std::string::npos) << f.path();
  }
}

TEST_F(Enrol, FirstContactWithoutConfirmationSendsNothing) {
  ssh_.AddHost("192.0.2.1", 22, LinuxHost(kKeyA, "192.0.2.1"));
  WritePassword("s3cret");
  auto o = Add("h2", "192.0.2.1");
  o.yes = false;
  Status st = NodeAdd(*ctx_, o);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Exit::kUsage);
  EXPECT_NE(st.error().message.find("--fingerprint " + *ssh::Fingerprint(kKeyA.Line())),
            std::string::npos);
  EXPECT_TRUE(ssh_.Commands("192.0.2.1", 22).empty());
  EXPECT_FALSE(exec::FileExists(dir_ + "/state/known_hosts"));
  // On a terminal, the question is asked; "no" refuses too.
  term_.interactive = true;
  term_.answer = false;
  EXPECT_FALSE(NodeAdd(*ctx_, o).ok());
  EXPECT_TRUE(ssh_.Commands("192.0.2.1", 22).empty());
  term_.answer = true;
  Status yes = NodeAdd(*ctx_, o);
  EXPECT_TRUE(yes.ok()) << yes.error().message;
}

TEST_F(Enrol, MatchingFingerprintIsAcceptedAndAWrongOneIsNot) {
  ssh_.AddHost("192.0.2.1", 22, LinuxHost(kKeyA, "192.0.2.1"));
  WritePassword("s3cret");
  auto o = Add("h2", "192.0.2.1");
  o.yes = false;
  o.fingerprint = *ssh::Fingerprint(kKeyB.Line());
  EXPECT_FALSE(NodeAdd(*ctx_, o).ok());
  EXPECT_TRUE(ssh_.Commands("192.0.2.1", 22).empty());
  o.fingerprint = *ssh::Fingerprint(kKeyA.Line());
  Status st = NodeAdd(*ctx_, o);
  EXPECT_TRUE(st.ok()) << st.error().message;
}

TEST_F(Enrol, AChangedHostKeyIsRefusedByEveryCommandBeforeAnythingIsSent) {
  ssh_.AddHost("192.0.2.1", 22, LinuxHost(kKeyA, "192.0.2.1"));
  WritePassword("s3cret");
  TrustOurKey("192.0.2.1");
  ASSERT_TRUE(NodeAdd(*ctx_, Add("h2", "192.0.2.1")).ok());
  size_t sent = ssh_.Commands("192.0.2.1", 22).size();
  ssh_.Find("192.0.2.1", 22)->key = kKeyB;
  NodeCheckOptions check;
  Status st = NodeCheck(*ctx_, check);
  ASSERT_FALSE(st.ok());
  std::string all = st.error().message + err_.str();
  EXPECT_NE(all.find(*ssh::Fingerprint(kKeyA.Line())), std::string::npos) << all;
  EXPECT_NE(all.find(*ssh::Fingerprint(kKeyB.Line())), std::string::npos) << all;
  EXPECT_FALSE(NodeRemove(*ctx_, "h2", false).ok());
  auto again = Add("h2", "192.0.2.1");
  EXPECT_FALSE(NodeAdd(*ctx_, again).ok()) << "re-adding must not accept the new key";
  EXPECT_EQ(ssh_.Commands("192.0.2.1", 22).size(), sent);
}

TEST_F(Enrol, AWrongOrEmptyPasswordChangesNothing) {
  ssh_.AddHost("192.0.2.1", 22, LinuxHost(kKeyA, "192.0.2.1"));
  WritePassword("wrong");
  Status st = NodeAdd(*ctx_, Add("h2", "192.0.2.1"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("password was refused"), std::string::npos);
  WritePassword("");
  st = NodeAdd(*ctx_, Add("h2", "192.0.2.1"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("is empty"), std::string::npos);
  EXPECT_TRUE(ssh_.Commands("192.0.2.1", 22).empty());
  EXPECT_FALSE(exec::FileExists(dir_ + "/state/known_hosts"));
}

TEST_F(Enrol, NonRootUsersRunRemoteCommandsThroughSudo) {
  ssh_.AddHost("192.0.2.1", 22, LinuxHost(kKeyA, "192.0.2.1"));
  WritePassword("s3cret");
  TrustOurKey("192.0.2.1");
  auto o = Add("h2", "192.0.2.1");
  o.user = "deploy";
  ASSERT_TRUE(NodeAdd(*ctx_, o).ok()) << err_.str();
  EXPECT_NE(out_.str().find("sudo -n"), std::string::npos);
  NodeCheckOptions check;
  ASSERT_TRUE(NodeCheck(*ctx_, check).ok()) << err_.str();
  auto cmds = ssh_.Commands("192.0.2.1", 22);
  EXPECT_EQ(cmds.back(), "sudo -n 'vpcctl' '--deadline' '5' '--version'");
  // As root only ever `vpcctl --deadline N ...` (what sudoers allows); the key scripts and the
  // probes of enrolment run as the login user itself.
  for (const auto& c : cmds) {
    if (StartsWith(c, "sudo ")) {
      EXPECT_TRUE(StartsWith(c, "sudo -n 'vpcctl' '--deadline' ")) << c;
    } else {
      EXPECT_TRUE(StartsWith(c, "'sh' '-s' '--' ") || c == "'uname' '-s'" ||
                  StartsWith(c, "'ip' ") || StartsWith(c, "'bridge' ") ||
                  c == "'vpcctl' '--version'")
          << c;
    }
  }
}

TEST_F(Enrol, CheckRunsInParallelAndReportsPartialFailure) {
  WritePassword("s3cret");
  for (int i = 2; i <= 9; ++i) {
    EnrolLinux("h" + std::to_string(i), "192.0.2." + std::to_string(i));
  }
  ssh_.Find("192.0.2.5", 22)->reachable = false;
  NodeCheckOptions check;
  check.json = true;
  out_.str("");
  Status st = NodeCheck(*ctx_, check);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Exit::kPartial);
  auto j = nlohmann::json::parse(out_.str());
  EXPECT_EQ(j["failed"], 1);
  ASSERT_EQ(j["nodes"].size(), 9u);
  EXPECT_EQ(j["nodes"][4]["name"], "h5");
  EXPECT_EQ(j["nodes"][4]["reachable"], "failed");
  EXPECT_EQ(j["nodes"][5]["auth"], "key");
}

TEST_F(Enrol, RemoveDeletesOurKeyOrRefusesWhenUnreachable) {
  ssh_.AddHost("192.0.2.1", 22, LinuxHost(kKeyA, "192.0.2.1"));
  WritePassword("s3cret");
  TrustOurKey("192.0.2.1");
  ASSERT_TRUE(NodeAdd(*ctx_, Add("h2", "192.0.2.1")).ok());
  ssh_.Find("192.0.2.1", 22)->reachable = false;
  Status st = NodeRemove(*ctx_, "h2", false);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("--force"), std::string::npos);
  ssh_.Find("192.0.2.1", 22)->reachable = true;
  ASSERT_TRUE(NodeRemove(*ctx_, "h2", false).ok());
  auto cmds = ssh_.Commands("192.0.2.1", 22);
  EXPECT_TRUE(StartsWith(cmds.back(), "'sh' '-s' '--' 'ssh-ed25519'"));
  auto pins = ssh::LoadKnownHosts(dir_ + "/state/known_hosts");
  EXPECT_FALSE(pins->Find("192.0.2.1", 22).has_value());
}

TEST_F(Enrol, ADetectedMtuAboveTheRangeIsClampedWithANotice) {
  // The fixture's lo (127.0.0.1) has MTU 65536, as Linux gives it.
  ssh_.AddHost("127.0.0.1", 22, LinuxHost(kKeyA, "127.0.0.1"));
  WritePassword("s3cret");
  Status st = NodeAdd(*ctx_, Add("h2", "127.0.0.1"));
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_NE(out_.str().find("mtu 65535)"), std::string::npos) << out_.str();
  EXPECT_NE(err_.str().find("has MTU 65536, above the largest a node may have: recording 65535"),
            std::string::npos)
      << err_.str();
  auto db = store::Store::Open(dir_ + "/state/vpcctl.db", false, nullptr);
  ASSERT_TRUE(db.ok());
  auto problems = FindStateProblems(**db);
  ASSERT_TRUE(problems.ok());
  EXPECT_TRUE(problems->empty()) << Join(*problems, "; ");
}

TEST_F(Enrol, AGivenMtuOutOfRangeIsRefusedBeforeAnythingIsSent) {
  ssh_.AddHost("192.0.2.1", 22, LinuxHost(kKeyA, "192.0.2.1"));
  WritePassword("s3cret");
  for (const char* bad : {"575", "65536", "0", "1500x"}) {
    auto o = Add("h2", "192.0.2.1");
    o.mtu = bad;
    Status st = NodeAdd(*ctx_, o);
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_EQ(st.error().code, Exit::kUsage);
    EXPECT_NE(st.error().message.find(std::string("invalid MTU '") + bad + "'"), std::string::npos)
        << st.error().message;
  }
  EXPECT_TRUE(ssh_.Commands("192.0.2.1", 22).empty());
  EXPECT_EQ(ssh_.connects(), 0);
  std::ostringstream list;
  Output list_io{in_, list, err_, false};
  Context list_ctx{ctx_->paths, runner_, ssh_, term_, list_io, prober_, "t"};
  ASSERT_TRUE(NodeList(list_ctx, true).ok());
  EXPECT_EQ(nlohmann::json::parse(list.str())["nodes"].size(), 1u) << "only h1";
}

TEST_F(Enrol, StateCheckFlagsAnMtuOutOfRange) {
  auto db = store::Store::Open(dir_ + "/state/vpcctl.db", false, nullptr);
  ASSERT_TRUE(db.ok());
  // As an older vpcctl could record it, or a hand edit: past the schema's own CHECK.
  ASSERT_TRUE((*db)->db().Exec("PRAGMA ignore_check_constraints = ON").ok());
  ASSERT_TRUE((*db)->db().Exec("UPDATE node SET mtu = 65536 WHERE name = 'h1'").ok());
  auto problems = FindStateProblems(**db);
  ASSERT_TRUE(problems.ok());
  ASSERT_EQ(problems->size(), 1u) << Join(*problems, "; ");
  EXPECT_EQ((*problems)[0],
            "node 'h1' has underlay MTU 65536, outside 576-65535 (every member would refuse the "
            "map)");
}

}  // namespace
}  // namespace vpcctl::fabric
