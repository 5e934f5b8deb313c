// apply on a node, with its commands answered by a fake runner: the options it refuses, a node
// that holds no map yet, a dry run that plans against a map without storing or running it, its
// crash points, and wireguard-go started on a fake host and waited for.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fake_clock.h"
#include "fake_host.h"
#include "fake_node.h"

namespace vpcctl::fabric {
namespace {

using json = nlohmann::json;

class ApplyTest : public FakeNode {
 protected:
  void SetUp() override {
    FakeNode::SetUp();
    model::Fabric f = testing::SampleFabric();
    f.generation = 4;
    map_path_ = dir_ + "/map.json";
    std::ofstream(map_path_) << MapText(f);
    runner_.On({"ip", "-j", "-d", "addr"},
               testing::ReadData("fixtures/linux/h1-vpc1.ip-d-addr.json"));
    runner_.On({"ip"}, "[]");
    runner_.On({"nft"}, "", 1);
  }
  Status Run(const ApplyOptions& o) {
    out_.str("");
    Context ctx = Ctx("apply");
    return Apply(ctx, o);
  }
  // Commands run other than the probes' listings.
  std::vector<std::string> Changes() {
    std::vector<std::string> out;
    for (const auto& c : runner_.calls()) {
      std::string line = Join(c, " ");
      bool listing = StartsWith(line, "ip -j ") || StartsWith(line, "nft list");
      if (!listing) out.push_back(line);
    }
    return out;
  }

  // Commands that change the node, as run: one per line of a batch.
  std::vector<std::string> Ran() {
    std::lock_guard<std::mutex> lock(ran_mu_);
    return ran_;
  }
  // A firewall that lists once it has been loaded; changes recorded for Ran().
  void LoadableFirewall() {
    auto loaded = std::make_shared<bool>(false);
    runner_.On({"nft", "-f"}, [this, loaded](const exec::Argv& argv, const std::string&) {
      *loaded = true;
      Record(Join(argv, " "));
      return exec::CommandResult{};
    });
    runner_.On({"ip", "-batch"}, [this](const exec::Argv&, const std::string& input) {
      for (const auto& line : Split(input, '\n')) {
        if (!line.empty()) Record("ip " + line);
      }
      return exec::CommandResult{};
    });
    runner_.On({"ip", "neigh"}, [this](const exec::Argv& argv, const std::string&) {
      Record(Join(argv, " "));
      return exec::CommandResult{};
    });
    runner_.On({"nft", "list"}, [loaded](const exec::Argv&, const std::string&) {
      exec::CommandResult r;
      r.out = *loaded ? "table inet vpcctl {\n}\n" : "";
      r.exit_code = *loaded ? 0 : 1;
      return r;
    });
  }

  // Holds the sample fabric (with a firewall that loads) and returns the commands a dry run of
  // apply plans on h1: its firewall, then the pinned neighbours.
  std::vector<std::string> HoldAndPlan() {
    Hold(testing::SampleFabric());
    LoadableFirewall();
    ApplyOptions o;
    o.json = true;
    o.dry_run = true;
    EXPECT_TRUE(Run(o).ok()) << out_.str();
    return json::parse(out_.str())["commands"].get<std::vector<std::string>>();
  }
  void Record(const std::string& line) {
    std::lock_guard<std::mutex> lock(ran_mu_);
    ran_.push_back(line);
  }

  std::string map_path_;
  std::mutex ran_mu_;
  std::vector<std::string> ran_;
};

TEST_F(ApplyTest, ContradictoryOptionsAreRefusedBeforeAnythingIsTouched) {
  ApplyOptions map_without_dry_run;
  map_without_dry_run.map_file = map_path_;
  Status st = Run(map_without_dry_run);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("--map plans against a map without storing it"),
            std::string::npos);
  ApplyOptions both;
  both.map_file = map_path_;
  both.import = true;
  both.dry_run = true;
  st = Run(both);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "give --map or --import, not both");
  ApplyOptions bad_node;
  bad_node.node = "no such/node";
  st = Run(bad_node);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("no such/node"), std::string::npos) << st.error().message;
  EXPECT_TRUE(runner_.calls().empty());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/state"));
}

