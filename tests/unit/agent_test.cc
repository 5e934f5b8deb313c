// The node agent: its listing cache (reused only while the kernel reports no change that could
// touch it), its answers, how the controller's fan-out reaches it and falls back to the command,
// and the daemon apply keeps running for it.
#include <gtest/gtest.h>
#include <sys/socket.h>
#ifdef __linux__
#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#endif
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "fake_client.h"
#include "fake_clock.h"
#include "fake_prober.h"
#include "fake_runner.h"
#include "testing.h"
#include "vpcctl/agent/listing_cache.h"
#include "vpcctl/agent/netlink_listings.h"
#include "vpcctl/agent/protocol.h"
#include "vpcctl/base/output_cap.h"
#include "vpcctl/exec/runner.h"
#include "vpcctl/exec/terminal.h"
#include "vpcctl/fabric/remote.h"
#include "vpcctl/plan/diff.h"
#include "vpcctl/platform/driver.h"
#include "vpcctl/platform/linux.h"

namespace vpcctl::agent {
namespace {

using exec::Argv;

class ScriptedFeed : public ChangeFeed {
 public:
  Changes Poll() override {
    Changes c = next_;
    next_ = Changes{};
    ++polls_;
    return c;
  }
  Changes next_;
  int polls_ = 0;
};

class ListingCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    runner_.On({"ip", "-j", "-d", "addr", "show"}, [this](const Argv&, const std::string&) {
      exec::CommandResult r;
      r.out = "[{\"ifname\":\"vpc1\",\"n\":" + std::to_string(++reads_) + "}]";
      return r;
    });
    runner_.On({"ip", "-j", "neigh"},
               "[{\"dst\":\"10.100.0.2\",\"lladdr\":\"02:00:01:64:00:02\"}]");
    runner_.On({"wg"}, "peer\t1700000000\n");
    runner_.On({"nft"}, "", 1);
  }
  Result<exec::CommandResult> Run(const Argv& argv) {
    return cache_.Run(argv, "", std::chrono::seconds(5));
  }
  size_t Calls(const std::string& program) {
    size_t n = 0;
    for (const auto& c : runner_.calls()) n += c[0] == program;
    return n;
  }

  const Argv addr_{"ip", "-j", "-d", "addr", "show"};
  const Argv neigh_{"ip", "-j", "neigh", "show", "nud", "permanent"};
  const Argv nft_{"nft", "list", "table", "inet", "vpcctl"};
  int reads_ = 0;
  exec::FakeRunner runner_;
  ScriptedFeed feed_;
  testing::FakeClock clock_{1'800'000'000'000};
  ListingCache cache_{runner_, feed_, {addr_, neigh_, nft_}, clock_, std::chrono::seconds(30)};
};

TEST_F(ListingCacheTest, AListingIsReusedWhileTheKernelReportsNoChange) {
  auto first = Run(addr_);
  auto second = Run(addr_);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(second->out, first->out);
  EXPECT_EQ(runner_.calls().size(), 1u);
  EXPECT_EQ(cache_.hits(), 1);
  EXPECT_EQ(cache_.runs(), 1);
  EXPECT_EQ(feed_.polls_, 2) << "the feed is read before every lookup";
}

TEST_F(ListingCacheTest, AnyLinkAddressPinOrFirewallChangeDropsEveryListing) {
  (void)Run(addr_);
  (void)Run(neigh_);
  feed_.next_.all = true;
  auto again = Run(addr_);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->out.find("\"n\":2"), std::string::npos) << "read again: " << again->out;
  (void)Run(neigh_);
  EXPECT_EQ(runner_.calls().size(), 4u) << "both listings were read again";
}

TEST_F(ListingCacheTest, ALearntNeighbourDropsOnlyTheListingsThatNameIt) {
  (void)Run(addr_);
  (void)Run(neigh_);
  feed_.next_.neighbours = {"10.77.0.1"};  // the gateway ageing: named by no listing
  (void)Run(addr_);
  (void)Run(neigh_);
  EXPECT_EQ(runner_.calls().size(), 2u);
  feed_.next_.neighbours = {"10.100.0.2"};  // a pinned peer turned into a learnt entry
  (void)Run(addr_);
  (void)Run(neigh_);
  EXPECT_EQ(runner_.calls().size(), 3u) << "only the neighbour listing names it";
  EXPECT_EQ(runner_.calls().back(), neigh_);
}

