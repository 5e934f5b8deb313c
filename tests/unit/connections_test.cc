// `vpcctl connections list`, `close` and `serve` on a node's state directory: without a keeper,
// and with one serving (in a thread, over the fake SSH world) a session a command has used.
#include "vpcctl/fabric/connections.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "fake_node.h"
#include "vpcctl/ssh/keeper.h"

namespace vpcctl::fabric {
namespace {

using json = nlohmann::json;

const ssh::HostKey kKey{"ssh-ed25519",
                        "AAAAC3NzaC1lZDI1NTE5AAAAIKeptKeptKeptKeptKeptKeptKeptKeptKeptKeptKe"};

class ConnectionsTest : public FakeNode {
 protected:
  void SetUp() override {
    FakeNode::SetUp();
    ASSERT_TRUE(store::EnsureStateDir(dir_ + "/state", nullptr).ok());
    ssh::FakeClient::Host h;
    h.key = kKey;
    h.accepted_identities = {"/id"};
    h.handler = [](const std::string&, const std::string&) {
      return ssh::RemoteResult{0, "ok", "", false, 1, false};
    };
    ssh_.AddHost("192.0.2.1", 22, h);
  }
  void TearDown() override {
    if (serving_.joinable()) {
      (void)ssh::StopKeeper(ssh::KeeperSocket(dir_ + "/state"));
      serving_.join();
    }
    FakeNode::TearDown();
  }
  std::string List(bool as_json) {
    out_.str("");
    Context ctx = Ctx("connections list");
    EXPECT_TRUE(ConnectionsList(ctx, as_json).ok());
    return out_.str();
  }
  // `connections serve`, in a thread, until closed or idle.
  void Serve() {
    serving_ = std::thread([this] {
      Context ctx = Ctx("connections serve");
      served_ = ConnectionsServe(ctx, std::chrono::seconds(30));
    });
    std::string socket = ssh::KeeperSocket(dir_ + "/state");
    for (int i = 0; i < 200 && access(socket.c_str(), F_OK) != 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  std::thread serving_;
  Status served_;
};

TEST_F(ConnectionsTest, WithoutAKeeperListAndCloseSaySoAndChangeNothing) {
  json j = json::parse(List(true));
  EXPECT_EQ(j["keeper"], false);
  EXPECT_TRUE(j["sessions"].empty());
  EXPECT_NE(List(false).find("no session keeper is running"), std::string::npos);
  Context ctx = Ctx("connections close");
  ASSERT_TRUE(ConnectionsClose(ctx).ok());
  EXPECT_NE(err_.str().find("no session keeper was running"), std::string::npos) << err_.str();
}

TEST_F(ConnectionsTest, AKeptSessionIsListedAndCloseStopsTheKeeper) {
  Serve();
  {
    ssh::FakeClient direct;  // a command's own connections: none may be made
    ssh::KeeperClient client(direct, ssh::KeeperSocket(dir_ + "/state"), [] { return Status{}; });
    ssh::ConnectSpec spec;
    spec.endpoint = ssh::Endpoint{"192.0.2.1", 22, "root"};
    spec.timeout = std::chrono::milliseconds(500);
    spec.identities = {"/id"};
    spec.pinned = kKey;
    spec.check_host_key = [](const ssh::HostKey& k) -> Status {
      return k == kKey ? Status{} : Failure("host key changed");
    };
    auto conn = client.Connect(spec);
    ASSERT_TRUE(conn.ok()) << conn.error().message;
    auto cmd = ssh::RemoteCommand::Make({"vpcctl", "status"});
    ASSERT_TRUE(cmd.ok());
    auto r = (*conn)->Run(*cmd, false, "", std::chrono::seconds(5));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(direct.connects(), 0);
  }
  json j = json::parse(List(true));
  EXPECT_EQ(j["keeper"], true);
  ASSERT_EQ(j["sessions"].size(), 1u) << j.dump();
  EXPECT_EQ(j["sessions"][0]["endpoint"], "root@192.0.2.1 port 22");
  EXPECT_EQ(j["sessions"][0]["busy"], false);
  EXPECT_EQ(j["sessions"][0]["commands"], 1);
  std::string table = List(false);
  EXPECT_NE(table.find("ENDPOINT"), std::string::npos) << table;
  EXPECT_NE(table.find("root@192.0.2.1 port 22"), std::string::npos) << table;
  EXPECT_NE(table.find("idle"), std::string::npos) << table;

  Context ctx = Ctx("connections close");
  ASSERT_TRUE(ConnectionsClose(ctx).ok());
  EXPECT_NE(err_.str().find("the keeper stopped"), std::string::npos) << err_.str();
  serving_.join();
  EXPECT_TRUE(served_.ok());
  EXPECT_EQ(json::parse(List(true))["keeper"], false);
}

}  // namespace
}  // namespace vpcctl::fabric
