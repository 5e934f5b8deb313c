// VIP validation, CARP probe parsing and diff, and vip-event on scripted runners.
#include "vpcctl/alloc/vip.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "fake_client.h"
#include "fake_prober.h"
#include "fake_runner.h"
#include "testing.h"
#include "vpcctl/base/text.h"
#include "vpcctl/exec/files.h"
#include "vpcctl/fabric/apply.h"
#include "vpcctl/fabric/vip_ops.h"
#include "vpcctl/model/map.h"
#include "vpcctl/plan/diff.h"
#include "vpcctl/platform/freebsd.h"
#include "vpcctl/version.h"

namespace vpcctl {
namespace {

alloc::VipSpec Spec(const std::string& addr, int vhid, std::vector<std::string> nodes) {
  return testing::MakeVipSpec("vpc1", addr, vhid, std::move(nodes));
}

TEST(VipAlloc, RefusesEveryBadInputNamingIt) {
  model::Fabric f = testing::SampleFabric();  // vpc1: h1, h3 linux; h2 freebsd
  ASSERT_EQ(testing::VipAddError(f, Spec("10.100.0.250", 10, {"h1", "h3"})), "ok");
  const model::Fabric before = f;
  struct Case {
    alloc::VipSpec spec;
    const char* expect;
  };
  std::vector<Case> cases = {
      {Spec("10.100.0.251", 0, {"h1", "h3"}), "invalid vhid 0: must be 1-255"},
      {Spec("10.100.0.251", 256, {"h1", "h3"}), "invalid vhid 256"},
      {Spec("10.100.0.251", 10, {"h1", "h3"}), "vhid 10 is already used"},
      {Spec("10.100.0.3", 11, {"h1", "h3"}), "is node 'h3''s overlay address"},
      {Spec("10.100.0.250", 11, {"h1", "h3"}), "already exists"},
      {Spec("10.100.0.251", 11, {"h1", "h4"}), "'h4' is not a member"},
      {Spec("10.100.0.251", 11, {"h1", "h2"}), "mixes FreeBSD and Linux"},
      {Spec("10.100.0.251", 11, {"h1"}), "at least two nodes"},
      {Spec("10.100.0.251", 11, {"h1", "h1"}), "listed twice"},
      {Spec("fd00::1", 11, {"h1", "h3"}), "is ipv6"},
      {Spec("10.100.0.255", 11, {"h1", "h3"}), "broadcast"},
      {Spec("10.100.0.x", 11, {"h1", "h3"}), "'10.100.0.x'"},
  };
  for (auto& c : cases) {
    std::string msg = testing::VipAddError(f, c.spec);
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.expect << " not in: " << msg;
  }
  auto empty = Spec("10.100.0.251", 11, {"h1", "h3"});
  empty.secret = "";
  EXPECT_NE(testing::VipAddError(f, empty).find("secret is empty"), std::string::npos);
  auto quote = Spec("10.100.0.251", 11, {"h1", "h3"});
  quote.secret = "a'b";
  EXPECT_NE(testing::VipAddError(f, quote).find("outside"), std::string::npos);
  auto slow = Spec("10.100.0.251", 11, {"h1", "h3"});
  slow.advert_ms = 5;
  EXPECT_NE(testing::VipAddError(f, slow).find("invalid --advert 5"), std::string::npos);
  EXPECT_EQ(f.FindVpc("vpc1")->vips.size(), before.FindVpc("vpc1")->vips.size());
}

TEST(VipAlloc, VipsAreReservedFromOverlayAllocationAndPinMembers) {
  model::Fabric f = testing::SampleFabric();
  ASSERT_EQ(testing::VipAddError(f, Spec("10.100.0.4", 10, {"h1", "h3"})), "ok");
  ASSERT_TRUE(alloc::AddMember(f, "vpc1", "h4").ok());
  EXPECT_EQ(f.FindVpc("vpc1")->FindMember("h4")->overlay, testing::Ip("10.100.0.5"));
  auto st = alloc::RemoveMember(f, "vpc1", "h3");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("remove it from the VIP first"), std::string::npos);
  EXPECT_TRUE(model::ValidateFabric(f).ok());
  ASSERT_TRUE(alloc::RemoveVip(f, "vpc1", 10).ok());
  EXPECT_TRUE(alloc::RemoveMember(f, "vpc1", "h3").ok());
}

TEST(VipAlloc, FreeBsdGroupsAdvertiseInSecondsWithHostWidePreempt) {
  model::Fabric f = testing::SampleFabric();
  alloc::VpcSpec vpc;
  vpc.name = "vpc2";
  vpc.peer_network = testing::Net("10.20.0.0/24");
  vpc.members = {"h2", "h4"};
  ASSERT_TRUE(alloc::CreateVpc(f, vpc, 2).ok());
  auto s = Spec("10.20.0.250", 1, {"h2", "h4"});
  s.vpc = "vpc2";
  s.unsafe_two_node = true;  // two members, no witness
  s.advert_ms = 100;
  EXPECT_NE(testing::VipAddError(f, s).find("whole seconds"), std::string::npos);
  s.advert_ms.reset();
  ASSERT_EQ(testing::VipAddError(f, s), "ok");
  EXPECT_EQ(f.FindVpc("vpc2")->FindVip(1)->advert_ms, 1000);
  auto nopre = Spec("10.20.0.251", 2, {"h4", "h2"});
  nopre.vpc = "vpc2";
  nopre.unsafe_two_node = true;
  nopre.preempt = false;
  EXPECT_NE(testing::VipAddError(f, nopre).find("host-wide"), std::string::npos);
}

TEST(VipMap, SecretsTravelOnlyWhenAsked) {
  model::Fabric f = testing::SampleFabric();
  ASSERT_EQ(testing::VipAddError(f, Spec("10.100.0.250", 10, {"h1", "h3"})), "ok");
  model::Map m{"0123456789abcdef0123456789abcdef", "h1", f};
  std::string shown = model::MapToJson(m, true);
  std::string hidden = model::MapToJson(m, false);
  EXPECT_NE(shown.find("secret1"), std::string::npos);
  EXPECT_EQ(hidden.find("secret1"), std::string::npos);
  auto back = model::ParseMap(shown);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->fabric.FindVpc("vpc1")->vips.at(0).nodes, (std::vector<std::string>{"h1", "h3"}));
  auto refused = model::ParseMap(hidden);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("redacted"), std::string::npos);
}