TEST_F(ListingCacheTest, ListingsAreReadAgainOnceTheyAreOld) {
  (void)Run(addr_);
  clock_.Advance(29'999);
  (void)Run(addr_);
  EXPECT_EQ(runner_.calls().size(), 1u);
  clock_.Advance(1);
  (void)Run(addr_);
  EXPECT_EQ(runner_.calls().size(), 2u);
  clock_.Advance(-60'000);  // the wall clock stepped back: not trusted
  (void)Run(addr_);
  EXPECT_EQ(runner_.calls().size(), 3u);
}

TEST_F(ListingCacheTest, EachListingLivesItsOwnTimeWithinTheSpread) {
  // Agents filled by one status must not all read their listings again in the same later one.
  std::set<int64_t> lives;
  for (int round = 0; round < 40; ++round) {
    exec::FakeRunner runner;
    runner.On({"ip"}, "[]");
    ListingCache cache(runner, feed_, {addr_}, clock_, std::chrono::seconds(30),
                       std::chrono::seconds(30));
    (void)cache.Run(addr_, "", std::chrono::seconds(5));
    int64_t lived = 0;
    while (runner.calls().size() == 1 && lived <= 60'000) {
      clock_.Advance(500);
      lived += 500;
      (void)cache.Run(addr_, "", std::chrono::seconds(5));
    }
    EXPECT_GT(lived, 29'500) << "read again before 30 s";
    EXPECT_LE(lived, 60'000) << "kept past 30 s plus the spread";
    lives.insert(lived);
  }
  EXPECT_GT(lives.size(), 10u) << "the lives are spread, not one";
}

TEST_F(ListingCacheTest, OtherCommandsAndFailedListingsAlwaysRun) {
  Argv wg = {"wg", "show", "wg-vpcctl", "dump"};
  (void)Run(wg);
  (void)Run(wg);
  EXPECT_EQ(Calls("wg"), 2u) << "WireGuard's handshakes change by themselves";
  (void)Run(nft_);
  (void)Run(nft_);
  EXPECT_EQ(Calls("nft"), 2u) << "a listing that failed is not kept";
  (void)cache_.Run(addr_, "input", std::chrono::seconds(5));
  (void)cache_.Run(addr_, "input", std::chrono::seconds(5));
  EXPECT_EQ(Calls("ip"), 2u) << "a command given input is not a listing";
}

TEST_F(ListingCacheTest, TheKernelFeedOfThisMachineReportsAChangeItCannotSee) {
  // Not a promise that nothing changed: a feed that cannot subscribe says everything did.
  auto feed = KernelChangeFeed();
  ASSERT_NE(feed, nullptr);
  ListingCache cache(runner_, *feed, {addr_}, clock_, std::chrono::seconds(30));
  (void)cache.Run(addr_, "", std::chrono::seconds(5));
  (void)cache.Run(addr_, "", std::chrono::seconds(5));
  EXPECT_EQ(cache.runs() + cache.hits(), 2);
}

#ifdef __linux__
// One rtnetlink neighbour message: `state`, `family` and, when given, its address.
void AppendNeighbour(std::string& datagram, uint16_t type, uint8_t family, uint16_t state,
                     const std::string& dst) {
  unsigned char addr[16] = {};
  size_t alen = 0;
  if (!dst.empty()) {
    alen = inet_pton(AF_INET, dst.c_str(), addr) == 1 ? 4 : 16;
    if (alen == 16) {
      ASSERT_EQ(inet_pton(AF_INET6, dst.c_str(), addr), 1);
    }
  }
  size_t attrs = alen ? RTA_SPACE(alen) : 0;
  std::string m(NLMSG_SPACE(sizeof(ndmsg) + attrs), '\0');
  auto* h = reinterpret_cast<nlmsghdr*>(m.data());
  h->nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(sizeof(ndmsg) + attrs));
  h->nlmsg_type = type;
  auto* nd = static_cast<ndmsg*>(NLMSG_DATA(h));
  nd->ndm_family = family;
  nd->ndm_state = state;
  if (alen) {
    auto* a = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(nd) + NLMSG_ALIGN(sizeof(ndmsg)));
    a->rta_type = NDA_DST;
    a->rta_len = static_cast<uint16_t>(RTA_LENGTH(alen));
    std::memcpy(RTA_DATA(a), addr, alen);
  }
  datagram += m;
}

TEST(KernelNotifications, OnlyPermanentNeighboursLinksAndAddressesTouchEveryListing) {
  std::string d;
  // The kernel collecting the multicast entry IPv6 made on a tunnel: no listing shows it.
  AppendNeighbour(d, RTM_DELNEIGH, AF_INET6, NUD_NOARP, "ff02::2");
  AppendNeighbour(d, RTM_NEWNEIGH, AF_INET, NUD_STALE, "10.77.0.1");
  AppendNeighbour(d, RTM_NEWNEIGH, AF_BRIDGE, NUD_REACHABLE, "");  // a learnt forwarding entry
  Changes c = RouteChanges(d.data(), d.size());
  EXPECT_FALSE(c.all);
  EXPECT_EQ(c.neighbours, (std::set<std::string>{"ff02::2", "10.77.0.1"}));

  // Deleting a pin reports it FAILED, with its address: the listings that show it are dropped.
  d.clear();
  AppendNeighbour(d, RTM_NEWNEIGH, AF_INET, NUD_FAILED, "10.100.0.2");
  c = RouteChanges(d.data(), d.size());
  EXPECT_FALSE(c.all);
  EXPECT_EQ(c.neighbours, (std::set<std::string>{"10.100.0.2"}));

  for (uint16_t state : {NUD_PERMANENT, NUD_PERMANENT | NUD_NOARP}) {
    d.clear();
    AppendNeighbour(d, RTM_NEWNEIGH, AF_INET, state, "10.100.0.3");  // a pin set
    EXPECT_TRUE(RouteChanges(d.data(), d.size()).all) << state;
  }
  d.clear();
  AppendNeighbour(d, RTM_NEWNEIGH, AF_INET, NUD_STALE, "10.77.0.1");
  std::string link(NLMSG_SPACE(sizeof(ifinfomsg)), '\0');
  auto* h = reinterpret_cast<nlmsghdr*>(link.data());
  h->nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(sizeof(ifinfomsg)));
  h->nlmsg_type = RTM_NEWLINK;
  d += link;
  EXPECT_TRUE(RouteChanges(d.data(), d.size()).all) << "a link message after a neighbour one";
}
#endif

#ifdef __linux__
TEST(NetlinkListings, TheyParseToWhatIpPrintsOnThisMachine) {
  // This machine's own links (the e2e agent test checks a node's bridge, tunnels and pins).
  exec::LocalRunner local;
  auto links = DumpLinks();
  ASSERT_TRUE(links.ok()) << links.error().message;
  auto parsed = platform::ParseIpLink(*links);
  ASSERT_TRUE(parsed.ok());
  bool lo = false;
  for (const auto& i : *parsed) lo = lo || (i.name == "lo" && i.up && i.mtu > 0);
  EXPECT_TRUE(lo) << *links;
  Status same = CheckNetlinkListings(local);
  EXPECT_TRUE(same.ok()) << same.error().message;

  // The Runner answers those two and nothing else.
  exec::FakeRunner inner;
  inner.On({"ip"}, "[]");
  NetlinkListings native(inner);
  auto r = native.Run(platform::LinuxLinkProbe(), "", std::chrono::seconds(5));
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->out, "[]");
  (void)native.Run(platform::LinuxNeighbourProbe(), "", std::chrono::seconds(5));
  EXPECT_TRUE(inner.calls().empty());
  (void)native.Run({"ip", "-j", "link", "show"}, "", std::chrono::seconds(5));
  EXPECT_EQ(inner.calls().size(), 1u);
}
#endif

