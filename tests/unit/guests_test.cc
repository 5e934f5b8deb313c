// attach on a Linux node, with its commands answered by a fake runner over a probe fixture that
// holds vpc1's bridge: bad options are all named at once and change nothing, a dry run records
// nothing, an attachment is recorded with its interface, and what may not join is refused.
#include "vpcctl/fabric/guests.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fake_node.h"

namespace vpcctl::fabric {
namespace {

using json = nlohmann::json;

class GuestsTest : public FakeNode {
 protected:
  void SetUp() override {
    FakeNode::SetUp();
    Hold(testing::SampleFabric());
    runner_.On({"ip", "-j", "-d", "addr"},
               testing::ReadData("fixtures/linux/h1-vpc1.ip-d-addr.json"));
    runner_.On({"ip", "-j", "netns"}, R"([{"name":"blue"}])");
    runner_.On({"ip"}, "");
  }
  Status Run(const AttachOptions& o) {
    out_.str("");
    Context ctx = Ctx("attach");
    return Attach(ctx, o);
  }
  std::vector<model::Attachment> Recorded() {
    auto db = store::Store::Open(store::StatePaths{dir_ + "/state"}.db(), false, nullptr);
    EXPECT_TRUE(db.ok());
    auto r = (*db)->Attachments();
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<model::Attachment>{};
  }
  // Commands run other than the probe's listings (`ip -j ...`).
  size_t CommandsRun() {
    size_t n = 0;
    for (const auto& c : runner_.calls()) n += !(c.size() > 1 && c[0] == "ip" && c[1] == "-j");
    return n;
  }
  static AttachOptions Netns(const std::string& ip) {
    AttachOptions o;
    o.vpc = "vpc1";
    o.kind = "netns";
    o.guest = "blue";
    o.ip = ip;
    o.json = true;
    return o;
  }
};

TEST_F(GuestsTest, EveryBadOptionIsNamedAtOnceAndNothingIsTouched) {
  AttachOptions o;
  o.vpc = "Bad VPC";
  o.kind = "vm";
  o.guest = "vm1";
  o.ip = "10.100.0.300/24";
  o.mac = "01:00:5e:00:00:01";
  Status st = Run(o);
  ASSERT_FALSE(st.ok());
  const std::string& m = st.error().message;
  EXPECT_EQ(st.error().code, Exit::kUsage);
  EXPECT_NE(m.find("Bad VPC"), std::string::npos) << m;
  EXPECT_NE(m.find("invalid MAC address '01:00:5e:00:00:01'"), std::string::npos) << m;
  EXPECT_NE(m.find("a VM configures its own (drop --ip 10.100.0.300/24)"), std::string::npos) << m;
  EXPECT_NE(m.find("invalid --ip '10.100.0.300/24'"), std::string::npos) << m;
  o = Netns("10.100.0.0/24");
  st = Run(o);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("not a usable host address"), std::string::npos);
  o.kind = "container";
  st = Run(o);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("container"), std::string::npos) << st.error().message;
  EXPECT_TRUE(runner_.calls().empty());
  EXPECT_TRUE(Recorded().empty());
}

TEST_F(GuestsTest, ADryRunPrintsTheCommandsAndRecordsNothing) {
  AttachOptions o = Netns("10.100.0.50/24");
  o.dry_run = true;
  ASSERT_TRUE(Run(o).ok()) << out_.str();
  json j = json::parse(out_.str());
  EXPECT_EQ(j["dry_run"], true);
  std::string cmds = j["commands"].dump();
  EXPECT_NE(cmds.find("type veth peer"), std::string::npos) << cmds;
  EXPECT_NE(cmds.find("netns blue"), std::string::npos) << cmds;
  EXPECT_NE(cmds.find("10.100.0.50/24"), std::string::npos) << cmds;
  EXPECT_EQ(CommandsRun(), 0u);
  EXPECT_TRUE(Recorded().empty());
}

TEST_F(GuestsTest, AnAttachmentIsRunAndRecorded) {
  ASSERT_TRUE(Run(Netns("10.100.0.50/24")).ok()) << out_.str();
  json j = json::parse(out_.str());
  EXPECT_EQ(j["guest"], "blue");
  EXPECT_EQ(j["mtu"], testing::SampleFabric().FindVpc("vpc1")->mtu);
  // The host side in batches, the namespace side with `ip -n blue` (no batch takes -n).
  size_t run = CommandsRun();
  EXPECT_GE(run, 2u);
  bool inside = false;
  for (const auto& c : runner_.calls()) inside = inside || (c.size() > 2 && c[1] == "-n");
  EXPECT_TRUE(inside);
  auto recorded = Recorded();
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0].guest, "blue");
  EXPECT_EQ(recorded[0].address->ToString(), "10.100.0.50/24");
  EXPECT_EQ(j["interface"], recorded[0].ifname);
  // The same namespace again is refused, naming where it is attached.
  Status again = Run(Netns("10.100.0.51/24"));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("netns 'blue' is already attached (to vpc1, through " +
                                       recorded[0].ifname + ")"),
            std::string::npos)
      << again.error().message;
  EXPECT_EQ(CommandsRun(), run);
}