TEST(CarpProbe, ParsesCarpAddressesAndDiffsThem) {
  auto obs = platform::ParseIfconfig(testing::ReadData("fixtures/freebsd/h3-mixed.15.ifconfig.txt"));
  ASSERT_TRUE(obs.ok());
  const auto* br = obs->Find("vpc1");
  ASSERT_EQ(br->vips.size(), 1u);
  EXPECT_EQ(br->vips[0].address, testing::Ip("10.100.0.250"));
  EXPECT_EQ(br->vips[0].vhid, 7);
  EXPECT_EQ(br->vips[0].state, "MASTER");
  EXPECT_EQ(br->vips[0].advbase, 1);
  EXPECT_EQ(br->vips[0].advskew, 0);

  plan::Desired d;
  d.kernel_vips = true;
  plan::DesiredVpc dv;
  dv.vpc = "vpc1";
  dv.mtu = 1430;
  dv.address = *net::IfAddress::Parse("10.100.0.3/24");
  plan::DesiredVip vip;
  vip.address = testing::Ip("10.100.0.250");
  vip.vhid = 7;
  vip.advert_ms = 1000;
  dv.vips.push_back(vip);
  dv.keep_addresses.push_back(vip.address);
  d.vpcs.push_back(dv);
  plan::Observed o = *obs;
  o.interfaces.erase(std::remove_if(o.interfaces.begin(), o.interfaces.end(),
                                    [](const auto& i) { return i.name != "vpc1"; }),
                     o.interfaces.end());
  o.interfaces[0].owner = "vpcctl:vpc1";
  o.interfaces[0].up = true;
  auto count = [&](plan::Action a, const std::vector<plan::Step>& steps) {
    return std::count_if(steps.begin(), steps.end(), [&](const auto& s) { return s.action == a; });
  };
  auto same = plan::Diff(d, o);
  ASSERT_TRUE(same.ok()) << same.error().message;
  EXPECT_EQ(count(plan::Action::kAddVip, *same), 0);
  // The skew is vipd's to switch: the holder's (0) and a backup's (240) are both ours.
  o.interfaces[0].vips[0].advskew = plan::kCarpBackupSkew;
  auto backup = plan::Diff(d, o);
  ASSERT_TRUE(backup.ok());
  EXPECT_EQ(count(plan::Action::kAddVip, *backup), 0);
  EXPECT_EQ(count(plan::Action::kRemoveVip, *backup), 0);
  o.interfaces[0].vips[0].advskew = 10;  // an older vpcctl's second node, or set by hand: replace
  auto changed = plan::Diff(d, o);
  EXPECT_EQ(count(plan::Action::kRemoveVip, *changed), 1);
  EXPECT_EQ(count(plan::Action::kAddVip, *changed), 1);
  auto add = std::find_if(changed->begin(), changed->end(),
                          [](const auto& s) { return s.action == plan::Action::kAddVip; });
  EXPECT_NE(ShellLine(platform::FreeBsdDriver().Render(*add).back()).find("advskew 240"),
            std::string::npos);
  o.interfaces[0].vips[0].advskew = 0;
  d.vpcs[0].vips[0].rank = -1;  // an acceptor only now: its CARP address goes
  auto acceptor = plan::Diff(d, o);
  EXPECT_EQ(count(plan::Action::kRemoveVip, *acceptor), 1);
  EXPECT_EQ(count(plan::Action::kAddVip, *acceptor), 0);
  d.vpcs[0].vips[0].rank = 0;
  d.vpcs[0].vips.clear();  // no longer wanted
  auto gone = plan::Diff(d, o);
  EXPECT_EQ(count(plan::Action::kRemoveVip, *gone), 1);
  auto cmds = platform::FreeBsdDriver().Render((*gone)[0]);
  EXPECT_EQ(cmds.back(), (platform::Argv{"ifconfig", "vpc1", "inet", "10.100.0.250", "-alias"}));
}