TEST(AgentAnswer, AnAnswerIsTheCommandsResult) {
  auto r = ParseAnswer(R"({"exit":5,"out":"{\"node\":\"h2\"}","err":"vpcctl: error: drift\n"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exit_status, 5);
  EXPECT_EQ(r->out, "{\"node\":\"h2\"}");
  EXPECT_EQ(r->err, "vpcctl: error: drift\n");
  EXPECT_FALSE(r->timed_out || r->overflow);
}

TEST(AgentAnswer, AnythingElseSendsTheCallerToTheCommand) {
  for (const char* text : {"", "not json", "[1,2]", R"({"restart":true})",
                           R"({"error":"bad request"})", R"({"exit":"0","out":"","err":""})",
                           R"({"exit":0,"out":"{}"})", R"({"exit":0,"out":1,"err":""})"}) {
    EXPECT_FALSE(ParseAnswer(text).ok()) << text;
  }
  EXPECT_NE(ParseAnswer(R"({"restart":true})").error().message.find("restarting"),
            std::string::npos);
  auto refused = ParseAnswer("{\"error\":\"\\u001b[31mred\"}");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message.find('\x1b'), std::string::npos) << "printable";
}

TEST(AgentAnswer, TheRequestIsOneJsonLine) {
  std::string req = StatusRequest("vpc1");
  ASSERT_FALSE(req.empty());
  EXPECT_EQ(req.back(), '\n');
  EXPECT_EQ(req.find('\n'), req.size() - 1);
  auto j = nlohmann::json::parse(req);
  EXPECT_EQ(j["op"], "status");
  EXPECT_EQ(j["vpc"], "vpc1");
}