TEST_F(ApplyTest, ANodeWithoutAMapHasNothingToApplyAndSaysSo) {
  ApplyOptions o;
  o.json = true;
  ASSERT_TRUE(Run(o).ok());
  json r = json::parse(out_.str());
  EXPECT_EQ(r["no_map"], true);
  EXPECT_EQ(r["converged"], true);
  EXPECT_TRUE(runner_.calls().empty());
  o.json = false;
  ASSERT_TRUE(Run(o).ok());
  EXPECT_NE(out_.str().find("no map on this node yet"), std::string::npos) << out_.str();
}

TEST_F(ApplyTest, ADryRunPlansAgainstAMapWithoutStoringItOrChangingTheNode) {
  ApplyOptions o;
  o.dry_run = true;
  o.json = true;
  o.map_file = map_path_;
  o.node = "h1";
  ASSERT_TRUE(Run(o).ok()) << out_.str();
  json r = json::parse(out_.str());
  EXPECT_EQ(r["node"], "h1");
  EXPECT_EQ(r["generation"], 4);
  EXPECT_EQ(r["dry_run"], true);
  // The fixture holds vpc1's interfaces; what is left is the node's own setup (its firewall,
  // absent here, and the pinned peers), each with the commands that would make it.
  ASSERT_FALSE(r["steps"].empty());
  EXPECT_EQ(r["changes"], r["steps"].size());
  EXPECT_FALSE(r["commands"].empty());
  for (const auto& s : r["steps"]) EXPECT_NE(s["action"], "create-tunnel") << s.dump();
  EXPECT_TRUE(Changes().empty()) << ::testing::PrintToString(Changes());
  // Nothing stored: the node still holds no map.
  ApplyOptions plain;
  plain.json = true;
  ASSERT_TRUE(Run(plain).ok());
  EXPECT_EQ(json::parse(out_.str())["no_map"], true);
}

// The crash tests' port: a budget of commands, and the crash points reached (with the commands
// that had run by then).
class RecordingFaults : public Faults {
 public:
  RecordingFaults(size_t budget, std::function<std::vector<std::string>()> ran)
      : budget_(budget), ran_(std::move(ran)) {}
  size_t ApplyCommands() const override { return budget_; }
  void At(std::string_view point) override { reached.emplace_back(point, ran_()); }
  std::vector<std::pair<std::string, std::vector<std::string>>> reached;

 private:
  size_t budget_;
  std::function<std::vector<std::string>()> ran_;
};

TEST_F(ApplyTest, WithNoCrashBudgetAnApplyRunsEveryPlannedCommandAndReachesNoCrashPoint) {
  std::vector<std::string> planned = HoldAndPlan();
  ASSERT_GE(planned.size(), 2u);
  RecordingFaults unlimited(SIZE_MAX, [this] { return Ran(); });
  ApplyOptions o;
  o.json = true;
  Context ctx = Ctx("apply");
  ctx.faults = &unlimited;
  // The fake's neighbour listing never changes: the verifying probe finds the neighbours still
  // missing and the apply runs them once more, then reports them.
  EXPECT_FALSE(Apply(ctx, o).ok());
  EXPECT_TRUE(unlimited.reached.empty());
  std::vector<std::string> ran = Ran();
  ASSERT_GE(ran.size(), planned.size()) << ::testing::PrintToString(ran);
  ran.resize(planned.size());
  EXPECT_EQ(ran, planned);
}

// A budget of one: the crash point comes once exactly the first planned command has run. (In the
// crash tests' binary the process dies there; here it goes on, runs nothing more, and fails.)
TEST_F(ApplyTest, AnApplyReachesItsCrashPointOnceItHasRunItsBudgetOfCommandsAndNotBefore) {
  std::vector<std::string> planned = HoldAndPlan();
  ASSERT_FALSE(planned.empty());
  std::string first = planned[0];
  RecordingFaults one(1, [this] { return Ran(); });
  ApplyOptions o;
  o.json = true;
  Context ctx = Ctx("apply");
  ctx.faults = &one;
  Status st = Apply(ctx, o);
  EXPECT_FALSE(st.ok()) << "steps are left undone";
  ASSERT_EQ(one.reached.size(), 1u);
  EXPECT_EQ(one.reached[0].first, "apply-budget-spent");
  EXPECT_EQ(one.reached[0].second, std::vector<std::string>{first});
  EXPECT_EQ(Ran(), std::vector<std::string>{first});
}

