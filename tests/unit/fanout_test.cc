// FanOut: what a node is asked to run (one vpcctl invocation with its own deadline, through sudo
// for non-root users) and how its answer is judged, over SSH and on the local node alike.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "fake_runner.h"
#include "fake_client.h"
#include "fake_prober.h"
#include "testing.h"
#include "vpcctl/base/output_cap.h"
#include "vpcctl/exec/runner.h"
#include "vpcctl/exec/terminal.h"
#include "vpcctl/fabric/remote.h"
#include "vpcctl/ssh/client.h"
#include "vpcctl/ssh/known_hosts.h"

namespace vpcctl::fabric {
namespace {

const ssh::HostKey kKey{"ssh-ed25519",
                        "AAAAC3NzaC1lZDI1NTE5AAAAIGJ0h4w6yHLNzXI+TcAYnhFN0TfIBbnUMRYR2lkHIX1V"};

class FanOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vpcctl-fanout-XXXXXX";
    dir_ = mkdtemp(tmpl);
    ctx_ = std::make_unique<Context>(
        Context{store::StatePaths{dir_}, runner_, ssh_, term_, io_, prober_, "vpcctl test"});
    fabric_ = testing::SampleNodes();  // h1 is local; h2 at 192.0.2.2 logs in as deploy
    model::Node* h2 = fabric_.FindNode("h2");
    h2->ssh_user = "deploy";
    h2->use_sudo = true;
    ssh::KnownHosts pins;
    pins.Pin("192.0.2.2", 22, kKey);
    ASSERT_TRUE(ssh::SaveKnownHosts(ctx_->paths.known_hosts(), pins).ok());
    ssh::FakeClient::Host host;
    host.key = kKey;
    host.accepted_identities = {ctx_->paths.private_key()};
    host.handler = [this](const std::string&, const std::string&) { return answer_; };
    ssh_.AddHost("192.0.2.2", 22, host);
    answer_.exit_status = 0;
    model::ApplyReport ok;
    ok.node = "h2";
    ok.converged = true;
    answer_.out = ok.ToJson().dump();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Answer Ask(const std::string& node) {
    FanOutLimits limits;
    limits.command = std::chrono::seconds(300);
    Request req;
    req.args = [](const model::Node&) {
      return std::vector<std::string>{"apply", "--local", "--json"};
    };
    req.report = ReportKind::kApply;
    auto answers = FanOut(*ctx_, fabric_, {node}, req, limits, nullptr);
    EXPECT_EQ(answers.size(), 1u);
    return answers.empty() ? Answer{} : answers[0];
  }

  std::string dir_;
  exec::FakeRunner runner_;
  testing::FakeProber prober_;
  ssh::FakeClient ssh_;
  exec::NoTerminal term_;
  std::ostringstream out_, err_;
  std::istringstream in_;
  Output io_{in_, out_, err_, false};
  std::unique_ptr<Context> ctx_;
  model::Fabric fabric_;
  ssh::RemoteResult answer_;
};

TEST_F(FanOutTest, ANonRootNodeRunsOneVpcctlWithItsOwnDeadlineThroughSudo) {
  Answer a = Ask("h2");
  EXPECT_TRUE(a.error.empty()) << a.error;
  auto cmds = ssh_.Commands("192.0.2.2", 22);
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0], "sudo -n 'vpcctl' '--deadline' '300' 'apply' '--local' '--json'");
  EXPECT_EQ(cmds[0].find("timeout"), std::string::npos);
}

TEST_F(FanOutTest, TheRecordedVpcctlPathIsTheOneProgramSudoRuns) {
  fabric_.FindNode("h2")->remote_vpcctl = "/opt/vpcctl/sbin/vpcctl";
  Ask("h2");
  auto cmds = ssh_.Commands("192.0.2.2", 22);
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].rfind("sudo -n '/opt/vpcctl/sbin/vpcctl' '--deadline' '300' 'apply'", 0), 0u)
      << cmds[0];
}

TEST_F(FanOutTest, ARootNodeRunsTheSameLineWithoutSudo) {
  fabric_.FindNode("h2")->use_sudo = false;
  Ask("h2");
  auto cmds = ssh_.Commands("192.0.2.2", 22);
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0], "'vpcctl' '--deadline' '300' 'apply' '--local' '--json'");
}

TEST_F(FanOutTest, ANodeStoppedAtItsDeadlineFails) {
  answer_.exit_status = 124;
  answer_.out = "";
  EXPECT_EQ(Ask("h2").error, "stopped: no answer within the command timeout (300 s)");
}

TEST_F(FanOutTest, ANodeThatAnswersTooMuchFails) {
  answer_.out = std::string(kMaxStdout, '{');
  answer_.overflow = true;
  Answer a = Ask("h2");
  EXPECT_TRUE(a.reached);
  EXPECT_EQ(a.error, "answered more than 4 MiB: output cut");
}

TEST_F(FanOutTest, TheLocalNodeThatAnswersTooMuchFailsTheSameWay) {
  runner_.On({exec::SelfPath()}, [](const exec::Argv&, const std::string&) {
    exec::CommandResult r;
    r.exit_code = 137;
    r.err = std::string(kMaxStderr, 'e');
    r.overflow = true;
    return r;
  });
  Answer a = Ask("h1");
  EXPECT_EQ(a.error, "answered more than 256 KiB on stderr: output cut");
  ASSERT_EQ(runner_.calls().size(), 1u);
  EXPECT_EQ(runner_.calls()[0][1], "--state-dir");
}

// Progress on stderr: a line per node as it lands; on a terminal also a [done/total] counter,
// redrawn in place and gone at the end. stdout gets nothing from it.
TEST_F(FanOutTest, ProgressIsALinePerNodeAndOnATerminalALiveCounter) {
  Ask("h2");
  EXPECT_EQ(out_.str(), "");
  std::string err = err_.str();
  EXPECT_EQ(err.rfind("vpcctl: h2: answered (", 0), 0u) << err;
  EXPECT_EQ(err.find('\r'), std::string::npos) << err;
  EXPECT_EQ(err.find("[0/1]"), std::string::npos) << err;

  err_.str("");
  io_.live = true;
  answer_.exit_status = 1;
  answer_.out = "";
  answer_.err = "boom";
  Ask("h2");
  err = err_.str();
  EXPECT_EQ(err.rfind("\r\033[Kvpcctl: [0/1] 1 node(s) to go\r\033[Kvpcctl: h2: FAILED after ", 0),
            0u)
      << err;
  EXPECT_NE(err.find(": exit 1: boom\n"), std::string::npos) << err;
  EXPECT_EQ(err.back(), '\n') << "the counter is gone at the end: " << err;

  err_.str("");
  io_.color = true;
  Ask("h2");
  EXPECT_NE(err_.str().find("\033[1;31mFAILED\033[0m"), std::string::npos) << err_.str();
}

}  // namespace
}  // namespace vpcctl::fabric