const ssh::HostKey kKey{"ssh-ed25519",
                        "AAAAC3NzaC1lZDI1NTE5AAAAIGJ0h4w6yHLNzXI+TcAYnhFN0TfIBbnUMRYR2lkHIX1V"};

// vpc status's fan-out to h3 (Linux, root) and h2, over a FakeClient whose h3 may run an agent.
class AgentFanOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vpcctl-agent-XXXXXX";
    dir_ = mkdtemp(tmpl);
    ctx_ = std::make_unique<fabric::Context>(fabric::Context{store::StatePaths{dir_}, runner_, ssh_,
                                                             term_, io_, prober_, "vpcctl test"});
    fabric_ = testing::SampleNodes();  // h1 local; h2 FreeBSD; h3 Linux at 192.0.2.3
    ssh::KnownHosts pins;
    pins.Pin("192.0.2.2", 22, kKey);
    pins.Pin("192.0.2.3", 22, kKey);
    ASSERT_TRUE(ssh::SaveKnownHosts(ctx_->paths.known_hosts(), pins).ok());
    for (const char* address : {"192.0.2.2", "192.0.2.3"}) {
      ssh::FakeClient::Host host;
      host.key = kKey;
      host.accepted_identities = {ctx_->paths.private_key()};
      host.handler = [this](const std::string&, const std::string&) {
        return ssh::RemoteResult{0, Report("by the command"), "", false, 1, false};
      };
      ssh_.AddHost(address, 22, host);
    }
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static std::string Report(const std::string& error) {
    model::StatusReport r;
    r.node = "h3";
    r.generation = 1;
    r.healthy = true;
    r.error = error;  // tells the tests who answered
    return r.ToJson().dump();
  }
  void AgentOn(const std::string& address, std::string answer) {
    ssh_.Find(address, 22)->stream = [this, answer](const std::string& path,
                                                    const std::string& input) {
      streamed_path_ = path;
      streamed_input_ = input;
      return Result<std::string>(answer);
    };
  }
  fabric::Answer Ask(const std::string& node) {
    fabric::FanOutLimits limits;
    fabric::Request req;
    req.args = [](const model::Node&) {
      return std::vector<std::string>{"status", "--local", "--vpc", "vpc1", "--json"};
    };
    req.report = fabric::ReportKind::kStatus;
    req.agent = [](const model::Node&) { return StatusRequest("vpc1"); };
    auto answers = fabric::FanOut(*ctx_, fabric_, {node}, req, limits, nullptr);
    EXPECT_EQ(answers.size(), 1u);
    return answers.empty() ? fabric::Answer{} : answers[0];
  }
  static std::string Who(const fabric::Answer& a) { return a.error; }

  std::string dir_;
  exec::FakeRunner runner_;
  testing::FakeProber prober_;
  ssh::FakeClient ssh_;
  exec::NoTerminal term_;
  std::ostringstream out_, err_;
  std::istringstream in_;
  fabric::Output io_{in_, out_, err_, false};
  std::unique_ptr<fabric::Context> ctx_;
  model::Fabric fabric_;
  std::string streamed_path_, streamed_input_;
};

