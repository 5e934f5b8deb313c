// The session keeper (ssh/keeper.h) over a real unix socket, with FakeClient as the network:
// sessions are kept and lent again, the pin is enforced, dead sessions are replaced, the keeper
// ends when idle, and connections without a pin never go through it.
#include "fake_client.h"
#include "vpcctl/ssh/keeper.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

namespace vpcctl::ssh {
namespace {

const HostKey kKey{"ssh-ed25519",
                   "AAAAC3NzaC1lZDI1NTE5AAAAIKeptKeptKeptKeptKeptKeptKeptKeptKeptKeptKe"};
const HostKey kOther{"ssh-ed25519",
                     "AAAAC3NzaC1lZDI1NTE5AAAAIOtherOtherOtherOtherOtherOtherOtherOther"};

class Keeper : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vpcctl-keeper-XXXXXX";
    dir_ = mkdtemp(tmpl);
    socket_ = KeeperSocket(dir_);
    FakeClient::Host h;
    h.key = kKey;
    h.accepted_identities = {"/id"};
    h.handler = [](const std::string& line, const std::string& input) {
      return RemoteResult{0, line + "|" + input, "err", false, 1, false};
    };
    net_.AddHost("192.0.2.1", 22, h);
  }
  void TearDown() override {
    (void)StopKeeper(socket_);
    if (serving_.joinable()) serving_.join();
    std::string rm = "rm -rf '" + dir_ + "'";
    EXPECT_EQ(std::system(rm.c_str()), 0);
  }
  // Starts a keeper on the test's socket in a thread (what `connections serve` does).
  void Start(std::chrono::milliseconds idle = std::chrono::seconds(30)) {
    serving_ = std::thread([this, idle] { served_ = ServeKeeper(net_, {socket_, idle}); });
    for (int i = 0; i < 200 && access(socket_.c_str(), F_OK) != 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ConnectSpec Spec(std::optional<HostKey> pinned = kKey) {
    ConnectSpec s;
    s.endpoint = Endpoint{"192.0.2.1", 22, "root"};
    s.timeout = std::chrono::milliseconds(500);
    s.identities = {"/id"};
    s.pinned = pinned;
    s.check_host_key = [pinned](const HostKey& k) -> Status {
      if (pinned && k == *pinned) return {};
      return Failure("the host key CHANGED (test's own words)");
    };
    return s;
  }
  Result<RemoteResult> RunOnce(Client& c, const ConnectSpec& spec, const std::string& word) {
    VPC_ASSIGN_OR_RETURN(auto conn, c.Connect(spec));
    VPC_ASSIGN_OR_RETURN(auto cmd, RemoteCommand::Make({"vpcctl", word}));
    return conn->Run(cmd, false, "input-" + word, std::chrono::seconds(5));
  }

  std::string dir_, socket_;
  FakeClient net_;     // the nodes, as the keeper reaches them
  FakeClient direct_;  // what the command would reach without the keeper (no hosts)
  std::thread serving_;
  Status served_;
  int starts_ = 0;
};

TEST_F(Keeper, ASessionIsKeptAndLentToTheNextCommand) {
  Start();
  KeeperClient client(direct_, socket_, [this] {
    ++starts_;
    return Status{};
  });
  for (const char* word : {"one", "two", "three"}) {
    auto r = RunOnce(client, Spec(), word);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->exit_status, 0);
    EXPECT_EQ(r->out, std::string("'vpcctl' '") + word + "'|input-" + word);
    EXPECT_EQ(r->err, "err");
  }
  EXPECT_EQ(net_.connects(), 1) << "one session for three commands";
  EXPECT_EQ(direct_.connects(), 0);
  EXPECT_EQ(starts_, 0) << "a keeper was running: none is started";
  auto held = KeeperSessions(socket_);
  ASSERT_TRUE(held.ok());
  ASSERT_EQ(held->size(), 1u);
  EXPECT_EQ((*held)[0].endpoint, "root@192.0.2.1 port 22");
  EXPECT_EQ((*held)[0].commands, 3);
  EXPECT_FALSE((*held)[0].busy);
  // Its socket is for its own user only.
  struct stat st {};
  ASSERT_EQ(stat(socket_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(Keeper, TwoCommandsAtOnceGetTwoSessions) {
  Start();
  KeeperClient client(direct_, socket_, [] { return Status{}; });
  auto a = client.Connect(Spec());
  auto b = client.Connect(Spec());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(net_.connects(), 2) << "a lent session is not shared";
  auto held = KeeperSessions(socket_);
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(held->size(), 2u);
  for (const auto& s : *held) EXPECT_TRUE(s.busy);
}

TEST_F(Keeper, AKeyThatIsNotThePinnedOneIsRefusedInTheCallersWords) {
  Start();
  KeeperClient client(direct_, socket_, [] { return Status{}; });
  auto c = client.Connect(Spec(kOther));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, kErrHostKey);
  EXPECT_EQ(c.error().message, "the host key CHANGED (test's own words)");
  EXPECT_EQ(net_.Commands("192.0.2.1", 22).size(), 0u) << "nothing is run";
  // A session kept for the right pin is never lent to a request with another pin.
  ASSERT_TRUE(RunOnce(client, Spec(), "x").ok());
  EXPECT_FALSE(client.Connect(Spec(kOther)).ok());
}

TEST_F(Keeper, ADeadSessionIsReplacedAndAnUnreachableNodeReported) {
  Start();
  KeeperClient client(direct_, socket_, [] { return Status{}; });
  ASSERT_TRUE(RunOnce(client, Spec(), "x").ok());
  net_.Find("192.0.2.1", 22)->reachable = false;
  auto c = client.Connect(Spec());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, kErrConnect);
  EXPECT_NE(c.error().message.find("Timeout connecting"), std::string::npos) << c.error().message;
  net_.Find("192.0.2.1", 22)->reachable = true;
  ASSERT_TRUE(RunOnce(client, Spec(), "y").ok());
  EXPECT_EQ(net_.connects(), 3);  // the first, the failed one, the new one
}

TEST_F(Keeper, WithoutAPinOrAKeeperTheCommandConnectsItself) {
  KeeperClient client(net_, socket_, [this] {
    ++starts_;
    return Status{};
  });
  // Enrolment (no pin yet, the caller checks the key itself): straight to the network.
  ConnectSpec unpinned = Spec();
  unpinned.pinned.reset();
  ASSERT_TRUE(RunOnce(client, unpinned, "enrol").ok());
  EXPECT_EQ(starts_, 0);
  EXPECT_EQ(net_.connects(), 1);
  // A pinned connection with no keeper running: one start is tried, then a session of its own,
  // and the next connection does not wait for a keeper again.
  auto r = RunOnce(client, Spec(), "alone");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(starts_, 1);
  auto before = std::chrono::steady_clock::now();
  ASSERT_TRUE(RunOnce(client, Spec(), "again").ok());
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(1));
  EXPECT_EQ(starts_, 1) << "started once per command at most";
  EXPECT_EQ(net_.connects(), 3);
}

TEST_F(Keeper, CloseEndsTheKeeperEvenWithASessionLent) {
  Start();
  KeeperClient client(direct_, socket_, [] { return Status{}; });
  auto lent = client.Connect(Spec());
  ASSERT_TRUE(lent.ok());
  auto before = std::chrono::steady_clock::now();
  auto stopped = StopKeeper(socket_);
  ASSERT_TRUE(stopped.ok());
  EXPECT_TRUE(*stopped);
  serving_.join();
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(3));
  // The command that held it learns at its next run that the keeper is gone.
  auto cmd = RemoteCommand::Make({"vpcctl", "x"});
  ASSERT_TRUE(cmd.ok());
  auto r = (*lent)->Run(*cmd, false, "", std::chrono::seconds(1));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("session keeper stopped answering"), std::string::npos)
      << r.error().message;
}

TEST_F(Keeper, TheKeeperEndsWhenIdleAndOnlyOneServesASocket) {
  Start(std::chrono::milliseconds(300));
  EXPECT_FALSE(ServeKeeper(net_, {socket_, std::chrono::seconds(1)}).ok())
      << "a second keeper on the same socket is refused";
  KeeperClient client(direct_, socket_, [] { return Status{}; });
  ASSERT_TRUE(RunOnce(client, Spec(), "x").ok());
  serving_.join();  // ends by itself: the session idles out, then the keeper
  EXPECT_TRUE(served_.ok());
  EXPECT_NE(access(socket_.c_str(), F_OK), 0) << "its socket is removed";
  EXPECT_FALSE(KeeperSessions(socket_).ok());
  auto stopped = StopKeeper(socket_);
  ASSERT_TRUE(stopped.ok());
  EXPECT_FALSE(*stopped);
}

}  // namespace
}  // namespace vpcctl::ssh
