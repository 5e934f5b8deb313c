// apply on a FreeBSD node, run on this Linux machine: the host port says FreeBSD (its files in
// memory), the fake runner answers ifconfig and pfctl as a FreeBSD host would, first holding
// nothing of vpcctl's, then what the commands made. What apply plans there is FreeBSD's plan
// (tests/golden/freebsd), it converges, a second apply has nothing to do, and an unsupported system
// is refused.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fake_host.h"
#include "fake_node.h"
#include "vpcctl/base/text.h"

namespace vpcctl::fabric {
namespace {

using json = nlohmann::json;

// `ifconfig -a -v` on a FreeBSD host with its underlay address and nothing else.
constexpr const char* kBareIfconfig =
    "vtnet0: flags=1008843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST,LOWER_UP> metric 0 mtu 1500\n"
    "\tether 58:9c:fc:00:11:22\n"
    "\tinet 192.0.2.2 netmask 0xffffff00 broadcast 192.0.2.255\n"
    "\tstatus: active\n"
    "lo0: flags=1008049<UP,LOOPBACK,RUNNING,MULTICAST,LOWER_UP> metric 0 mtu 16384\n"
    "\tinet 127.0.0.1 netmask 0xff000000\n"
    "\tgroups: lo\n";

// What `ifconfig -a -v` shows once vpc1 is built on h2: the interfaces of the FreeBSD 15 fixture,
// with the "config:" line -v adds to a tunnel.
std::string BuiltIfconfig() {
  std::string text = testing::ReadData("fixtures/freebsd/h2-vpc1.15.ifconfig.txt");
  for (const char* vni : {"vni 100 ", "vni 102 "}) {
    size_t at = text.find('\n', text.find(vni));
    text.insert(at + 1, "\t\tconfig: nolearning portrange 0-0 ttl 64\n");
  }
  return text;
}

class FreeBsdApply : public FakeNode {
 protected:
  void SetUp() override {
    FakeNode::SetUp();
    // The node's kernel: bare until the last command of the plan has run, then vpc1 built; pf's
    // anchor empty until rules are loaded into it.
    runner_.On({"ifconfig", "-a", "-v"}, [this](const exec::Argv&, const std::string&) {
      return exec::CommandResult{0, built_ ? BuiltIfconfig() : kBareIfconfig, "", false};
    });
    runner_.On({"ifconfig", "vpc1", "up"}, [this](const exec::Argv&, const std::string&) {
      built_ = true;
      return exec::CommandResult{};
    });
    runner_.On({"ifconfig"}, "");
    runner_.On({"kldload"}, "");
    runner_.On({"pfctl", "-a", "vpcctl", "-f"}, [this](const exec::Argv& a, const std::string&) {
      auto rules = host_.ReadFile(a.back());
      loaded_ = rules ? *rules : "";
      return exec::CommandResult{};
    });
    runner_.On(
        {"pfctl", "-a", "vpcctl", "-s", "rules"}, [this](const exec::Argv&, const std::string&) {
          if (loaded_.empty())
            return exec::CommandResult{1, "", "pfctl: Anchor does not exist", false};
          return exec::CommandResult{
              0, "block drop in quick proto udp from ! <vpcctl_plain> to 192.0.2.2 port = 4789\n",
              "", false};
        });
    runner_.On({"pfctl", "-a", "vpcctl", "-t"}, [this](const exec::Argv&, const std::string&) {
      if (loaded_.empty()) return exec::CommandResult{1, "", "pfctl: Table does not exist.", false};
      return exec::CommandResult{0, "   192.0.2.1\n   192.0.2.3\n", "", false};
    });
    model::Fabric f = testing::SampleFabric();
    for (auto& n : f.nodes)
      if (n.name == "h2") n.platform = model::Platform::kFreeBSD;
    map_text_ = MapText(f, "h2");
    host_.Put(map_, map_text_);
  }
  Context HostCtx() {
    Context ctx = Ctx("apply");
    ctx.host = &host_;
    return ctx;
  }
  // A dry run plans against the map file; else the map arrives on stdin, as deploy sends it, and
  // is imported first (`import`), or the node applies the map it holds.
  enum How { kDryRun, kImport, kHeld };
  ApplyOptions Options(How how) {
    ApplyOptions o;
    o.json = true;
    if (how == kDryRun) {
      o.dry_run = true;
      o.map_file = map_;
      o.node = "h2";
    } else if (how == kImport) {
      in_.clear();
      in_.str(map_text_);
      o.import = true;
      o.node = "h2";
    }
    return o;
  }
  // The commands `apply --dry-run` plans on h2 of the sample fabric, h2 being FreeBSD.
  Status DryRun(std::vector<std::string>& commands) {
    Context ctx = HostCtx();
    out_.str("");
    Status st = Apply(ctx, Options(kDryRun));
    if (st.ok()) commands = json::parse(out_.str())["commands"].get<std::vector<std::string>>();
    return st;
  }
  std::vector<std::string> Ran() const {
    std::vector<std::string> out;
    for (const auto& c : runner_.calls()) {
      std::string line = Join(c, " ");
      if (line != "ifconfig -a -v" && !StartsWith(line, "pfctl -a vpcctl -s") &&
          !StartsWith(line, "pfctl -a vpcctl -t"))
        out.push_back(line);
    }
    return out;
  }

