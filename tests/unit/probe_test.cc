// The prober's schedule over a simulated network: resolution delay is not loss, a silent peer is
// down, resends hide single drops but not a dead path, sends are paced, and the largest frame a
// path carries is found exactly. Also the echo packets themselves.
#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "testing.h"
#include "vpcctl/probe/prober.h"

namespace vpcctl::probe {
namespace {

// A network answering each send after `rtt_us` unless `drop` says otherwise.
struct Net {
  int64_t rtt_us = 200;
  // (target, size, the n-th send to that target) -> dropped?
  std::function<bool(size_t, int, int)> drop = [](size_t, int, int) { return false; };
};

struct SimRun {
  std::vector<Outcome> out;
  int64_t took_us = 0;
  int64_t min_gap_us = INT64_MAX;
  std::map<size_t, int> sends;
};

SimRun Simulate(const std::vector<Target>& targets, const Plan& plan, const Net& net) {
  SimRun run;
  int64_t now = 1'000'000;
  const int64_t start = now;
  Schedule s(targets, plan, now);
  std::multimap<int64_t, uint16_t> answers;  // arrival -> seq
  int64_t last = -1;
  while (true) {
    while (auto send = s.Next(now)) {
      if (last >= 0) run.min_gap_us = std::min(run.min_gap_us, now - last);
      last = now;
      int n = run.sends[send->target]++;
      if (!net.drop(send->target, send->size, n)) answers.emplace(now + net.rtt_us, send->seq);
    }
    if (s.Done()) break;
    int64_t wake = s.WakeAt(now);
    if (!answers.empty() && answers.begin()->first < wake) wake = answers.begin()->first;
    now = std::max(now + 1, wake);
    while (!answers.empty() && answers.begin()->first <= now) {
      s.Answer(answers.begin()->second, answers.begin()->first);
      answers.erase(answers.begin());
    }
    if (now - start > 60'000'000) ADD_FAILURE() << "the schedule never ends";
    if (now - start > 60'000'000) break;
  }
  run.out = s.Outcomes();
  run.took_us = now - start;
  return run;
}

std::vector<Target> Peers(int n, int mtu = 1450) {
  std::vector<Target> t;
  for (int i = 0; i < n; ++i) {
    t.push_back(Target{testing::Ip("10.10.0.1"), testing::Ip("10.10.0." + std::to_string(i + 2)),
                       "vpc1", mtu});
  }
  return t;
}

TEST(ProbeSchedule, SixtyThreeHealthyPeersAreMeasuredPacedAndQuickly) {
  Plan plan;
  SimRun r = Simulate(Peers(63), plan, Net{});
  ASSERT_EQ(r.out.size(), 63u);
  for (const auto& o : r.out) {
    EXPECT_TRUE(o.resolved);
    EXPECT_EQ(o.measured, plan.count);
    EXPECT_EQ(o.lost, 0);
    EXPECT_EQ(o.LossPct(), 0.0);
    ASSERT_TRUE(o.rtt_ms);
    EXPECT_NEAR(*o.rtt_ms, 0.2, 0.01);
    EXPECT_EQ(o.mtu, 1450);
    EXPECT_EQ(o.mtu_ok, true);
    EXPECT_FALSE(o.path_mtu);
    EXPECT_EQ(o.sent, 1 + plan.count + 1);
    EXPECT_EQ(o.received, o.sent);
  }
  EXPECT_GE(r.min_gap_us, plan.pace_us);
  // 63 x 5 sends at 0.5 ms: about 160 ms.
  EXPECT_LT(r.took_us, 300'000);
}

TEST(ProbeSchedule, ANeighbourResolvedLateIsNotLoss) {
  // The first three sends vanish (ARP has not resolved yet, or its broadcast was dropped).
  Net net;
  net.drop = [](size_t, int, int n) { return n < 3; };
  SimRun r = Simulate(Peers(4), Plan{}, net);
  for (const auto& o : r.out) {
    EXPECT_TRUE(o.resolved);
    EXPECT_EQ(o.lost, 0);
    EXPECT_EQ(o.LossPct(), 0.0);
    EXPECT_EQ(o.mtu_ok, true);
    EXPECT_EQ(o.sent - o.received, 3);
  }
}

TEST(ProbeSchedule, ASilentPeerIsDownOnceTheResolutionWindowCloses) {
  Net net;
  net.drop = [](size_t t, int, int) { return t == 1; };
  Plan plan;
  SimRun r = Simulate(Peers(3), plan, net);
  EXPECT_TRUE(r.out[0].resolved);
  EXPECT_FALSE(r.out[1].resolved);
  EXPECT_EQ(r.out[1].LossPct(), 100.0);
  EXPECT_FALSE(r.out[1].mtu_ok);  // not checked
  EXPECT_EQ(r.out[1].received, 0);
  EXPECT_GT(r.out[1].sent, 1);  // resent while the window was open
  EXPECT_TRUE(r.out[2].resolved);
  EXPECT_LE(r.took_us, plan.resolve_ms * 1000 + 50'000);
}

TEST(ProbeSchedule, ResendsHideSingleDropsButNotADeadPath) {
  // Peer 0 drops every other send after resolving: every measured probe is answered on a resend.
  // Peer 1 answers its resolution, then nothing: every measured probe is lost.
  Net net;
  net.drop = [](size_t t, int, int n) { return t == 0 ? n > 0 && n % 2 == 1 : n > 0; };
  Plan plan;
  plan.mtu = false;
  SimRun r = Simulate(Peers(2), plan, net);
  EXPECT_EQ(r.out[0].lost, 0);
  EXPECT_GT(r.out[0].sent, r.out[0].received);
  EXPECT_TRUE(r.out[1].resolved);
  EXPECT_EQ(r.out[1].lost, plan.count);
  EXPECT_EQ(r.out[1].LossPct(), 100.0);
  EXPECT_EQ(r.out[1].sent, 1 + plan.count * (1 + plan.retries));  // resolution, then each resent
  EXPECT_FALSE(r.out[1].rtt_ms);
}

TEST(ProbeSchedule, TheLadderFindsTheLargestFrameExactly) {
  for (int limit : {1400, 1449, 600, 85}) {
    Net net;
    net.drop = [limit](size_t, int size, int) { return size > limit; };
    SimRun r = Simulate(Peers(1, 1450), Plan{}, net);
    const Outcome& o = r.out[0];
    EXPECT_EQ(o.LossPct(), 0.0) << limit;
    EXPECT_EQ(o.mtu_ok, false) << limit;
    ASSERT_TRUE(o.path_mtu) << limit;
    EXPECT_EQ(*o.path_mtu, limit);
    EXPECT_LT(r.took_us, 3'000'000) << limit;
  }
}

TEST(ProbeSchedule, ALocalSendFailureIsThePeersError) {
  std::vector<Target> t = Peers(2);
  Schedule s(t, Plan{}, 0);
  auto first = s.Next(0);
  ASSERT_TRUE(first);
  s.SendFailed(first->seq, "send to 10.10.0.2: No route to host", 0);
  int64_t now = 1000;
  while (!s.Done()) {
    while (auto send = s.Next(now)) s.Answer(send->seq, now + 100);
    now += 1000;
    ASSERT_LT(now, 10'000'000);
  }
  auto out = s.Outcomes();
  EXPECT_FALSE(out[0].resolved);
  EXPECT_EQ(out[0].error, "send to 10.10.0.2: No route to host");
  EXPECT_TRUE(out[1].resolved);
  EXPECT_EQ(out[1].error, "");
}

TEST(EchoPacket, RequestsAreSummedAndRepliesMatchOnlyTheirIdAndCookie) {
  std::string m = EchoRequest(net::Family::kV4, 0x1234, 77, 0xfeedULL, 1450);
  ASSERT_EQ(m.size(), 1430u);  // 1450 - the IPv4 header
  EXPECT_EQ(static_cast<uint8_t>(m[0]), 8);
  uint32_t sum = 0;  // a correct checksum sums the message to 0xffff
  for (size_t i = 0; i < m.size(); i += 2) {
    sum += (static_cast<uint8_t>(m[i]) << 8) | static_cast<uint8_t>(m[i + 1]);
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  EXPECT_EQ(sum, 0xffffu);
  std::string reply = m;
  reply[0] = 0;
  std::string packet = std::string("\x45", 1) + std::string(19, '\0') + reply;
  auto bytes = [](const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); };
  EXPECT_EQ(EchoReplySeq(net::Family::kV4, bytes(packet), packet.size(), 0x1234, 0xfeedULL), 77);
  EXPECT_FALSE(EchoReplySeq(net::Family::kV4, bytes(packet), packet.size(), 0x1235, 0xfeedULL));
  EXPECT_FALSE(EchoReplySeq(net::Family::kV4, bytes(packet), packet.size(), 0x1234, 0xfeeeULL));
  EXPECT_FALSE(EchoReplySeq(net::Family::kV4, bytes(packet), 30, 0x1234, 0xfeedULL));
  std::string request = std::string("\x45", 1) + std::string(19, '\0') + m;  // our own request
  EXPECT_FALSE(EchoReplySeq(net::Family::kV4, bytes(request), request.size(), 0x1234, 0xfeedULL));

  std::string m6 = EchoRequest(net::Family::kV6, 9, 5, 42, 1280);
  ASSERT_EQ(m6.size(), 1240u);
  EXPECT_EQ(static_cast<uint8_t>(m6[0]), 128);
  m6[0] = static_cast<char>(129);
  EXPECT_EQ(EchoReplySeq(net::Family::kV6, bytes(m6), m6.size(), 9, 42), 5);
  // Never smaller than headers and cookie.
  EXPECT_EQ(EchoRequest(net::Family::kV4, 1, 1, 1, 10).size(),
            static_cast<size_t>(Schedule::MinSize(net::Family::kV4) - 20));
}

}  // namespace
}  // namespace vpcctl::probe
