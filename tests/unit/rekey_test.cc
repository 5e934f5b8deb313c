// node rekey on a scripted SSH world, and the node side's wait for the rekey's moment: the node and
// its peers get one round with one moment, each holds its key change until then, and a node that
// switched far from it is named.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "fake_clock.h"
#include "fake_node.h"
#include "fake_world.h"
#include "vpcctl/fabric/apply.h"
#include "vpcctl/fabric/deploy.h"
#include "vpcctl/model/reports.h"

namespace vpcctl::fabric {
namespace {

const std::string kNewKey = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
constexpr int64_t kNow = 1'800'000'000'000;  // 2027-01-15T08:00:00.000Z

class Rekey : public FakeWorld {
 protected:
  // h2, h3 and h4 enrolled; h2 and h3 in encrypted vpc1, h4 only in plain vpc2.
  void SetUp() override {
    FakeWorld::SetUp();
    ctx_->clock = &clock_;
    EnrolHosts({"h2", "h3", "h4"});
    VpcInitOptions v;
    v.name = "vpc1";
    v.peer_network = "10.10.0.0/24";
    v.members = "h2,h3";
    ASSERT_TRUE(VpcInit(*ctx_, v).ok());
    PlainVpc("vpc2", "10.20.0.0/24", "h2,h4");
    other = [this](const std::string& ip, const std::string& line, const std::string&) {
      std::string node = "h" + ip.substr(ip.rfind('.') + 1);
      ssh::RemoteResult r{0, "", "", false, 1};
      if (line.find("'wg-key' '--rotate'") != std::string::npos) {
        model::KeyReport k;
        k.public_key = kNewKey;
        k.rotated = true;
        r.out = k.ToJson().dump();
      } else if (line.find("'apply'") != std::string::npos) {
        applies_[node] = line;
        model::ApplyReport a = Converged(node, 1);
        a.key_switch_offset_ms = offsets_[node];
        r.out = a.ToJson().dump();
      } else {
        r.exit_status = 127;
      }
      return r;
    };
  }

  testing::FakeClock clock_{kNow};
  std::map<std::string, std::string> applies_;
  std::map<std::string, int64_t> offsets_{{"h2", 3}, {"h3", 40}};
};

TEST_F(Rekey, TheNodeAndItsPeersGetOneRoundWithTheirMomentsAhead) {
  out_.str("");
  Status st = NodeRekey(*ctx_, "h2", FanOutOptions{});
  ASSERT_TRUE(st.ok()) << st.error().message << err_.str();
  // The rotation took no time here: the moment is the least lead, 2 s, ahead of the clock; the
  // peer switches then, the rekeyed node 100 ms later.
  const std::map<std::string, int64_t> moments = {{"h2", kNow + 2100}, {"h3", kNow + 2000}};
  ASSERT_EQ(applies_.size(), 2u) << "h4 shares no encrypted VPC with h2";
  for (const auto& [node, line] : applies_) {
    EXPECT_NE(line.find("'apply' '--local' '--import' '--node' '" + node + "'"), std::string::npos)
        << line;
    std::string moment = "'--switch-keys-at' '" + std::to_string(moments.at(node)) + "'";
    EXPECT_NE(line.find(moment), std::string::npos) << line;
  }
  EXPECT_NE(out_.str().find("pushing it to 1 peer and h2; the peers switch to it at "
                            "2027-01-15T08:00:02.000Z (in 2000 ms), h2 100 ms later"),
            std::string::npos)
      << out_.str();
  EXPECT_EQ(err_.str().find("switched keys"), std::string::npos) << err_.str();
}

TEST_F(Rekey, ANodeThatSwitchedFarFromTheMomentIsNamed) {
  offsets_["h3"] = 1200;
  offsets_["h2"] = -900;
  err_.str("");
  ASSERT_TRUE(NodeRekey(*ctx_, "h2", FanOutOptions{}).ok());
  EXPECT_NE(err_.str().find("h3 switched keys 1200 ms after the rekey's moment"), std::string::npos)
      << err_.str();
  EXPECT_NE(
      err_.str().find("h2 switched keys 900 ms before the rekey's moment: its clock is ahead"),
      std::string::npos)
      << err_.str();
}

TEST_F(Rekey, ANodeInNoEncryptedVpcHasNoKeyToRotate) {
  Status st = NodeRekey(*ctx_, "h4", FanOutOptions{});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Exit::kUsage);
  EXPECT_NE(st.error().message.find("'h4' is in no encrypted VPC"), std::string::npos)
      << st.error().message;
  EXPECT_TRUE(applies_.empty());
}

// --- the node side ------------------------------------------------------------------------------

class KeySwitchWait : public FakeNode {
 protected:
  Context ClockedCtx() {
    Context ctx = Ctx("apply");
    ctx.clock = &clock_;
    return ctx;
  }
  testing::FakeClock clock_{kNow};
};

TEST_F(KeySwitchWait, ASwitchWaitsForItsMomentExactly) {
  Context ctx = ClockedCtx();
  EXPECT_EQ(WaitForKeySwitch(ctx, kNow + 1500), 0);
  EXPECT_EQ(clock_.sleeps(), std::vector<int64_t>{1500});
  EXPECT_EQ(clock_.NowMs(), kNow + 1500);
  EXPECT_TRUE(err_.str().empty()) << err_.str();
}

TEST_F(KeySwitchWait, ASwitchALittleLateGoesAheadQuietly) {
  Context ctx = ClockedCtx();
  EXPECT_EQ(WaitForKeySwitch(ctx, kNow - 200), 200);
  EXPECT_TRUE(err_.str().empty()) << err_.str();
}

TEST_F(KeySwitchWait, ALateSwitchGoesAheadAtOnceWithAWarning) {
  Context ctx = ClockedCtx();
  EXPECT_EQ(WaitForKeySwitch(ctx, kNow - 2500), 2500);
  EXPECT_EQ(clock_.NowMs(), kNow) << "no sleep";
  EXPECT_NE(err_.str().find("switching keys 2500 ms after the rekey's moment"), std::string::npos)
      << err_.str();
}

TEST_F(KeySwitchWait, AMomentTooFarAheadIsAClockProblemNotAWait) {
  Context ctx = ClockedCtx();
  EXPECT_EQ(WaitForKeySwitch(ctx, kNow + kMaxSwitchWaitMs + 5000), -(kMaxSwitchWaitMs + 5000));
  EXPECT_EQ(clock_.NowMs(), kNow) << "no sleep";
  EXPECT_NE(err_.str().find("65 s ahead of this node's clock"), std::string::npos) << err_.str();
}

TEST_F(KeySwitchWait, ABadMomentIsRefusedNamingItBeforeAnythingIsTouched) {
  for (const char* bad : {"soon", "-5", "1.5", "99999999999999999999999"}) {
    ApplyOptions o;
    o.switch_keys_at = bad;
    Context ctx = ClockedCtx();
    Status st = Apply(ctx, o);
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_EQ(st.error().code, Exit::kUsage);
    EXPECT_NE(st.error().message.find(std::string("'") + bad + "'"), std::string::npos)
        << st.error().message;
  }
  ApplyOptions dry;
  dry.switch_keys_at = "1800000000000";
  dry.dry_run = true;
  Context ctx = ClockedCtx();
  Status st = Apply(ctx, dry);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("cannot go with --dry-run"), std::string::npos);
  EXPECT_TRUE(runner_.calls().empty());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/state"));
}

}  // namespace
}  // namespace vpcctl::fabric