  testing::FakeHost host_{"FreeBSD", {"pfctl"}};
  std::string map_ = "/var/db/vpcctl-map.json";
  std::atomic<bool> built_{false};
  std::string loaded_;
  std::string map_text_;
};

TEST_F(FreeBsdApply, AFreeBsdNodePlansFreeBsdsCommandsAsTheGoldenPlanHasThem) {
  std::vector<std::string> commands;
  Status st = DryRun(commands);
  ASSERT_TRUE(st.ok()) << st.error().message;
  // The golden plan's commands (its comments aside), with this node's state directory.
  std::vector<std::string> golden;
  for (const auto& line : Split(testing::ReadData("golden/freebsd/vpc1-h2.plan"), '\n')) {
    if (line.empty() || line[0] == '#') continue;
    std::string l = line;
    for (size_t at; (at = l.find("/var/db/vpcctl")) != std::string::npos;) {
      l.replace(at, 14, dir_ + "/state");
    }
    golden.push_back(l);
  }
  EXPECT_EQ(commands, golden);
  // Only FreeBSD's tools ran: the probe read ifconfig and pf, nothing of Linux's.
  for (const auto& c : runner_.calls()) {
    EXPECT_TRUE(c[0] == "ifconfig" || c[0] == "pfctl") << Join(c, " ");
  }
}

// The whole apply: the plan's commands run in order, the rules file written where pfctl loads it,
// the verifying probe finds the node converged, and a second apply changes nothing.
TEST_F(FreeBsdApply, AFreeBsdNodeConvergesAndASecondApplyHasNothingToDo) {
  std::vector<std::string> planned;
  ASSERT_TRUE(DryRun(planned).ok());
  Context ctx = HostCtx();
  out_.str("");
  Status st = Apply(ctx, Options(kImport));
  ASSERT_TRUE(st.ok()) << st.error().message << "\n" << err_.str();
  EXPECT_EQ(Ran(), planned);
  json report = json::parse(out_.str());
  EXPECT_TRUE(report["converged"].get<bool>()) << report.dump();
  EXPECT_GT(report["changes"].get<int>(), 0) << report.dump();
  EXPECT_TRUE(report["remaining"].empty()) << report.dump();
  auto files = host_.files();
  std::string rules = dir_ + "/state/firewall.rules";
  ASSERT_TRUE(files.count(rules)) << "the rules pfctl loaded are kept in the state directory";
  EXPECT_EQ(files[rules].mode, 0600u);
  EXPECT_EQ(loaded_, files[rules].content);
  EXPECT_NE(loaded_.find("table <vpcctl_plain> const { 192.0.2.1 192.0.2.3 }"), std::string::npos)
      << loaded_;
  EXPECT_TRUE(files.count(dir_ + "/state/firewall.listing"));

  size_t ran = runner_.calls().size();
  out_.str("");
  st = Apply(ctx, Options(kHeld));
  ASSERT_TRUE(st.ok()) << st.error().message;
  report = json::parse(out_.str());
  EXPECT_EQ(report["changes"].get<int>(), 0) << report.dump();
  EXPECT_TRUE(report["converged"].get<bool>()) << report.dump();
  for (size_t i = ran; i < runner_.calls().size(); ++i) {
    std::string line = Join(runner_.calls()[i], " ");
    EXPECT_TRUE(line == "ifconfig -a -v" || StartsWith(line, "pfctl -a vpcctl -s") ||
                StartsWith(line, "pfctl -a vpcctl -t"))
        << "a converged node was changed: " << line;
  }
}

TEST_F(FreeBsdApply, AnUnsupportedSystemIsNamedAndNothingIsProbed) {
  host_ = testing::FakeHost("Darwin", {});
  host_.Put(map_, map_text_);
  std::vector<std::string> commands;
  Status st = DryRun(commands);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("unsupported system 'Darwin'"), std::string::npos)
      << st.error().message;
  EXPECT_TRUE(runner_.calls().empty());
}

}  // namespace
}  // namespace vpcctl::fabric
