// The controller's vip commands over a scripted SSH world: add and set refuse bad input with exit 2
// and nothing changed, move runs `vip-take` on the chosen candidate only, show gathers each
// member's view of the lease.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fake_world.h"
#include "vpcctl/fabric/vip_ops.h"
#include "vpcctl/fabric/vpc_status.h"
#include "vpcctl/model/reports.h"

namespace vpcctl::fabric {
namespace {

using json = nlohmann::json;

class VipOps : public FakeWorld {
 protected:
  // h2, h3, h4 and h5 enrolled; vpc1 is h2, h3, h4 with VIP 10.10.0.100 (vhid 1) on h2, h3;
  // vpc2 is h1 (this node), h2, h3; vpc3 is h2 and h3 only.
  void SetUp() override {
    FakeWorld::SetUp();
    WritePassword("s3cret");
    for (int i = 2; i <= 5; ++i) {
      EnrolLinux("h" + std::to_string(i), "192.0.2." + std::to_string(i));
    }
    PlainVpc("vpc1", "10.10.0.0/24", "h2,h3,h4");
    PlainVpc("vpc2", "10.20.0.0/24", "h1,h2,h3");
    PlainVpc("vpc3", "10.30.0.0/24", "h2,h3");
    VipAddOptions v = Vip("vpc1", "10.10.0.100", "1", "h2,h3");
    Status st = VipAdd(*ctx_, v);
    ASSERT_TRUE(st.ok()) << st.error().message;
    other = [this](const std::string& ip, const std::string& line, const std::string&) {
      std::string node = "h" + ip.substr(ip.rfind('.') + 1);
      lines_.push_back(node + ": " + line);
      if (answer_) return answer_(node, line);
      return ssh::RemoteResult{127, "", "vpcctl: not found", false, 1};
    };
    out_.str("");
  }

  VipAddOptions Vip(const std::string& vpc, const std::string& addr, const std::string& vhid,
                    const std::string& nodes) {
    VipAddOptions v;
    v.vpc = vpc;
    v.address = addr;
    v.vhid = vhid;
    v.nodes = nodes;
    return v;
  }

  // The VIPs as the database holds them, secrets included.
  std::string Vips() {
    std::ostringstream out, err;
    std::istringstream in;
    Output io{in, out, err, false};
    Context c{ctx_->paths, runner_, ssh_, term_, io, prober_, "test"};
    EXPECT_TRUE(VipList(c, "", true, true).ok());
    return out.str();
  }

  // Exit 2 naming `value`, and the VIPs unchanged.
  void Refused(const std::function<Status()>& command, const std::string& value) {
    std::string before = Vips();
    Status st = command();
    ASSERT_FALSE(st.ok()) << "accepted; expected a refusal naming " << value;
    EXPECT_EQ(st.error().code, Exit::kUsage) << st.error().message;
    EXPECT_NE(st.error().message.find(value), std::string::npos)
        << "expected '" << value << "' in: " << st.error().message;
    EXPECT_EQ(Vips(), before);
  }

