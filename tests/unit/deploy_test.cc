// vpc deploy and deploy on a scripted SSH world: which nodes a deploy reaches and what it says of
// the other VPCs it converges there, its dry run, and its fan-out options refused before any node
// is contacted.
#include "vpcctl/fabric/deploy.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "fake_world.h"
#include "vpcctl/model/reports.h"

namespace vpcctl::fabric {

class DeployTest : public FakeWorld {
 protected:
  // h2, h3 and h4 enrolled; plain vpc1 over h2 and h3, plain vpc2 over h3 and h4.
  void SetUp() override {
    FakeWorld::SetUp();
    EnrolHosts({"h2", "h3", "h4"});
    PlainVpc("vpc1", "10.10.0.0/24", "h2,h3");
    PlainVpc("vpc2", "10.20.0.0/24", "h3,h4");
    other = [this](const std::string& ip, const std::string& line, const std::string&) {
      std::string node = "h" + ip.substr(ip.rfind('.') + 1);
      ssh::RemoteResult r{0, "", "", false, 1};
      if (line.find("'apply'") == std::string::npos) {
        r.exit_status = 127;
        return r;
      }
      applies_[node] = line;
      model::ApplyReport a = Converged(node);
      a.dry_run = line.find("'--dry-run'") != std::string::npos;
      r.out = a.ToJson().dump();
      return r;
    };
  }
  Status Run(const std::string& vpc, bool dry_run = false) {
    applies_.clear();
    out_.str("");
    err_.str("");
    DeployOptions d;
    d.vpc = vpc;
    d.dry_run = dry_run;
    return Deploy(*ctx_, d);
  }
  std::vector<std::string> Reached() const {
    std::vector<std::string> out;
    for (const auto& [node, line] : applies_) out.push_back(node);
    return out;
  }

  std::map<std::string, std::string> applies_;
};

TEST_F(DeployTest, AVpcDeployReachesItsMembersAndNamesTheOtherVpcsItConvergesThere) {
  ASSERT_TRUE(Run("vpc1").ok()) << err_.str();
  EXPECT_EQ(Reached(), (std::vector<std::string>{"h2", "h3"}));
  EXPECT_NE(out_.str().find("deploying VPC vpc1"), std::string::npos) << out_.str();
  EXPECT_NE(err_.str().find("an apply converges a node to its whole map: vpc2 on these nodes too"),
            std::string::npos)
      << err_.str();
  ASSERT_TRUE(Run("vpc2").ok());
  EXPECT_EQ(Reached(), (std::vector<std::string>{"h3", "h4"}));
  EXPECT_NE(err_.str().find("whole map: vpc1 on these nodes too"), std::string::npos) << err_.str();
  ASSERT_TRUE(Run("").ok());
  EXPECT_EQ(Reached(), (std::vector<std::string>{"h2", "h3", "h4"}));
  EXPECT_EQ(err_.str().find("whole map"), std::string::npos)
      << "every VPC was meant: " << err_.str();
}

TEST_F(DeployTest, ADryRunPlansOnEveryMemberAndAppliesNothing) {
  ASSERT_TRUE(Run("vpc1", true).ok()) << err_.str();
  ASSERT_EQ(Reached().size(), 2u);
  for (const auto& [node, line] : applies_) {
    EXPECT_NE(line.find("'apply' '--local' '--dry-run' '--map' '-' '--node' '" + node + "'"),
              std::string::npos)
        << line;
    EXPECT_EQ(line.find("'--import'"), std::string::npos) << line;
  }
  EXPECT_NE(out_.str().find("planning VPC vpc1"), std::string::npos) << out_.str();
}

TEST_F(DeployTest, BadFanOutOptionsAreAllNamedAtOnceAndNoNodeIsContacted) {
  DeployOptions d;
  d.vpc = "vpc1";
  d.timeout = "0";
  d.command_timeout = "forever";
  d.parallel = "2000";
  Status st = Deploy(*ctx_, d);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Exit::kUsage);
  const std::string& m = st.error().message;
  EXPECT_NE(m.find("invalid --timeout '0': must be 1-600 seconds"), std::string::npos) << m;
  EXPECT_NE(m.find("invalid --command-timeout 'forever': must be 1-86400 seconds"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("invalid --parallel '2000': must be 1-1024"), std::string::npos) << m;
  EXPECT_TRUE(applies_.empty());
  DeployOptions unknown;
  unknown.vpc = "vpc9";
  st = Deploy(*ctx_, unknown);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("unknown VPC 'vpc9'"), std::string::npos) << st.error().message;
  EXPECT_TRUE(applies_.empty());
}

}  // namespace vpcctl::fabric
