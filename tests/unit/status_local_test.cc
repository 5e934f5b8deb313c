// status --local on an encrypted VPC, with the node's commands answered by a fake runner: the age
// of each WireGuard handshake is reported, and a stale or missing one makes the node unhealthy.
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "testing.h"
#include "vpcctl/fabric/node_ops.h"
#include "vpcctl/model/map.h"
#include "vpcctl/store/state_dir.h"

namespace vpcctl::fabric {
namespace {

using json = nlohmann::json;

constexpr const char* kKeyH2 = "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=";
constexpr const char* kKeyH3 = "gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdyYBz6EA=";

class StatusLocalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vpcctl-status-XXXXXX";
    dir_ = mkdtemp(tmpl);
    model::Fabric f = testing::SampleNodes();
    f.nodes[0].platform = model::Platform::kLinux;
    alloc::VpcSpec spec;
    spec.name = "vpc1";
    spec.peer_network = testing::Net("10.100.0.0/24");
    spec.members = {"h1", "h2", "h3"};
    ASSERT_TRUE(alloc::CreateVpc(f, spec, 1).ok());
    f.nodes[1].wg_public_key = kKeyH2;
    f.nodes[2].wg_public_key = kKeyH3;
    f.generation = 7;
    std::string map = model::MapToJson(model::Map{"0123456789abcdef0123456789abcdef", "h1", f});
    store::StatePaths paths{dir_ + "/state"};
    ASSERT_TRUE(store::EnsureStateDir(paths.dir, nullptr).ok());
    auto db = store::Store::Open(paths.db(), true, nullptr);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(ImportMap(**db, map, "h1", false).ok());
    runner_.On({"ip"}, "[]");
    runner_.On({"bridge"}, "[]");
    runner_.On({"nft"}, "", 1);
    runner_.On({"ping"},
               "3 packets transmitted, 3 received, 0% packet loss, time 400ms\n"
               "rtt min/avg/max/mdev = 0.100/0.200/0.300/0.010 ms\n");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs status --local --json with h2's last handshake `h2_age` seconds ago and none with h3.
  json Status(int64_t h2_age) {
    int64_t now = static_cast<int64_t>(std::time(nullptr));
    runner_.On({"wg", "show"},
               "x\tnZx6Bl6DRx0OdPOL9mwhi4u8Xraymgjyr4a6lRJQcnY=\t51820\toff\n" + std::string(kKeyH2) +
                   "\t(none)\t192.0.2.2:51820\t10.255.0.2/32\t" + std::to_string(now - h2_age) +
                   "\t1\t2\t25\n" + kKeyH3 + "\t(none)\t[2001:db8::3]:51820\t10.255.0.3/32\t0\t0\t0\t25\n");
    std::istringstream in;
    std::ostringstream out, err;
    Output io{in, out, err, false};
    ssh::FakeClient ssh;
    exec::NoTerminal term;
    Context ctx{store::StatePaths{dir_ + "/state"}, runner_, ssh, term, io, "status"};
    StatusLocalOptions o;
    o.json = true;
    (void)StatusLocal(ctx, o);
    return json::parse(out.str(), nullptr, false);
  }

  std::string dir_;
  exec::FakeRunner runner_;
};

TEST_F(StatusLocalTest, HandshakeAgesAreReportedAndStaleOnesAreUnhealthy) {
  json fresh = Status(12);
  ASSERT_TRUE(fresh.is_object());
  const json& peers = fresh["vpcs"][0]["peers"];
  ASSERT_EQ(peers.size(), 2u);
  EXPECT_EQ(peers[0]["node"], "h2");
  EXPECT_EQ(peers[0]["handshake_age_s"], 12);
  EXPECT_EQ(peers[0]["handshake_stale"], false);
  EXPECT_TRUE(peers[1]["handshake_age_s"].is_null());  // h3: never
  EXPECT_EQ(peers[1]["handshake_stale"], true);
  EXPECT_EQ(fresh["healthy"], false);
  json old = Status(kStaleHandshakeSeconds + 5);
  EXPECT_EQ(old["vpcs"][0]["peers"][0]["handshake_stale"], true);
  EXPECT_EQ(old["vpcs"][0]["encrypted"], true);
}

}  // namespace
}  // namespace vpcctl::fabric