TEST_F(AgentFanOutTest, ALinuxRootNodesAgentAnswersAndNoCommandRuns) {
  AgentOn("192.0.2.3",
          nlohmann::json{{"exit", 0}, {"out", Report("by the agent")}, {"err", ""}}.dump());
  fabric::Answer a = Ask("h3");
  EXPECT_EQ(Who(a), "by the agent");
  EXPECT_TRUE(a.agent);
  EXPECT_EQ(ssh_.Commands("192.0.2.3", 22),
            std::vector<std::string>{"stream /var/lib/vpcctl/agent.sock"});
  EXPECT_EQ(streamed_path_, "/var/lib/vpcctl/agent.sock");
  EXPECT_EQ(streamed_input_, StatusRequest("vpc1"));
}

TEST_F(AgentFanOutTest, AnApplysMapFollowsItsRequestLine) {
  AgentOn("192.0.2.3",
          nlohmann::json{{"exit", 0}, {"out", Report("by the agent")}, {"err", ""}}.dump());
  fabric::FanOutLimits limits;
  fabric::Request req;
  req.args = [](const model::Node&) { return std::vector<std::string>{"apply", "--local"}; };
  req.input = [](const model::Node&) { return std::string("{\"format\": 3}"); };
  req.agent = [](const model::Node& n) { return ApplyRequest(n.name, "1800000000000"); };
  req.report = fabric::ReportKind::kStatus;
  auto answers = fabric::FanOut(*ctx_, fabric_, {"h3"}, req, limits, nullptr);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_TRUE(answers[0].agent);
  EXPECT_EQ(streamed_input_, ApplyRequest("h3", "1800000000000") + "{\"format\": 3}");
  auto header = nlohmann::json::parse(ApplyRequest("h3", ""));
  EXPECT_EQ(header["op"], "apply");
  EXPECT_EQ(header["node"], "h3");
  EXPECT_EQ(header["switch_keys_at"], "");
}

TEST_F(AgentFanOutTest, NoAgentThereRunsTheCommandOnTheSameSession) {
  fabric::Answer a = Ask("h3");
  EXPECT_EQ(Who(a), "by the command");
  EXPECT_FALSE(a.agent);
  auto cmds = ssh_.Commands("192.0.2.3", 22);
  ASSERT_EQ(cmds.size(), 2u);
  EXPECT_EQ(cmds[0], "stream /var/lib/vpcctl/agent.sock");
  EXPECT_NE(cmds[1].find("'status' '--local' '--vpc' 'vpc1' '--json'"), std::string::npos);
  EXPECT_EQ(ssh_.connects(), 1) << "one login for both";
}

TEST_F(AgentFanOutTest, AnAgentThatRestartsOrAnswersNonsenseIsPassedBy) {
  for (const char* answer : {R"({"restart":true})", "garbage", R"({"error":"bad request"})"}) {
    AgentOn("192.0.2.3", answer);
    fabric::Answer a = Ask("h3");
    EXPECT_EQ(Who(a), "by the command") << answer;
    EXPECT_FALSE(a.agent) << answer;
  }
}

// A hostile node's agent gets what its command would: its answer is judged, never trusted.
TEST_F(AgentFanOutTest, AHostileAgentIsThatNodesErrorAndNothingMore) {
  AgentOn("192.0.2.3", std::string(kMaxStdout, '['));  // deeper than any answer
  fabric::Answer a = Ask("h3");
  EXPECT_EQ(Who(a), "by the command") << "not an answer: the command runs instead";
  std::string nested = "{\"node\":" + std::string(100000, '[');
  AgentOn("192.0.2.3", nlohmann::json{{"exit", 0}, {"out", nested}, {"err", ""}}.dump());
  a = Ask("h3");
  EXPECT_TRUE(a.agent);
  EXPECT_NE(a.error.find("nested deeper"), std::string::npos) << a.error;
  AgentOn("192.0.2.3", nlohmann::json{{"exit", 1},
                                      {"out", "{\"error\": \"\\u001b]0;pwned\\u0007 forged\"}"},
                                      {"err", "\x1b[2J"}}
                           .dump());
  a = Ask("h3");
  EXPECT_TRUE(a.agent);
  EXPECT_EQ(a.error.find('\x1b'), std::string::npos) << a.error;
  EXPECT_NE(a.error.find("forged"), std::string::npos) << a.error;
}