  std::function<ssh::RemoteResult(const std::string& node, const std::string& line)> answer_;
  std::vector<std::string> lines_;
};

TEST_F(VipOps, AddRefusesEveryBadValueWithExit2AndNothingChanged) {
  auto add = [&](auto edit) {
    return [this, edit] {
      VipAddOptions v = Vip("vpc1", "10.10.0.101", "2", "h2,h3");
      edit(v);
      return VipAdd(*ctx_, v);
    };
  };
  Refused(add([](auto& v) { v.lease = "1000"; }), "invalid lease 1000 ms: must be 1350-60000");
  Refused(add([](auto& v) { v.lease = "60001"; }), "invalid lease 60001 ms");
  Refused(add([](auto& v) { v.lease = "fast"; }), "invalid --lease 'fast'");
  Refused(add([](auto& v) { v.nodes = "h2,h9"; }), "unknown node 'h9' in --nodes");
  Refused(add([](auto& v) { v.nodes = "h2,H9"; }), "'H9'");
  Refused(add([](auto& v) { v.witness = "h9"; }), "unknown witness 'h9'");
  Refused(add([](auto& v) { v.witness = "h4"; }), "witness 'h4' is a member of VPC 'vpc1'");
  Refused(add([](auto& v) { v.check = "true"; }), "invalid check 'true'");
  Refused(add([](auto& v) { v.unsafe_two_node = true; }), "--unsafe-two-node is for a lease of two");
  Refused([&] { return VipAdd(*ctx_, Vip("vpc3", "10.30.0.100", "1", "h2,h3")); },
          "would have two acceptors only");
  // A check on this node (a candidate of vpc2's VIP) must be an executable file here.
  Refused([&] {
    auto v = Vip("vpc2", "10.20.0.100", "1", "h1,h2");
    v.check = "/nonexistent/vpcctl-check --quiet";
    return VipAdd(*ctx_, v);
  }, "'/nonexistent/vpcctl-check' does not exist on h1");
  std::string plain = dir_ + "/not-executable";
  std::ofstream(plain) << "#!/bin/sh\n";
  chmod(plain.c_str(), 0644);
  Refused([&] {
    auto v = Vip("vpc2", "10.20.0.100", "1", "h1,h2");
    v.check = plain;
    return VipAdd(*ctx_, v);
  }, "'" + plain + "' is not an executable file on h1");
  Refused([&] {
    auto v = Vip("vpc2", "10.20.0.100", "1", "h1,h2");
    v.check = dir_;  // a directory is not a program
    return VipAdd(*ctx_, v);
  }, "is not an executable file on h1");
  // Where this node is not a candidate, the check is the candidates' to have.
  auto elsewhere = Vip("vpc1", "10.10.0.101", "2", "h2,h3");
  elsewhere.check = "/nonexistent/vpcctl-check";
  Status st = VipAdd(*ctx_, elsewhere);
  EXPECT_TRUE(st.ok()) << st.error().message;
  auto here = Vip("vpc2", "10.20.0.100", "1", "h1,h2");
  here.check = "/bin/sh -c true";
  here.lease = "2500";
  st = VipAdd(*ctx_, here);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_NE(out_.str().find("lease 2500 ms, check '/bin/sh -c true', witness none, preempt"),
            std::string::npos)
      << out_.str();
}

TEST_F(VipOps, ATwoMemberVpcTakesAWitnessOrTheUnsafeFlag) {
  auto v = Vip("vpc3", "10.30.0.100", "1", "h2,h3");
  v.witness = "h5";
  ASSERT_TRUE(VipAdd(*ctx_, v).ok());
  auto u = Vip("vpc3", "10.30.0.101", "2", "h3,h2");
  u.unsafe_two_node = true;
  ASSERT_TRUE(VipAdd(*ctx_, u).ok());
  auto vips = json::parse(Vips())["vips"];
  ASSERT_EQ(vips.size(), 3u);
  EXPECT_EQ(vips[1]["witness"], "h5");
  EXPECT_EQ(vips[1]["unsafe_two_node"], false);
  EXPECT_EQ(vips[1]["lease_ms"], 1350);
  EXPECT_EQ(vips[2]["unsafe_two_node"], true);
  EXPECT_TRUE(vips[2]["witness"].is_null());
  out_.str("");
  ASSERT_TRUE(VipList(*ctx_, "vpc3", false, false).ok());
  EXPECT_NE(out_.str().find("h5"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("(unsafe two-node)"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("1350 ms"), std::string::npos) << out_.str();
}

TEST_F(VipOps, SetChangesTheVipInPlaceAndRefusesBadValues) {
  auto set = [&](auto edit) {
    return [this, edit] {
      VipSetOptions o;
      o.vpc = "vpc1";
      o.vip = "1";
      edit(o);
      return VipSet(*ctx_, o);
    };
  };
  Refused(set([](auto&) {}), "nothing to change");
  Refused(set([](auto& o) { o.lease = "100"; }), "invalid lease 100 ms");
  Refused(set([](auto& o) { o.nodes = "h2,h5"; }), "node 'h5' is not a member of VPC 'vpc1'");
  Refused(set([](auto& o) { o.nodes = "h2,h9"; }), "unknown node 'h9' in --nodes");
  Refused(set([](auto& o) { o.witness = "h3"; }), "witness 'h3' is a member");
  Refused(set([](auto& o) { o.witness = "h9"; }), "unknown witness 'h9'");
  Refused(set([](auto& o) { o.check = "./check"; }), "invalid check './check'");
  Refused(set([](auto& o) {
    o.check = "/bin/true";
    o.no_check = true;
  }), "--check and --no-check contradict each other");
  Refused(set([](auto& o) {
    o.preempt = true;
    o.no_preempt = true;
  }), "--preempt and --no-preempt");
  Refused(set([](auto& o) {
    o.vip = "10.10.0.99";
    o.lease = "2000";
  }), "has no VIP '10.10.0.99'");
  Refused(set([](auto& o) {
    o.vpc = "vpc2";
    o.lease = "2000";
  }), "has no VIP '1'");
  VipSetOptions o;
  o.vpc = "vpc1";
  o.vip = "10.10.0.100";
  o.lease = "3000";
  o.check = "/usr/local/bin/ok";
  o.no_preempt = true;
  o.nodes = "h3,h2,h4";
  o.witness = "h5";
  Status st = VipSet(*ctx_, o);
  ASSERT_TRUE(st.ok()) << st.error().message;
  auto vip = json::parse(Vips())["vips"][0];
  EXPECT_EQ(vip["lease_ms"], 3000);
  EXPECT_EQ(vip["check"], "/usr/local/bin/ok");
  EXPECT_EQ(vip["preempt"], false);
  EXPECT_EQ(vip["nodes"], json({"h3", "h2", "h4"}));
  EXPECT_EQ(vip["witness"], "h5");
  std::string secret = vip["secret"];
  // Taking the witness away again, and the check: the secret stays all along.
  o = VipSetOptions{};
  o.vpc = "vpc1";
  o.vip = "1";
  o.no_witness = true;
  o.no_check = true;
  o.preempt = true;
  ASSERT_TRUE(VipSet(*ctx_, o).ok());
  vip = json::parse(Vips())["vips"][0];
  EXPECT_TRUE(vip["witness"].is_null());
  EXPECT_TRUE(vip["check"].is_null());
  EXPECT_EQ(vip["preempt"], true);
  EXPECT_EQ(vip["secret"], secret);
  // The former witness is owed the news: the next deploy of vpc1 reaches it.
  auto s = Session::Read(*ctx_);
  ASSERT_TRUE(s.ok());
  auto cleanups = (*s)->store().Cleanups();
  ASSERT_TRUE(cleanups.ok());
  EXPECT_NE(std::find(cleanups->begin(), cleanups->end(), std::make_pair(std::string("vpc1"),
                                                                         std::string("h5"))),
            cleanups->end());
}

TEST_F(VipOps, MoveRefusesANodeThatIsNotACandidateAndRunsNothing) {
  auto move = [&](const std::string& to) {
    return [this, to] {
      VipMoveOptions o;
      o.vpc = "vpc1";
      o.vip = "1";
      o.to = to;
      return VipMove(*ctx_, o);
    };
  };
  Refused(move("h4"), "node 'h4' is not a candidate of VIP 10.10.0.100 (vhid 1) of vpc1; its "
                      "candidates are h2, h3");
  Refused(move("h5"), "node 'h5' is not a candidate");
  Refused(move("h9"), "unknown node 'h9' in --to");
  Refused(move("H2"), "'H2'");
  EXPECT_TRUE(lines_.empty()) << "ran " << Join(lines_, "; ");
}

TEST_F(VipOps, MoveRunsVipTakeOnTheCandidateAndPrintsTheOutcome) {
  answer_ = [](const std::string& node, const std::string& line) {
    ssh::RemoteResult r{0, "", "", false, 1};
    if (line.find("'vip-take' 'vpc1' '1' '--json'") != std::string::npos) {
      r.out = model::VipTakeReport{"vpc1", 1, node, 7}.ToJson().dump();
    } else {
      r.exit_status = 2;
    }
    return r;
  };
  VipMoveOptions o;
  o.vpc = "vpc1";
  o.vip = "10.10.0.100";
  o.to = "h3";
  Status st = VipMove(*ctx_, o);
  ASSERT_TRUE(st.ok()) << st.error().message;
  ASSERT_EQ(lines_.size(), 1u) << Join(lines_, "; ");
  EXPECT_EQ(lines_[0].rfind("h3: ", 0), 0u) << lines_[0];
  EXPECT_EQ(out_.str(), "VIP 10.10.0.100 (vhid 1) of vpc1 moved to h3 in 7 ms\n");
  out_.str("");
  o.json = true;
  ASSERT_TRUE(VipMove(*ctx_, o).ok());
  auto j = json::parse(out_.str());
  EXPECT_EQ(j["holder"], "h3");
  EXPECT_EQ(j["took_ms"], 7);
  EXPECT_EQ(j["address"], "10.10.0.100");
}

TEST_F(VipOps, AFailedMoveIsTheTargetsErrorNamedInTheMessage) {
  std::string reply;
  int exit_status = 0;
  answer_ = [&](const std::string&, const std::string&) {
    return ssh::RemoteResult{exit_status, reply, "", false, 1};
  };
  VipMoveOptions o;
  o.vpc = "vpc1";
  o.vip = "1";
  o.to = "h2";
  struct Case {
    int exit_status;
    std::string reply;
    const char* expect;
  };
  for (const auto& c : std::vector<Case>{
           {5, R"({"error":"the holder h3 did not hand over within 1400 ms"})",
            "did not hand over within 1400 ms"},
           {0, R"({"vpc":"vpc1","vhid":1,"holder":"h3","took_ms":3})", "another VIP or holder"},
           {0, R"({"vpc":"vpc1","vhid":1})", "invalid vip-take report"},
           {5, "", "exit 5"}}) {
    exit_status = c.exit_status;
    reply = c.reply;
    Status st = VipMove(*ctx_, o);
    ASSERT_FALSE(st.ok()) << c.reply;
    EXPECT_EQ(st.error().code, Exit::kAllFailed);
    EXPECT_NE(st.error().message.find("vip move: h2 did not take VIP 10.10.0.100 (vhid 1) of vpc1"),
              std::string::npos)
        << st.error().message;
    EXPECT_NE(st.error().message.find(c.expect), std::string::npos) << st.error().message;
  }
}

// A status report from `node` for vpc1 in which its vipd tells of the lease (or not).
model::StatusReport Status1(const std::string& node, int rank, bool holds, bool vipd) {
  model::StatusReport s;
  s.node = node;
  s.generation = 9;
  model::VpcHealth v;
  v.name = "vpc1";
  v.address = "10.10.0.2/24";
  model::VipHealth vip;
  vip.vhid = 1;
  vip.address = "10.10.0.100";
  vip.rank = rank;
  vip.holds = holds;
  if (holds) {
    vip.state = "MASTER";
    vip.since = "2026-12-01T10:00:00.000Z";
    vip.events.push_back({"MASTER", "2026-12-01T10:00:00.000Z"});
  }
  if (vipd) {
    vip.holder = "h2";
    vip.epoch = node == "h4" ? 41 : 42;
    vip.remaining_ms = node == "h2" ? 1180 : 900;
    vip.lease_state = holds ? "HOLDER" : rank >= 0 ? "STANDBY" : "ACCEPTOR";
    vip.round_ms = 2;
  }
  v.vips.push_back(vip);
  s.vpcs.push_back(v);
  s.healthy = true;
  return s;
}

TEST_F(VipOps, ShowWarnsOfALeaseShortAgainstTheMeasuredRound) {
  answer_ = [](const std::string& node, const std::string&) {
    auto report = Status1(node, node == "h4" ? -1 : node == "h2" ? 0 : 1, node == "h2", true);
    report.vpcs[0].vips[0].round_ms = node == "h3" ? 420 : 3;  // h3 is far away
    return ssh::RemoteResult{0, report.ToJson().dump(), "", false, 1};
  };
  VipShowOptions o;
  o.vpc = "vpc1";
  o.vip = "1";
  ASSERT_TRUE(VipShow(*ctx_, o).ok());
  EXPECT_NE(out_.str().find("warning: VIP 10.10.0.100 (vhid 1) of vpc1: its lease of 1350 ms is "
                            "short against the lease round of 420 ms measured on h3"),
            std::string::npos)
      << out_.str();
  EXPECT_NE(out_.str().find("`vpcctl vip set vpc1 1 --lease 4200`"), std::string::npos)
      << out_.str();
  // A lease that fits: no warning.
  VipSetOptions set;
  set.vpc = "vpc1";
  set.vip = "1";
  set.lease = "6000";
  ASSERT_TRUE(VipSet(*ctx_, set).ok());
  out_.str("");
  ASSERT_TRUE(VipShow(*ctx_, o).ok());
  EXPECT_EQ(out_.str().find("warning"), std::string::npos) << out_.str();
}

TEST_F(VipOps, ShowGathersEachMembersViewOfTheLease) {
  answer_ = [](const std::string& node, const std::string& line) {
    ssh::RemoteResult r{0, "", "", false, 1};
    if (line.find("'status' '--local' '--vpc' 'vpc1' '--json'") == std::string::npos) {
      r.exit_status = 2;
    } else if (node == "h2") {
      r.out = Status1("h2", 0, true, true).ToJson().dump();
    } else if (node == "h3") {
      r.out = Status1("h3", 1, false, false).ToJson().dump();  // its vipd did not answer
    } else {
      r.out = Status1("h4", -1, false, true).ToJson().dump();
    }
    return r;
  };
  VipShowOptions o;
  o.vpc = "vpc1";
  o.vip = "1";
  Status st = VipShow(*ctx_, o);
  ASSERT_TRUE(st.ok()) << st.error().message;
  std::string text = out_.str();
  EXPECT_EQ(lines_.size(), 3u) << "every member: " << Join(lines_, "; ");
  for (const char* want : {"lease 1350 ms, check none, witness none, preempt",
                           "holder: h2 (epoch 42, 1180 ms left); address on h2\n",
                           "MASTER at 2026-12-01T10:00:00.000Z", "HOLDER", "ACCEPTOR",
                           "1180 ms", "secret (redacted)"}) {
    EXPECT_NE(text.find(want), std::string::npos) << want << " not in:\n" << text;
  }
  // h3's row: rank 2, and "-" for every lease field.
  auto row = text.substr(text.find("\nh3 "));
  row = row.substr(1, row.find('\n', 1));
  std::vector<std::string> cells;
  for (const auto& c : Split(row, ' '))
    if (!c.empty() && c != "\n") cells.push_back(std::string(Trim(c)));
  ASSERT_GE(cells.size(), 8u) << row;
  EXPECT_EQ(cells[1], "2");
  EXPECT_EQ(cells[2], "no");
  for (size_t i = 3; i < cells.size(); ++i) EXPECT_EQ(cells[i], "-") << i << ": " << row;
  // h4 is an acceptor only: no rank.
  auto h4 = text.substr(text.find("\nh4 "), 12);
  EXPECT_NE(h4.find(" - "), std::string::npos) << h4;

  out_.str("");
  o.json = true;
  ASSERT_TRUE(VipShow(*ctx_, o).ok());
  auto j = json::parse(out_.str());
  EXPECT_EQ(j["lease"]["holder"], "h2");
  EXPECT_EQ(j["lease"]["epoch"], 42);
  EXPECT_EQ(j["lease"]["holding"], json({"h2"}));
  EXPECT_EQ(j["lease_ms"], 1350);
  ASSERT_EQ(j["group"].size(), 3u);
  EXPECT_EQ(j["group"][0]["lease_state"], "HOLDER");
  EXPECT_TRUE(j["group"][1]["holder"].is_null());
  EXPECT_TRUE(j["group"][2]["rank"].is_null());
  EXPECT_EQ(j["group"][2]["lease_state"], "ACCEPTOR");
  EXPECT_EQ(j["secret"], "(redacted)");
}

TEST_F(VipOps, VpcStatusShowsTheLeaseAndEachMembersPartInIt) {
  answer_ = [](const std::string& node, const std::string&) {
    int rank = node == "h4" ? -1 : node == "h2" ? 0 : 1;
    auto report = Status1(node, rank, node == "h2", node != "h3");
    return ssh::RemoteResult{0, report.ToJson().dump(), "", false, 1};
  };
  FanOutOptions o;
  (void)VpcStatus(*ctx_, "vpc1", o);  // unhealthy: the reports list no peers
  std::string text = out_.str();
  EXPECT_NE(text.find("VIP 10.10.0.100 (vhid 1): held by h2; lease: h2 (epoch 42, 1180 ms left)\n"
                      "  h2 HOLDER (last MASTER at 2026-12-01T10:00:00.000Z); h3 - (last -); "
                      "h4 ACCEPTOR (last -)\n"),
            std::string::npos)
      << text;
  out_.str("");
  o.json = true;
  (void)VpcStatus(*ctx_, "vpc1", o);
  auto j = json::parse(out_.str());
  EXPECT_EQ(j["vips"][0]["holders"], json({"h2"}));
  EXPECT_EQ(j["vips"][0]["lease"]["epoch"], 42);
  EXPECT_EQ(j["vips"][0]["nodes"].size(), 3u);
  EXPECT_TRUE(j["vips"][0]["warning"].is_null());
}

}  // namespace
}  // namespace vpcctl::fabric