class NodeVip : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vpcctl-vip-XXXXXX";
    dir_ = mkdtemp(tmpl);
    ctx_ = std::make_unique<fabric::Context>(fabric::Context{
        store::StatePaths{dir_ + "/state"}, runner_, ssh_, term_, io_, prober_, "vpcctl test"});
    model::Fabric f = testing::SampleFabric();
    EXPECT_EQ(testing::VipAddError(f, Spec("10.100.0.250", 10, {"h1", "h3"})), "ok");
    model::Map m{"0123456789abcdef0123456789abcdef", "h1", f};
    in_.str(model::MapToJson(m, true));
    fabric::MapImportOptions o;
    o.node = "h1";
    auto st = fabric::MapImport(*ctx_, o);
    EXPECT_TRUE(st.ok()) << st.error().message;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
  exec::FakeRunner runner_;
  testing::FakeProber prober_;
  ssh::FakeClient ssh_;
  exec::NoTerminal term_;
  std::istringstream in_;
  std::ostringstream out_, err_;
  fabric::Output io_{in_, out_, err_, false};
  std::unique_ptr<fabric::Context> ctx_;
};

TEST_F(NodeVip, EventRecordsTheTransitionAndRefusesBadInput) {
  ASSERT_TRUE(fabric::VipEvent(*ctx_, {"lease", "vpc1", "10", "MASTER"}).ok());
  ASSERT_TRUE(fabric::VipEvent(*ctx_, {"lease", "vpc1", "10", "BACKUP"}).ok());
  EXPECT_TRUE(runner_.calls().empty()) << "no hooks.d: nothing runs";
  auto db = fabric::OpenNodeStore(*ctx_);
  auto events = (*db)->VipEvents("vpc1", 10, 5);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].state, "BACKUP");
  EXPECT_EQ((*events)[1].state, "MASTER");
  for (auto bad : std::vector<std::vector<std::string>>{
           {"lease", "vpc1", "999", "MASTER"}, {"carp", "10@vpc1", "PWNED"},
           {"carp", "10@Vpc;1", "MASTER"}, {"lease", "vpc1", "10"}, {"vrrp", "INSTANCE", "vpc1_10", "MASTER"},
           {"other"}}) {
    EXPECT_FALSE(fabric::VipEvent(*ctx_, bad).ok()) << Join(bad, " ");
  }
  events = (*db)->VipEvents("vpc1", 10, 5);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 2u) << "bad input records nothing";
}