TEST_F(AgentFanOutTest, NodesWithoutAReachableAgentAreNotAsked) {
  AgentOn("192.0.2.2",
          nlohmann::json{{"exit", 0}, {"out", Report("by the agent")}, {"err", ""}}.dump());
  EXPECT_EQ(Who(Ask("h2")), "by the command") << "FreeBSD runs no agent";
  AgentOn("192.0.2.3",
          nlohmann::json{{"exit", 0}, {"out", Report("by the agent")}, {"err", ""}}.dump());
  fabric_.FindNode("h3")->ssh_user = "deploy";
  fabric_.FindNode("h3")->use_sudo = true;
  EXPECT_EQ(Who(Ask("h3")), "by the command") << "its socket answers root only";
  for (const char* address : {"192.0.2.2", "192.0.2.3"}) {
    for (const auto& c : ssh_.Commands(address, 22)) EXPECT_NE(c.rfind("stream", 0), 0u) << c;
  }
}

TEST_F(AgentFanOutTest, TheLocalNodesAgentAnswersOnItsSocket) {
  std::string path = SocketPath(dir_);
  int listener = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(listen(listener, 1), 0);
  std::string request;
  std::thread agent([&] {
    int c = accept(listener, nullptr, nullptr);
    char buf[4096];
    ssize_t n = read(c, buf, sizeof buf);
    if (n > 0) request.assign(buf, static_cast<size_t>(n));
    std::string answer =
        nlohmann::json{{"exit", 0}, {"out", Report("by the local agent")}, {"err", ""}}.dump();
    EXPECT_EQ(write(c, answer.data(), answer.size()), static_cast<ssize_t>(answer.size()));
    close(c);
  });
  fabric::Answer a = Ask("h1");
  agent.join();
  close(listener);
  EXPECT_EQ(Who(a), "by the local agent");
  EXPECT_TRUE(a.agent);
  EXPECT_EQ(request, StatusRequest("vpc1"));
  EXPECT_TRUE(runner_.calls().empty()) << "no vpcctl child";
}

TEST_F(AgentFanOutTest, WithoutAnAgentTheLocalNodeRunsTheCommand) {
  runner_.On({exec::SelfPath()}, Report("by the local command"));
  fabric::Answer a = Ask("h1");
  EXPECT_EQ(Who(a), "by the local command");
  EXPECT_FALSE(a.agent);
  EXPECT_EQ(runner_.calls().size(), 1u);
}

TEST(AgentDaemon, ApplyRunsItWhileTheNodeHasAVpcAndStopsItAfter) {
  auto desired = plan::DesiredFor(testing::SampleFabric(), "h3");
  ASSERT_TRUE(desired.ok());
  platform::NodeEnv env;
  env.vpcctl = "/usr/sbin/vpcctl";
  env.state_dir = "/var/lib/vpcctl";
  plan::DesiredDaemon wanted = platform::AgentDaemon(*desired, env);
  EXPECT_EQ(wanted.start, (Argv{"/usr/sbin/vpcctl", "--state-dir", "/var/lib/vpcctl", "agent"}));
  EXPECT_TRUE(wanted.detach);
  EXPECT_EQ(wanted.ready, "/var/lib/vpcctl/agent.sock");
  EXPECT_EQ(wanted.pidfile, "/var/lib/vpcctl/agent.pid");
  EXPECT_EQ(wanted.stale, (std::vector<std::string>{wanted.pidfile, wanted.ready}));
  EXPECT_EQ(wanted.marks, (std::vector<std::string>{"agent", "/var/lib/vpcctl"}));

  plan::Desired none;
  none.node = "h3";
  none.daemons.push_back(platform::AgentDaemon(none, env));
  EXPECT_TRUE(none.daemons[0].start.empty());
  plan::Observed running;
  running.daemons["agent"] = true;
  auto steps = plan::Diff(none, running);
  ASSERT_TRUE(steps.ok());
  ASSERT_EQ(steps->size(), 1u);
  EXPECT_EQ(plan::Describe((*steps)[0]), "stop agent [no VPC left]");
  plan::Observed stopped;
  steps = plan::Diff(none, stopped);
  ASSERT_TRUE(steps.ok());
  EXPECT_TRUE(steps->empty());
}

}  // namespace
}  // namespace vpcctl::agent