// An encrypted VPC on a Linux host whose kernel has no WireGuard: apply makes the node's key (in
// the state directory, 0600), starts wireguard-go detached and goes on only once it listens on its
// socket; one that never listens is reported after 5 s, with nothing of WireGuard set meanwhile.
class WireguardGoApply : public ApplyTest {
 protected:
  void SetUp() override {
    ApplyTest::SetUp();
    Hold(testing::EncryptedSample());
    LoadableFirewall();
    runner_.On({"wg"}, "");
  }
  // The fake runner, where a daemon started is alive under its pid file (unless `dies_`).
  class StartingRunner final : public exec::Runner {
   public:
    explicit StartingRunner(WireguardGoApply& t) : t_(t) {}
    Result<exec::CommandResult> Run(const exec::Argv& argv, const std::string& input,
                                    std::chrono::milliseconds timeout) override {
      return t_.runner_.Run(argv, input, timeout);
    }
    Result<int> Start(const exec::Argv& argv, const std::string& log,
                      const std::string& pidfile) override {
      VPC_ASSIGN_OR_RETURN(int pid, t_.runner_.Start(argv, log, pidfile));
      if (!t_.dies_) t_.host_.Run(pidfile, pid);
      return pid;
    }

   private:
    WireguardGoApply& t_;
  };

  Status ApplyOnHost() {
    ApplyOptions o;
    o.json = true;
    out_.str("");
    StartingRunner runner(*this);
    Context ctx{store::StatePaths{dir_ + "/state"}, runner, ssh_, term_, io_, prober_, "apply"};
    ctx.host = &host_;
    ctx.clock = &clock_;
    return Apply(ctx, o);
  }
  // The calls from the start of wireguard-go on, the listings left out.
  std::vector<std::string> FromStart() {
    std::vector<std::string> out;
    bool started = false;
    for (const auto& c : runner_.calls()) {
      std::string line = Join(c, " ");
      started = started || StartsWith(line, "start wireguard-go");
      if (started && !StartsWith(line, "ip -j ") && !StartsWith(line, "wg show")) {
        out.push_back(line);
      }
    }
    return out;
  }

  testing::FakeHost host_{"Linux", {"ip", "nft", "wg", "wireguard-go"}};
  testing::FakeClock clock_{1'800'000'000'000};
  bool dies_ = false;
  const std::string socket_ = "/var/run/wireguard/wg-vpcctl.sock";
};

TEST_F(WireguardGoApply, TheKeyIsMadeAndWireguardGoStartedThenConfiguredOnceItListens) {
  host_.Listen(socket_);
  host_.Listen(dir_ + "/state/agent.sock");  // the node agent, started after it
  (void)ApplyOnHost();  // the fake kernel never shows the interface: verification fails after
  auto files = host_.files();
  std::string key = dir_ + "/state/wg.key";
  ASSERT_TRUE(files.count(key)) << "the node's WireGuard key is made at its first apply";
  EXPECT_EQ(files[key].mode, 0600u);
  EXPECT_EQ(files[key].content.size(), 45u) << "a base64 key and a newline";
  std::vector<std::string> after = FromStart();
  ASSERT_GE(after.size(), 2u) << Join(Changes(), "\n");
  EXPECT_EQ(after[0], "start wireguard-go -f wg-vpcctl");
  bool keyed = false;
  for (const auto& line : after) {
    keyed = keyed || line == "wg set wg-vpcctl listen-port 51820 private-key " + key;
  }
  EXPECT_TRUE(keyed) << Join(after, "\n");
  EXPECT_TRUE(clock_.sleeps().empty()) << "it listened at once: no wait";
}

TEST_F(WireguardGoApply, AWireguardGoThatNeverListensIsReportedAfterFiveSeconds) {
  int64_t before = clock_.NowMs();
  Status st = ApplyOnHost();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("wireguard-go (pid 4242) did not come up: no " + socket_ +
                                    " after 5 s"),
            std::string::npos)
      << st.error().message;
  EXPECT_GE(clock_.NowMs() - before, 5000);
  EXPECT_LT(clock_.NowMs() - before, 5100);
  EXPECT_EQ(FromStart(), std::vector<std::string>{"start wireguard-go -f wg-vpcctl"})
      << "nothing of WireGuard is set before wireguard-go is up";
}

TEST_F(WireguardGoApply, AWireguardGoThatDiesAtStartIsReportedAtOnce) {
  dies_ = true;
  Status st = ApplyOnHost();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("did not come up"), std::string::npos) << st.error().message;
  EXPECT_LT(clock_.NowMs() - 1'800'000'000'000, 100);
}

}  // namespace
}  // namespace vpcctl::fabric