TEST_F(GuestsTest, WhatMayNotJoinIsRefusedBeforeAnyCommand) {
  // A namespace that does not exist.
  AttachOptions o = Netns("10.100.0.50/24");
  o.guest = "green";
  Status st = Run(o);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("network namespace 'green' does not exist"), std::string::npos)
      << st.error().message;
  // A member's overlay address.
  std::string h2 = testing::SampleFabric().FindVpc("vpc1")->members[1].overlay.ToString();
  st = Run(Netns(h2 + "/24"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("address " + h2 + " is node h2's overlay address in vpc1"),
            std::string::npos)
      << st.error().message;
  // A VPC this node holds no part of.
  o = Netns("10.100.0.50/24");
  o.vpc = "vpc9";
  st = Run(o);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("unknown VPC 'vpc9' (not in this node's map)"),
            std::string::npos)
      << st.error().message;
  EXPECT_EQ(CommandsRun(), 0u);
  EXPECT_TRUE(Recorded().empty());
}

// After an attachment: `attachments` shows it with its interface's state, and `detach` removes
// the interface when it is there, then the record; a guest that is not attached is named.
TEST_F(GuestsTest, AttachmentsShowsTheStateAndDetachRemovesTheInterfaceThenTheRecord) {
  ASSERT_TRUE(Run(Netns("10.100.0.50/24")).ok()) << out_.str();
  std::string ifname = Recorded().at(0).ifname;
  Context ctx = Ctx("attachments");
  out_.str("");
  ASSERT_TRUE(Attachments(ctx, "vpc1", true).ok());
  json listed = json::parse(out_.str());
  ASSERT_EQ(listed["attachments"].size(), 1u);
  EXPECT_EQ(listed["attachments"][0]["state"], "missing") << "the probe does not list it yet";
  // The host side of the pair, on the bridge and up, as the kernel now lists it.
  json links = json::parse(testing::ReadData("fixtures/linux/h1-vpc1.ip-d-addr.json"));
  links.push_back({{"ifindex", 40},
                   {"ifname", ifname},
                   {"flags", {"BROADCAST", "UP"}},
                   {"mtu", 1450},
                   {"master", "vpc1"},
                   {"operstate", "UP"},
                   {"address", "02:00:00:00:00:40"},
                   {"addr_info", json::array()},
                   {"linkinfo", {{"info_kind", "veth"}, {"info_slave_kind", "bridge"}}}});
  runner_.On({"ip", "-j", "-d", "addr"}, links.dump());
  out_.str("");
  ASSERT_TRUE(Attachments(ctx, "", false).ok());
  EXPECT_NE(out_.str().find(ifname), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find(" up"), std::string::npos) << out_.str();

  Status unknown = Detach(ctx, "vpc1", "green");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("no guest 'green' is attached to 'vpc1'"),
            std::string::npos)
      << unknown.error().message;
  size_t before = CommandsRun();
  out_.str("");
  ASSERT_TRUE(Detach(ctx, "vpc1", "blue", true).ok());
  json j = json::parse(out_.str());
  EXPECT_EQ(j["interface"], ifname);
  EXPECT_EQ(j["interface_removed"], true);
  EXPECT_GT(CommandsRun(), before);
  EXPECT_TRUE(Recorded().empty());
}

// A guest whose interface is already gone (its namespace deleted): the record goes, no command
// runs, and the message says the interface was already gone.
TEST_F(GuestsTest, DetachOfAGuestWhoseInterfaceIsGoneForgetsItWithoutACommand) {
  ASSERT_TRUE(Run(Netns("10.100.0.50/24")).ok()) << out_.str();
  size_t before = CommandsRun();
  Context ctx = Ctx("detach");
  out_.str("");
  ASSERT_TRUE(Detach(ctx, "vpc1", "blue").ok());
  EXPECT_NE(out_.str().find("was already gone"), std::string::npos) << out_.str();
  EXPECT_EQ(CommandsRun(), before);
  EXPECT_TRUE(Recorded().empty());
}

}  // namespace
}  // namespace vpcctl::fabric