TEST_F(NodeVip, CarpPromotingItselfWithoutVipdIsForcedBack) {
  // devd reports CARP's own change; vipd is not running here: nothing holds a lease, so MASTER is
  // put back to backup at once, and nothing is recorded (the lease's transitions are the VIP's).
  runner_.On({"ifconfig"}, "");
  ASSERT_TRUE(fabric::VipEvent(*ctx_, {"carp", "10@vpc1", "MASTER"}).ok());
  auto calls = runner_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0], platform::CarpStateCommand("vpc1", 10, false));
  ASSERT_TRUE(fabric::VipEvent(*ctx_, {"carp", "10@vpc1", "BACKUP"}).ok());
  EXPECT_EQ(runner_.calls().size(), 1u) << "a backup is left alone";
  auto db = fabric::OpenNodeStore(*ctx_);
  auto events = (*db)->VipEvents("vpc1", 10, 5);
  ASSERT_TRUE(events.ok());
  EXPECT_TRUE(events->empty());
}

// hooks.d with hooks of every kind, each leaving a file in out/ when it runs.
class Hooks : public NodeVip {
 protected:
  void SetUp() override {
    NodeVip::SetUp();
    hooks_ = dir_ + "/state/hooks.d";
    out_ = dir_ + "/out";
    ASSERT_EQ(mkdir(hooks_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir(out_.c_str(), 0755), 0);
  }
  // A hook script: `body`, then leaves out/<name>.
  std::string Hook(const std::string& name, mode_t mode, const std::string& body = "") {
    std::string path = hooks_ + "/" + name;
    std::ofstream(path) << "#!/bin/sh\n" << body << "touch '" << out_ << "/" << name << "'\n";
    chmod(path.c_str(), mode);
    return path;
  }
  bool Ran(const std::string& name) { return exec::FileExists(out_ + "/" + name); }
  std::string Log() {
    auto text = exec::ReadFile(dir_ + "/state/hooks.log");
    return text.ok() ? *text : "";
  }
  // Polls (the hooks run detached) until hooks.log holds `n` lines or `limit` passes.
  std::vector<std::string> WaitForLog(size_t n, std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    std::vector<std::string> lines;
    while (std::chrono::steady_clock::now() < deadline) {
      lines = Split(Log(), '\n');
      if (!lines.empty() && lines.back().empty()) lines.pop_back();
      if (lines.size() >= n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return lines;
  }
  std::string hooks_, out_;
};

TEST_F(Hooks, OnlyTrustedHooksRunDetachedInOrderWithinTheirTimeAndExactEnvironment) {
  bool root = geteuid() == 0;
  Hook("10-good", 0755, "tr '\\0' '\\n' < /proc/$$/environ > '" + out_ + "/10-good.env'\n");
  Hook("20-group", 0775);
  Hook("30-world", 0757);
  if (root) {
    ASSERT_EQ(chown(Hook("40-nobody", 0755).c_str(), 65534, 65534), 0);
  }
  Hook("50-slow", 0755, "trap '' TERM\nsleep 30\n");  // ignores SIGTERM: needs the SIGKILL
  Hook("60-readme", 0644);
  Hook("99-after", 0755);
  Hook("a=b", 0755);
  auto start = std::chrono::steady_clock::now();
  auto st = fabric::VipEvent(*ctx_, {"lease", "vpc1", "10", "MASTER"},
                             fabric::HookLimits{std::chrono::seconds(1),
                                                std::chrono::milliseconds(200)});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_LT(took, std::chrono::milliseconds(1000)) << "vip-event waited for its hooks";
  // Skips are reported at once, on stderr.
  std::string err = err_.str();
  EXPECT_NE(err.find("hook '" + hooks_ + "/20-group' skipped: group-writable (mode 0775)"),
            std::string::npos) << err;
  EXPECT_NE(err.find("hook '" + hooks_ + "/30-world' skipped: world-writable (mode 0757)"),
            std::string::npos) << err;
  if (root) {
    EXPECT_NE(err.find("hook '" + hooks_ + "/40-nobody' skipped: owned by uid 65534, not root"),
              std::string::npos) << err;
  }
  EXPECT_EQ(err.find("60-readme"), std::string::npos) << "not executable: not a hook";

  // 3 (or 2) skips, then 10-good, 50-slow, 99-after and a=b in name order.
  size_t skips = root ? 3 : 2;
  auto lines = WaitForLog(skips + 4, std::chrono::seconds(15));
  ASSERT_EQ(lines.size(), skips + 4) << Log();
  std::vector<std::string> want = {
      "'" + hooks_ + "/20-group': skipped: group-writable (mode 0775)",
      "'" + hooks_ + "/30-world': skipped: world-writable (mode 0757)"};
  if (root) want.push_back("'" + hooks_ + "/40-nobody': skipped: owned by uid 65534, not root");
  for (const char* ran : {"10-good': exit 0", "50-slow': timed out after 1 s: killed (SIGKILL)",
                          "99-after': exit 0", "a=b': exit 0"}) {
    want.push_back("'" + hooks_ + "/" + ran);
  }
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NE(lines[i].find(" vpc1 vhid 10 MASTER " + want[i]), std::string::npos)
        << i << ": " << lines[i];
  }
  EXPECT_TRUE(Ran("10-good") && Ran("99-after") && Ran("a=b"));
  for (const char* not_run : {"20-group", "30-world", "40-nobody", "50-slow", "60-readme"}) {
    EXPECT_FALSE(Ran(not_run)) << not_run;
  }
  auto env = exec::ReadFile(out_ + "/10-good.env");
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(*env, "PATH=" VPCCTL_DEFAULT_PATH "\n"
                  "VPC=vpc1\nVIP=10.100.0.250\nVHID=10\nSTATE=MASTER\n"
                  "VPCCTL_STATE_DIR=" + dir_ + "/state\n");
}

TEST_F(Hooks, AnUntrustedHooksDirectoryRunsNothing) {
  Hook("10-good", 0755);
  chmod(hooks_.c_str(), 0777);
  ASSERT_TRUE(fabric::VipEvent(*ctx_, {"lease", "vpc1", "10", "BACKUP"}).ok());
  std::string why = "skipped: group- and world-writable (mode 0777); no hook runs";
  std::string dir = "'" + hooks_ + "'";
  EXPECT_NE(err_.str().find("hook " + dir + " " + why), std::string::npos) << err_.str();
  EXPECT_NE(Log().find(" vpc1 vhid 10 BACKUP " + dir + ": " + why), std::string::npos) << Log();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(Ran("10-good"));
}

TEST(HookSelection, TrustsOnlyOwnerAndModeThatNoOneElseCanChange) {
  using fabric::FileFacts;
  auto f = [](std::string path, unsigned uid, unsigned mode, bool regular = true) {
    return FileFacts{path, true, !regular, regular, uid, mode};
  };
  FileFacts dir = f("/s/hooks.d", 0, 0755, false);
  auto s = fabric::SelectHooks(dir,
                               {f("/s/hooks.d/b", 0, 0755), f("/s/hooks.d/a", 0, 0700),
                                f("/s/hooks.d/g", 0, 0775), f("/s/hooks.d/w", 0, 0777),
                                f("/s/hooks.d/u", 1000, 0755), f("/s/hooks.d/README", 0, 0644),
                                f("/s/hooks.d/sub", 0, 0755, false)},
                               0);
  EXPECT_EQ(s.run, (std::vector<std::string>{"/s/hooks.d/a", "/s/hooks.d/b"}));
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(s.skipped, (std::vector<P>{{"/s/hooks.d/g", "group-writable (mode 0775)"},
                                       {"/s/hooks.d/u", "owned by uid 1000, not root"},
                                       {"/s/hooks.d/w", "group- and world-writable (mode 0777)"}}));
  // Not root: the user's own files are as trusted as root's.
  s = fabric::SelectHooks(f("/s/hooks.d", 1000, 0700, false),
                          {f("/s/hooks.d/u", 1000, 0755), f("/s/hooks.d/v", 1001, 0755)}, 1000);
  EXPECT_EQ(s.run, (std::vector<std::string>{"/s/hooks.d/u"}));
  EXPECT_EQ(s.skipped, (std::vector<P>{{"/s/hooks.d/v", "owned by uid 1001, not root or uid 1000"}}));
  s = fabric::SelectHooks(f("/s/hooks.d", 1000, 0755, false), {f("/s/hooks.d/a", 0, 0755)}, 0);
  EXPECT_TRUE(s.run.empty());
  EXPECT_EQ(s.skipped,
            (std::vector<P>{{"/s/hooks.d", "owned by uid 1000, not root; no hook runs"}}));
  FileFacts none;
  none.path = "/s/hooks.d";
  s = fabric::SelectHooks(none, {}, 0);
  EXPECT_TRUE(s.run.empty() && s.skipped.empty()) << "no hooks.d: nothing to say";
}

TEST_F(Hooks, LogLinesAreAppendedUnderALockAndTheLogStaysBounded) {
  store::StatePaths paths{dir_ + "/state"};
  {
    auto acquired = store::StateLock::Acquire(paths.dir + "/hooks.lock", "test");
    ASSERT_TRUE(acquired.ok());
    std::optional<store::StateLock> held(std::move(*acquired));
    std::atomic<bool> done{false};
    std::thread writer([&] {
      EXPECT_TRUE(fabric::AppendHookLog(exec::SystemHost(), paths, "line one\n").ok());
      done = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_FALSE(done) << "wrote while another held the log's lock";
    held.reset();
    writer.join();
  }
  EXPECT_EQ(Log(), "line one\n");
  std::string line(99, 'x');
  line += '\n';
  std::string big;
  while (big.size() < (1u << 20)) big += line;
  ASSERT_TRUE(exec::WriteFileAtomic(paths.dir + "/hooks.log", big, 0600).ok());
  ASSERT_TRUE(fabric::AppendHookLog(exec::SystemHost(), paths, "last\n").ok());
  std::string log = Log();
  EXPECT_LE(log.size(), (1u << 19) + 5);
  EXPECT_GT(log.size(), (1u << 19) - 200);
  EXPECT_EQ(log.substr(0, 100), line) << "cut at a line";
  EXPECT_EQ(log.substr(log.size() - 5), "last\n");
}


}  // namespace
}  // namespace vpcctl
