// Nothing a node or an on-path attacker sends can take over or crash the controller: typed
// reports with bounded, validating readers; node text made printable; fan-out workers that turn
// anything a node sends into that node's error; enrolment that pins only the confirmed key; VIP
// secrets only where they are needed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <set>

#include "fake_world.h"
#include "vpcctl/alloc/alloc.h"
#include "vpcctl/alloc/vip.h"
#include "vpcctl/fabric/node_state.h"
#include "vpcctl/plan/diff.h"
#include "vpcctl/platform/driver.h"
#include "vpcctl/fabric/deploy.h"
#include "vpcctl/fabric/vpc_status.h"
#include "vpcctl/fabric/remote.h"
#include "vpcctl/fabric/vip_ops.h"
#include "vpcctl/model/json_reader.h"
#include "vpcctl/model/map.h"
#include "vpcctl/model/reports.h"
#include "vpcctl/plan/state.h"

namespace vpcctl::fabric {
namespace {

using json = nlohmann::json;

bool HasRawControl(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 && c != '\n') return true;
  return false;
}

// --- printable text ------------------------------------------------------------------------

TEST(Printable, EscapesControlsReplacesInvalidUtf8AndBounds) {
  EXPECT_EQ(Printable("plain text, ünïcode ok"), "plain text, ünïcode ok");
  EXPECT_EQ(Printable("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
  EXPECT_EQ(Printable("line\nvpcctl: error: forged"), "line\\nvpcctl: error: forged");
  EXPECT_EQ(Printable("a\xff" "b"), "a\xef\xbf\xbd" "b");             // invalid byte
  EXPECT_EQ(Printable("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");        // overlong '/'
  EXPECT_EQ(Printable("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // surrogate
  EXPECT_EQ(Printable("\xc2\x9b" "2J"), "\\u009b2J");                 // C1 CSI
  EXPECT_EQ(Printable("abc\xe2\x80\xae" "fed"), "abc\\u202efed");      // right-to-left override
  std::string cut = Printable(std::string(100, 'x'), 10);
  EXPECT_EQ(cut, "xxxxxxx...");
  EXPECT_EQ(Printable(cut, 10), cut);  // cutting twice changes nothing
  EXPECT_EQ(Printable("\x1b\x1b\x1b", 9), "\\x1b...");  // never half an escape
}

// A quoted value is printable too: the reader quotes a node's unknown keys in its message.
TEST(Quoted, EscapesWhatPrintableEscapesAndInvalidBytesByValue) {
  EXPECT_EQ(Quoted("vpc1"), "'vpc1'");
  EXPECT_EQ(Quoted("a\\b\n\t\x1b"), "'a\\\\b\\n\\t\\x1b'");
  EXPECT_EQ(Quoted("a\xe2\x80:ddress"), "'a\\xe2\\x80:ddress'");  // truncated sequence
  EXPECT_EQ(Quoted("\xc2\x9b" "2J"), "'\\u009b2J'");             // C1 CSI
  EXPECT_EQ(Quoted("abc\xe2\x80\xae" "fed"), "'abc\\u202efed'");  // right-to-left override
  EXPECT_EQ(Quoted("ünïcode"), "'ünïcode'");
  for (const char* raw : {"a\xe2\x80:b", "\xff", "\x1b[2J", "x\xc2\x85y"}) {
    EXPECT_EQ(Printable(Quoted(raw)), Quoted(raw)) << raw;
  }
}

TEST(Redact, ReplacesEverySecretOccurrence) {
  EXPECT_EQ(Redact("ifconfig vpc1 vhid 7 pass s3cr3t alias; again s3cr3t", {"s3cr3t", ""}),
            "ifconfig vpc1 vhid 7 pass (redacted) alias; again (redacted)");
}

TEST(BoundedJson, RefusesDeepNestingBeforeParsing) {
  std::string deep(200000, '[');
  auto r = model::ParseJsonObject(deep, "report");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("nested deeper than 32"), std::string::npos);
  // Brackets inside strings are text, not nesting.
  auto ok = model::ParseJsonObject("{\"a\": \"" + std::string(100, '[') + "\"}", "report");
  EXPECT_TRUE(ok.ok());
  EXPECT_FALSE(model::ParseJsonObject("[1]", "report").ok());
  EXPECT_FALSE(model::ParseJsonObject("{", "report").ok());
}

// --- typed reports -------------------------------------------------------------------------

model::ApplyReport GoodApply(const std::string& node) {
  model::ApplyReport r;
  r.node = node;
  r.generation = 7;
  r.previous_generation = 6;
  r.duration_ms = 12.5;
  r.changes = 1;
  r.steps = {{"create-tunnel", "vpc1", "vx100", "create tunnel vx100 to h3"}};
  r.converged = true;
  r.wireguard = model::WireguardReport{"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=", "kernel"};
  return r;
}

model::StatusReport GoodStatus(const std::string& node) {
  model::StatusReport s;
  s.node = node;
  s.generation = 7;
  model::VpcHealth v;
  v.name = "vpc1";
  v.encrypted = true;
  v.address = "10.10.0.2/24";
  model::PeerHealth p;
  p.node = "h3";
  p.address = "10.10.0.3";
  p.transmitted = p.received = 3;
  p.loss_pct = 0;
  p.rtt_ms = 0.2;
  p.mtu = 1390;
  p.mtu_ok = true;
  p.encrypted = true;
  p.handshake_age_s = 4;
  v.peers.push_back(p);
  model::VipHealth vip;
  vip.vhid = 1;
  vip.address = "10.10.0.100";
  vip.rank = 0;
  vip.holds = false;  // "state": null: no transition recorded yet
  v.vips.push_back(vip);
  v.attachments.push_back({"netns", "blue", "vg1", "10.10.0.50/24", true, true});
  s.vpcs.push_back(v);
  s.healthy = true;
  return s;
}

TEST(Reports, EveryReportRoundTrips) {
  auto a = GoodApply("h2");
  EXPECT_EQ(*model::ApplyReport::FromJson(a.ToJson()), a);
  a.dry_run = true;
  a.commands = {"ip link add name vx100 type vxlan id 100"};
  a.handshakes_restarted = {"h3"};
  EXPECT_EQ(*model::ApplyReport::FromJson(a.ToJson()), a);
  model::ApplyReport none;
  none.no_map = true;
  none.converged = true;
  EXPECT_EQ(*model::ApplyReport::FromJson(none.ToJson()), none);
  auto s = GoodStatus("h2");
  auto js = s.ToJson();
  EXPECT_TRUE(js["vpcs"][0]["vips"][0]["state"].is_null());
  EXPECT_EQ(*model::StatusReport::FromJson(js), s);
  model::KeyReport k{"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=", true, false};
  EXPECT_EQ(*model::KeyReport::FromJson(k.ToJson()), k);
  model::ImportReport i{"h2", std::nullopt, 3};
  EXPECT_EQ(*model::ImportReport::FromJson(i.ToJson()), i);
}

// Each mutation of a good report, and the words its error must hold.
struct Bad {
  const char* pointer;  // JSON pointer of the field changed
  json value;           // its new value (null + remove: the field is dropped)
  bool remove;
  const char* message;
};

// Applies each mutation to `good` and expects the reader to refuse it, saying `message`.
template <class Report, size_t N>
void ExpectRefused(const json& good, const Bad (&cases)[N]) {
  for (const auto& c : cases) {
    json j = good;
    if (c.remove) {
      json::json_pointer at(c.pointer);
      j[at.parent_pointer()].erase(at.back());
    } else {
      j[json::json_pointer(c.pointer)] = c.value;
    }
    auto r = Report::FromJson(j);
    ASSERT_FALSE(r.ok()) << c.pointer;
    EXPECT_NE(r.error().message.find(c.message), std::string::npos)
        << c.pointer << ": " << r.error().message;
  }
}

TEST(Reports, ApplyReportRefusesWrongTypesRangesUnknownAndMissingFields) {
  const Bad cases[] = {
      {"/changes", "5", false, "report.changes must be an integer"},
      {"/changes", -1, false, "report.changes must be 0-"},
      {"/node", 5, false, "report.node must be a string"},
      {"/node", "h2; rm -rf /", false, "report.node is not a node name"},
      {"/steps", json::object(), false, "report.steps must be an array"},
      {"/steps/0/action", "create tunnel", false, "report.steps[0].action is not a name"},
      {"/steps/0/description", 5, false, "report.steps[0].description must be a string"},
      {"/steps/0/interface", 100, false, "report.steps[0].interface must be a string"},
      {"/converged", nullptr, true, "report.converged is missing"},
      {"/error", 5, false, "report.error must be a string"},
      {"/wireguard/public_key", "not a key", false, "is not a WireGuard public key"},
      {"/wireguard/engine", "userspace", false, "must be kernel or wireguard-go"},
      {"/duration_ms", "fast", false, "report.duration_ms must be a number"},
      {"/extra", 1, false, "'extra' is not a field of the apply report format"},
  };
  ExpectRefused<model::ApplyReport>(GoodApply("h2").ToJson(), cases);
}

TEST(Reports, StatusReportRefusesBadFieldsAndMakesTextPrintable) {
  const Bad cases[] = {
      {"/vpcs/0/peers/0/loss_pct", 101, false, "loss_pct is out of range"},
      {"/vpcs/0/peers/0/node", 7, false, "peers[0].node must be a string"},
      {"/vpcs/0/peers/0/mtu", 70000, false, "peers[0].mtu must be 0-65535"},
      {"/vpcs/0/peers/0/mtu", nullptr, true, "peers[0].mtu is missing"},
      {"/vpcs/0/peers/0/mtu_ok", "yes", false, "peers[0].mtu_ok must be true or false"},
      {"/vpcs/0/peers/0/path_mtu", 1300, false, "path_mtu comes only with mtu_ok false"},
      {"/vpcs/0/vips/0/vhid", 256, false, "vips[0].vhid must be 1-255"},
      {"/vpcs/0/vips/0/state", 3, false, "vips[0].state must be a string"},
      {"/vpcs/0/address", "10.10.0.2", false, "is not an address with prefix"},
      {"/vpcs/0/name", "vpc1\u001b", false, "is not a VPC name"},
      {"/healthy", "yes", false, "report.healthy must be true or false"},
      {"/generation", nullptr, true, "report.generation is missing"},
  };
  ExpectRefused<model::StatusReport>(GoodStatus("h2").ToJson(), cases);
  json j = GoodStatus("h2").ToJson();
  j["stray"] = {"destroy vx9\x1b]0;owned\x07"};
  j["vpcs"][0]["drift"] = {{{"action", "destroy"}, {"vpc", "vpc1"}, {"interface", "vx9"},
                            {"description", std::string("bad \xff utf8 \x1b[2J")}}};
  auto r = model::StatusReport::FromJson(j);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->stray[0], "destroy vx9\\x1b]0;owned\\x07");
  EXPECT_EQ(r->vpcs[0].drift[0].description, "bad \xef\xbf\xbd utf8 \\x1b[2J");
  EXPECT_NO_THROW(r->ToJson().dump());
}

// --- one node's answer ---------------------------------------------------------------------

Answer Read(const std::string& out, ReportKind kind, int exit_status = 0,
            const std::string& err = "") {
  Answer a;
  a.node = "h3";
  ReadAnswer(ssh::RemoteResult{exit_status, out, err, false, 1}, kind, FanOutLimits{}, a);
  return a;
}

TEST(ReadAnswer, AnythingANodePrintsIsItsErrorAndPrintable) {
  struct Case {
    std::string out;
    std::string err;
    int exit;
    const char* message;
  };
  std::string deep = "{\"a\":" + std::string(100000, '[');
  const Case cases[] = {
      {R"({"error":5})", "", 1, "its error is not a string"},
      {deep, "", 0, "nested deeper than 32 levels"},
      {R"({"node":"h3"})", "", 0, "invalid apply report: report.dry_run is missing"},
      {R"({"node":1,"changes":"x"})", "", 0, "invalid apply report"},
      {R"({"error":"boom \u001b[2J\u0085 \u202e"})", "", 1, "boom \\x1b[2J\\u0085 \\u202e"},
      // Raw control bytes or invalid UTF-8 inside a string are not JSON.
      {"{\"error\":\"\x1b[2J\xff\"}", "", 1, "answered an invalid report: not a JSON document"},
      {"not json \x1b]2;title\x07", "", 3, "exit 3: not json \\x1b]2;title\\x07"},
      {"", "sudo: a password is required\n\x1b[1m", 1, "exit 1: sudo: a password is required"},
      {"{\"truncated\": [1, 2", "", 0, "answered an invalid report: not a JSON document"},
      {"", "", 127, "vpcctl is not installed there"},
  };
  for (const auto& c : cases) {
    Answer a = Read(c.out, ReportKind::kApply, c.exit, c.err);
    EXPECT_TRUE(a.reached);
    EXPECT_FALSE(a.Get<model::ApplyReport>()) << c.message;
    EXPECT_NE(a.error.find(c.message), std::string::npos) << a.error;
    EXPECT_FALSE(HasRawControl(a.error)) << a.error;
  }
}

TEST(ReadAnswer, AValidReportIsTypedAndItsErrorKept) {
  Answer ok = Read(GoodApply("h3").ToJson().dump(), ReportKind::kApply);
  EXPECT_TRUE(ok.error.empty()) << ok.error;
  ASSERT_NE(ok.Get<model::ApplyReport>(), nullptr);
  EXPECT_EQ(ok.Get<model::ApplyReport>()->changes, 1u);
  auto failed = GoodApply("h3");
  failed.error = "`ip -batch -` failed with exit 2: RTNETLINK answers: File exists";
  Answer f = Read(failed.ToJson().dump(), ReportKind::kApply, 1);
  EXPECT_EQ(f.error, *failed.error);
  EXPECT_NE(f.Get<model::ApplyReport>(), nullptr);
  // status --local exits 5 with a full report when something is down: not an error of its own.
  auto sick = GoodStatus("h3");
  sick.healthy = false;
  Answer s = Read(sick.ToJson().dump(), ReportKind::kStatus, 5);
  EXPECT_TRUE(s.error.empty()) << s.error;
  ASSERT_NE(s.Get<model::StatusReport>(), nullptr);
  EXPECT_FALSE(s.Get<model::StatusReport>()->vpcs[0].vips[0].state.has_value());
  Answer wrong_kind = Read(sick.ToJson().dump(), ReportKind::kKey);
  EXPECT_NE(wrong_kind.error.find("invalid key report"), std::string::npos);
}

// --- the whole fan-out, with hostile nodes -----------------------------------------------------

class Hostile : public FakeWorld {
 protected:
  // h2 and h3 enrolled, both members of plain vpc1 with a VIP on both.
  void SetUp() override {
    FakeWorld::SetUp();
    EnrolHosts({"h2", "h3"});
    PlainVpc("vpc1", "10.10.0.0/24", "h2,h3");
    other = [this](const std::string& ip, const std::string& line, const std::string& input) {
      std::string node = "h" + ip.substr(ip.rfind('.') + 1);
      inputs_[node] = input;
      ssh::RemoteResult r{0, "", "", false, 1};
      if (node == "h3" && hostile_) return *hostile_;
      if (line.find("'apply'") != std::string::npos) r.out = GoodApply(node).ToJson().dump();
      if (line.find("'status'") != std::string::npos) r.out = GoodStatus(node).ToJson().dump();
      return r;
    };
  }

  std::optional<ssh::RemoteResult> hostile_;
  std::map<std::string, std::string> inputs_;
};

TEST_F(Hostile, DeployAndStatusSurviveEveryBadAnswerAsThatNodesFailure) {
  std::string nested = std::string(300000, '[');
  std::string big(8 << 20, 'A');
  const std::string outputs[] = {
      R"({"error":5})",
      nested,
      "{\"node\":\"h3\",\"changes\":\"many\"}",
      "{}",
      "{\"error\":\"\x1b]0;pwned\x07\x1b[2J\xc3\x28\nvpcctl: error: forged\"}",
      big,
  };
  for (const auto& text : outputs) {
    hostile_ = ssh::RemoteResult{0, text, "\x1b[31m", false, 1};
    out_.str("");
    err_.str("");
    DeployOptions d;
    d.vpc = "vpc1";
    Status st = Deploy(*ctx_, d);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, Exit::kPartial) << st.error().message;
    EXPECT_NE(out_.str().find("h2: converged"), std::string::npos) << out_.str();
    EXPECT_NE(out_.str().find("h3: FAILED"), std::string::npos) << out_.str();
    EXPECT_FALSE(HasRawControl(out_.str() + err_.str() + st.error().message));
    EXPECT_EQ(out_.str().find("\nvpcctl: error: forged"), std::string::npos);

    out_.str("");
    Status status = VpcStatus(*ctx_, "vpc1", FanOutOptions{});
    EXPECT_EQ(status.error().code, Exit::kNotConverged);
    EXPECT_NE(out_.str().find("h3: "), std::string::npos) << out_.str();
    EXPECT_FALSE(HasRawControl(out_.str()));
  }
}

TEST_F(Hostile, DeployJsonStaysValidUtf8) {
  hostile_ = ssh::RemoteResult{1, "\xff\xfe bad", "", false, 1};
  DeployOptions d;
  d.json = true;
  out_.str("");
  Status st = Deploy(*ctx_, d);
  EXPECT_EQ(st.error().code, Exit::kPartial);
  auto j = json::parse(out_.str());  // throws on invalid UTF-8
  EXPECT_EQ(j["nodes"][1]["error"], "exit 1: \xef\xbf\xbd\xef\xbf\xbd bad");
}

TEST_F(Hostile, EachNodeGetsOnlyTheSecretsOfTheLeasesItTakesPartIn) {
  // vpc1 is h2 and h3; h4 witnesses its VIP from outside; h5 shares vpc2 with h4 only.
  EnrolLinux("h4", "192.0.2.4");
  EnrolLinux("h5", "192.0.2.5");
  PlainVpc("vpc2", "10.20.0.0/24", "h4,h5");
  std::ofstream(dir_ + "/vip.secret") << "Sup3rS3cret\n";
  VipAddOptions v;
  v.vpc = "vpc1";
  v.address = "10.10.0.100";
  v.vhid = "1";
  v.nodes = "h2,h3";
  v.witness = "h4";
  v.password_file = dir_ + "/vip.secret";
  ASSERT_TRUE(VipAdd(*ctx_, v).ok());
  DeployOptions d;
  Status st = Deploy(*ctx_, d);
  ASSERT_TRUE(st.ok()) << st.error().message;
  for (const char* n : {"h2", "h3", "h4"}) {
    EXPECT_NE(inputs_[n].find("Sup3rS3cret"), std::string::npos) << n;
  }
  ASSERT_FALSE(inputs_["h5"].empty()) << "h5 was deployed (vpc2)";
  EXPECT_EQ(inputs_["h5"].find("Sup3rS3cret"), std::string::npos);
  // h5's map parses, withholds the secret, and h5 builds its part of it.
  auto map = model::ParseMap(inputs_["h5"]);
  ASSERT_TRUE(map.ok()) << map.error().message;
  EXPECT_TRUE(map->fabric.FindVpc("vpc1")->vips[0].secret.empty());
  EXPECT_TRUE(plan::DesiredFor(map->fabric, "h5").ok());
  // A map that withholds the secret from a node of the lease is refused by that node.
  for (const char* n : {"h2", "h4"}) {
    auto desired = plan::DesiredFor(map->fabric, n);
    ASSERT_FALSE(desired.ok()) << n;
    EXPECT_NE(desired.error().message.find(std::string("withholds its secret from ") + n),
              std::string::npos)
        << desired.error().message;
  }
  // The witness's own map gives it its part of the lease.
  auto witness = model::ParseMap(inputs_["h4"]);
  ASSERT_TRUE(witness.ok()) << witness.error().message;
  auto part = plan::DesiredFor(witness->fabric, "h4");
  ASSERT_TRUE(part.ok()) << part.error().message;
  ASSERT_EQ(part->witness_vips.size(), 1u);
  EXPECT_EQ(part->witness_vips[0].vip.secret, "Sup3rS3cret");
}

// --- enrolment through a relay ---------------------------------------------------------------

TEST_F(FakeWorld, EnrolmentAcceptsOnlyTheConfirmedKeyOnLaterConnections) {
  // The first connection reaches the real host (key A, confirmed by fingerprint); once it is
  // done, a relay sends the next connections to an impostor that presents key B.
  ssh_.AddHost("192.0.2.9", 22, LinuxHost(kKeyA, "192.0.2.9"));
  WritePassword("s3cret");
  size_t before_swap = 0;
  other = [&](const std::string&, const std::string&, const std::string&) {
    return ssh::RemoteResult{127, "", "", false, 1};
  };
  auto* host = ssh_.Find("192.0.2.9", 22);
  auto real = host->handler;
  host->handler = [&, real](const std::string& line, const std::string& input) {
    auto r = real(line, input);
    if (line.find("'--version'") != std::string::npos) {
      ssh_.Find("192.0.2.9", 22)->key = kKeyB;  // the relay switches
      before_swap = ssh_.Commands("192.0.2.9", 22).size();
    }
    return r;
  };
  auto o = Add("h9", "192.0.2.9");
  o.yes = false;
  o.fingerprint = *ssh::Fingerprint(kKeyA.Line());
  Status st = NodeAdd(*ctx_, o);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("not the " + o.fingerprint + " confirmed on the first"),
            std::string::npos)
      << st.error().message;
  auto pins = ssh::LoadKnownHosts(dir_ + "/state/known_hosts");
  ASSERT_TRUE(pins.ok());
  EXPECT_FALSE(pins->Find("192.0.2.9", 22).has_value());  // nothing pinned
  EXPECT_FALSE(NodeShow(*ctx_, "h9", false).ok());  // nothing recorded
  EXPECT_EQ(ssh_.Commands("192.0.2.9", 22).size(), before_swap);  // nothing sent to the impostor
}

}  // namespace
}  // namespace vpcctl::fabric

namespace vpcctl::fabric {
namespace {

// The fuzzers' seeds are real reports: each is accepted as its kind (the fuzzers start from
// inside the format, not from its first error).
TEST(Reports, FuzzSeedsAreAcceptedReports) {
  for (const char* f : {"converged.json", "dry-run-failed.json", "no-map.json"}) {
    auto r = model::ParseReport<model::ApplyReport>(
        testing::ReadData(std::string("fuzz/corpus/apply_report/") + f));
    EXPECT_TRUE(r.ok()) << f << ": " << r.error().message;
  }
  for (const char* f : {"healthy.json", "plain.json"}) {
    auto r = model::ParseReport<model::StatusReport>(
        testing::ReadData(std::string("fuzz/corpus/status_report/") + f));
    EXPECT_TRUE(r.ok()) << f << ": " << r.error().message;
  }
  EXPECT_TRUE(model::ParseReport<model::KeyReport>(
                  testing::ReadData("fuzz/corpus/key_report/rotated.json"))
                  .ok());
  EXPECT_TRUE(model::ParseReport<model::ImportReport>(
                  testing::ReadData("fuzz/corpus/import_report/first.json"))
                  .ok());
}

}  // namespace
}  // namespace vpcctl::fabric

namespace vpcctl::fabric {
namespace {

TEST(ParseVersion, AcceptsVersionsOnly) {
  EXPECT_EQ(ParseVersion("0.1.0\n"), "0.1.0");
  EXPECT_EQ(ParseVersion("vpcctl 0.1.0\n"), "0.1.0");  // what --version prints
  EXPECT_EQ(ParseVersion("1.2.3-rc1+deb12~1"), "1.2.3-rc1+deb12~1");
  EXPECT_EQ(ParseVersion("12.4"), "12.4");
  for (const char* bad : {"", "1", "v1.2", "1..2", "1.2.", "1.2.3.4.5", "1.2 beta", "1.2\x1b[2J",
                          "{\"error\":5}", "1.2-\xff"}) {
    EXPECT_FALSE(ParseVersion(bad).has_value()) << bad;
  }
  EXPECT_FALSE(ParseVersion(std::string(65, '1') + ".0").has_value());
}

}  // namespace
}  // namespace vpcctl::fabric


namespace vpcctl::fabric {
namespace {

// Every step a real plan holds (WireGuard owned by "wg-transport", files by path, daemons by
// name, VIPs, the firewall) travels in a report that the controller accepts.
TEST(Reports, EveryStepOfARealPlanIsAccepted) {
  model::Fabric f = testing::EncryptedSample();
  alloc::VipSpec vip;
  vip.vpc = "vpc1";
  vip.address = "10.100.0.250";
  vip.vhid = 10;
  vip.nodes = {"h3", "h1"};
  vip.secret = "s3cretS3cret";
  ASSERT_TRUE(alloc::AddVip(f, vip).ok());
  auto desired = plan::DesiredFor(f, "h1");
  ASSERT_TRUE(desired.ok()) << desired.error().message;
  desired->platform = model::Platform::kLinux;
  platform::DriverFor(model::Platform::kLinux)
      .AddNodeSetup(*desired, platform::NodeEnv{"/usr/sbin/vpcctl", "/var/lib/vpcctl"});
  desired->wireguard->public_key = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
  auto steps = plan::Diff(*desired, plan::Observed{});
  ASSERT_TRUE(steps.ok()) << steps.error().message;
  model::ApplyReport r;
  r.node = "h1";
  r.steps = StepReports(*steps);
  std::set<std::string> actions;
  for (const auto& s : r.steps) actions.insert(s.action);
  for (const char* a : {"create-wireguard", "write-file", "start-daemon", "load-firewall"}) {
    EXPECT_TRUE(actions.count(a)) << a;
  }
  auto back = model::ApplyReport::FromJson(r.ToJson());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, r);
}

}  // namespace
}  // namespace vpcctl::fabric
