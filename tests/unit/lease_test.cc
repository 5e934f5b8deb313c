// The VIP lease's parts one by one: the acceptor's rules, a candidate's rounds, the wire format
// (HMAC, replay window), the fence commands and announcement frames, vipd's configuration.
#include <gtest/gtest.h>

#include "vpcctl/platform/freebsd.h"
#include "vpcctl/vipd/config.h"
#include "vpcctl/vipd/fence.h"
#include "vpcctl/vipd/lease.h"
#include "vpcctl/vipd/wire.h"

namespace vpcctl::vipd {
namespace {

Msg M(Kind k, const std::string& from, const std::string& to, Ballot b, uint64_t nonce = 7) {
  Msg m;
  m.kind = k;
  m.from = from;
  m.to = to;
  m.ballot = b;
  m.nonce = nonce;
  return m;
}

TEST(LeaseAcceptor, SilentForOneGrantAfterStart) {
  Acceptor a("h1", 1400, 1000);
  EXPECT_FALSE(a.Handle(M(Kind::kPrepare, "h2", "h1", {1, 0}), 1000 + GrantMs(1400) - 1));
  EXPECT_TRUE(a.Handle(M(Kind::kPrepare, "h2", "h1", {1, 0}), 1000 + GrantMs(1400)));
}

TEST(LeaseAcceptor, ReportsItsGrantAndRejectsLowerBallots) {
  Ms t = GrantMs(1400);
  Acceptor a("h1", 1400, 0);
  auto p = a.Handle(M(Kind::kPrepare, "h2", "h1", {5, 1}), t);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->kind, Kind::kPromise);
  EXPECT_TRUE(p->holder.empty());
  auto acc = a.Handle(M(Kind::kPropose, "h2", "h1", {5, 1}), t + 1);
  ASSERT_TRUE(acc);
  EXPECT_EQ(acc->kind, Kind::kAccept);
  EXPECT_EQ(acc->nonce, 7u);
  // A lower ballot is rejected, naming the promise.
  auto r = a.Handle(M(Kind::kPrepare, "h3", "h1", {4, 2}), t + 2);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, Kind::kReject);
  EXPECT_EQ(r->promised, (Ballot{5, 1}));
  // A higher one is promised, and told about h2's unexpired grant.
  auto q = a.Handle(M(Kind::kPrepare, "h3", "h1", {6, 2}), t + 100);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->kind, Kind::kPromise);
  EXPECT_EQ(q->holder, "h2");
  EXPECT_EQ(q->remaining, GrantMs(1400) - 99);
  // Once it expired, it is forgotten.
  auto later = a.Handle(M(Kind::kPrepare, "h3", "h1", {7, 2}), t + 1 + GrantMs(1400));
  ASSERT_TRUE(later);
  EXPECT_TRUE(later->holder.empty());
}

TEST(LeaseAcceptor, ReleaseEndsOnlyThatLease) {
  Ms t = GrantMs(1400);
  Acceptor a("h1", 1400, 0);
  ASSERT_TRUE(a.Handle(M(Kind::kPropose, "h2", "h1", {5, 1}), t));
  Msg old = M(Kind::kRelease, "h2", "h1", {4, 1});
  EXPECT_FALSE(a.Handle(old, t + 1));
  EXPECT_TRUE(a.Current(t + 2)) << "a release of an earlier lease ends nothing";
  Msg other = M(Kind::kRelease, "h3", "h1", {5, 1});
  EXPECT_FALSE(a.Handle(other, t + 3));
  EXPECT_TRUE(a.Current(t + 4)) << "only the holder releases";
  EXPECT_FALSE(a.Handle(M(Kind::kRelease, "h2", "h1", {5, 1}), t + 5));
  EXPECT_FALSE(a.Current(t + 6));
}

// `from`'s transfer to acceptor h1 of its grant to `named`.
Msg Transfer(const std::string& from, Ballot b, uint64_t nonce, const std::string& named) {
  Msg m = M(Kind::kTransfer, from, "h1", b, nonce);
  m.holder = named;
  return m;
}

TEST(LeaseAcceptor, TransferPassesOnlyTheSendersGrantToTheCandidateItNames) {
  Ms t = GrantMs(1400);
  Acceptor a("h1", 1400, 0);
  ASSERT_TRUE(a.Handle(M(Kind::kPropose, "h2", "h1", {5, 1}), t));
  auto r = a.Handle(Transfer("h2", {9, 1}, 42, "h3"), t + 1);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, Kind::kAccept);
  EXPECT_EQ(r->to, "h3") << "answered to the candidate named";
  EXPECT_EQ(r->nonce, 42u) << "with its request's nonce";
  ASSERT_TRUE(a.Current(t + 2));
  EXPECT_EQ(a.Current(t + 2)->holder, "h3");
  EXPECT_EQ(a.Current(t + 2)->expires, t + 1 + GrantMs(1400));
  // The old holder's late proposal and its release change nothing.
  auto late = a.Handle(M(Kind::kPropose, "h2", "h1", {6, 1}), t + 3);
  ASSERT_TRUE(late);
  EXPECT_EQ(late->kind, Kind::kReject);
  EXPECT_FALSE(a.Handle(M(Kind::kRelease, "h2", "h1", {5, 1}), t + 4));
  EXPECT_FALSE(a.Handle(M(Kind::kRelease, "h2", "h1", {9, 1}), t + 4));
  ASSERT_TRUE(a.Current(t + 5));
  EXPECT_EQ(a.Current(t + 5)->holder, "h3");
  // A transfer from a node whose grant this is not, or below the promise, is refused to the named.
  auto no = a.Handle(Transfer("h2", {20, 1}, 43, "h4"), t + 6);
  ASSERT_TRUE(no);
  EXPECT_EQ(no->kind, Kind::kReject);
  EXPECT_EQ(no->to, "h4");
  EXPECT_EQ(a.Current(t + 7)->holder, "h3");
  Acceptor b("h1", 1400, 0);
  ASSERT_TRUE(b.Handle(M(Kind::kPrepare, "h3", "h1", {30, 2}), t));
  auto below = b.Handle(Transfer("h2", {29, 1}, 44, "h4"), t + 1);
  ASSERT_TRUE(below);
  EXPECT_EQ(below->kind, Kind::kReject);
  EXPECT_FALSE(b.Current(t + 2));
}

// Three acceptors answering at once: a candidate's life.
struct Group {
  std::vector<std::unique_ptr<Acceptor>> acc;
  Group() {
    for (const char* n : {"h1", "h2", "h3"}) acc.push_back(std::make_unique<Acceptor>(n, 1400, -10000));
  }
  // Delivers `s.send` and the replies, until quiet; returns the candidate's effects.
  std::vector<Effect> Run(Candidate& c, Step s, Ms now, const std::set<std::string>& down = {}) {
    std::vector<Effect> effects = s.effects;
    std::vector<Msg> queue = s.send;
    while (!queue.empty()) {
      Msg m = queue.front();
      queue.erase(queue.begin());
      if (down.count(m.to)) continue;
      for (auto& a : acc) {
        if (m.to == "h1" && &a != &acc[0]) continue;
        if (m.to == "h2" && &a != &acc[1]) continue;
        if (m.to == "h3" && &a != &acc[2]) continue;
        if (ForAcceptor(m.kind)) {
          if (auto r = a->Handle(m, now)) {
            Step out;
            c.Handle(*r, now, out);
            effects.insert(effects.end(), out.effects.begin(), out.effects.end());
            queue.insert(queue.end(), out.send.begin(), out.send.end());
          }
        }
      }
    }
    return effects;
  }
};

CandidateConfig Config3(const std::string& self, uint32_t rank) {
  CandidateConfig c;
  c.self = self;
  c.rank = rank;
  c.acceptors = {"h1", "h2", "h3"};
  c.candidates = {{"h1", 0}, {"h2", 1}};
  c.quorum = 2;
  c.lease = 1400;
  return c;
}

TEST(LeaseCandidate, WinsRenewsAndFencesWithTheKernelLifetime) {
  Group g;
  Candidate c(Config3("h1", 0), 0, 1);
  Step s;
  c.Tick(0, s);
  auto e = g.Run(c, s, 0);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].action, Action::kAcquire);
  EXPECT_EQ(e[0].lifetime_s, 1) << "1 s of lifetime + 300 ms of kernel slack fit in 1400 ms";
  EXPECT_TRUE(c.Holds());
  EXPECT_EQ(c.LeaseEnd(), 1400);
  // Renewal after a fifth of the lease.
  Step r;
  c.Tick(c.RenewInterval(), r);
  e = g.Run(c, r, c.RenewInterval() + 50);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].action, Action::kRefresh);
  EXPECT_EQ(c.LeaseEnd(), c.RenewInterval() + 1400);
}

TEST(LeaseCandidate, ASlowRoundGetsNoKernelLifetime) {
  Group g;
  Candidate c(Config3("h1", 0), 0, 1);
  Step s;
  c.Tick(0, s);
  // The replies arrive 150 ms after the round started: 1400 - 150 < 1000 + 300.
  auto e = g.Run(c, s, 150);
  EXPECT_TRUE(e.empty());
  EXPECT_FALSE(c.Holds()) << "it must not install an address the kernel could keep past the lease";
}

// h2 (rank 1) wins the lease at 20 ms.
Candidate H2Holding(Group& g) {
  Candidate h2(Config3("h2", 1), 0, 2);
  Step s;
  h2.Tick(20, s);
  EXPECT_EQ(g.Run(h2, s, 20).size(), 1u);
  EXPECT_TRUE(h2.Holds());
  return h2;
}

// h1 (rank 0), started after h2 won.
Candidate H1() {
  CandidateConfig c1 = Config3("h1", 0);
  c1.first_ballot = 10;  // vipd starts ballots at its start time: above what it saw before
  return Candidate(c1, 0, 1);
}

TEST(LeaseCandidate, WaitsForAnotherHoldersGrantAndPreempts) {
  Group g;
  Candidate h2 = H2Holding(g);
  Candidate h1 = H1();
  Step t;
  h1.Tick(100, t);
  Step asked;
  // Run the round by hand to see the preempt request.
  std::vector<Msg> q = t.send;
  for (const auto& m : q) {
    auto r = g.acc[m.to == "h1" ? 0 : m.to == "h2" ? 1 : 2]->Handle(m, 100);
    if (r) h1.Handle(*r, 100, asked);
  }
  EXPECT_FALSE(h1.Holds());
  EXPECT_EQ(h1.KnownHolder(), "h2");
  ASSERT_EQ(asked.send.size(), 1u);
  EXPECT_EQ(asked.send[0].kind, Kind::kPreempt);
  EXPECT_EQ(asked.send[0].to, "h2");
  EXPECT_GE(h1.NextWake(), 20 + GrantMs(1400)) << "it waits for the grant to end";
  // h2 hands over: drops the address first, then releases and names h1.
  Step over;
  h2.Handle(asked.send[0], 101, over);
  ASSERT_EQ(over.effects.size(), 1u);
  EXPECT_EQ(over.effects[0].action, Action::kDrop);
  EXPECT_FALSE(h2.Holds());
  bool handover = false;
  for (const auto& m : over.send) handover = handover || (m.kind == Kind::kHandover && m.holder == "h1");
  EXPECT_TRUE(handover);
  // Its transfers reach the acceptors first, and their accepts reach h1: it holds without a round
  // of its own, its lease counted from when it asked.
  size_t transfers = 0;
  for (const auto& m : over.send) {
    if (m.kind != Kind::kTransfer) continue;
    ++transfers;
    EXPECT_EQ(m.holder, "h1");
    EXPECT_EQ(m.nonce, asked.send[0].nonce);
    EXPECT_GT(m.ballot, asked.send[0].ballot) << "a fresh ballot, above h1's round";
  }
  EXPECT_EQ(transfers, 3u);
  EXPECT_EQ(over.send.front().kind, Kind::kTransfer) << "transfers go out before the handover";
  auto e = g.Run(h1, Step{{}, over.send}, 101);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].action, Action::kAcquire);
  EXPECT_TRUE(h1.Holds());
  EXPECT_EQ(h1.LeaseEnd(), 100 + 1400);
  for (const auto& a : g.acc) {
    auto grant = a->Current(102);
    ASSERT_TRUE(grant);
    EXPECT_EQ(grant->holder, "h1");
  }
}

TEST(LeaseCandidate, AMoveFallsBackToARoundWhenItsTransferIsRefused) {
  Group g;
  Candidate h2 = H2Holding(g);
  Candidate h1 = H1();
  Step t;
  h1.Move(100, t);
  Step asked;
  for (const auto& m : t.send) {
    if (auto r = g.acc[m.to == "h1" ? 0 : m.to == "h2" ? 1 : 2]->Handle(m, 100)) {
      h1.Handle(*r, 100, asked);
    }
  }
  ASSERT_EQ(asked.send.size(), 1u);
  ASSERT_EQ(asked.send[0].kind, Kind::kMove);
  Step over;
  h2.Handle(asked.send[0], 101, over);
  ASSERT_FALSE(h2.Holds());
  // The handover reaches h1 first: it leaves its transfer time before a round of its own.
  Step go;
  for (const auto& m : over.send) {
    if (m.kind == Kind::kHandover && m.to == "h1") h1.Handle(m, 102, go);
  }
  EXPECT_GT(h1.NextWake(), 102);
  // Meanwhile two acceptors promised a higher ballot: they refuse the transfer; h1 goes at once.
  ASSERT_TRUE(g.acc[1]->Handle(M(Kind::kPrepare, "h2", "h2", {1000, 1}), 102));
  ASSERT_TRUE(g.acc[2]->Handle(M(Kind::kPrepare, "h2", "h3", {1000, 1}), 102));
  for (const auto& m : over.send) {
    if (m.kind != Kind::kTransfer) continue;
    auto r = g.acc[m.to == "h1" ? 0 : m.to == "h2" ? 1 : 2]->Handle(m, 103);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->to, "h1");
    Step x;
    h1.Handle(*r, 103, x);
    EXPECT_TRUE(x.effects.empty());
  }
  EXPECT_FALSE(h1.Holds());
  EXPECT_EQ(h1.NextWake(), 103) << "no majority can accept the transfer: a round now";
  Step round;
  h1.Tick(103, round);
  auto e = g.Run(h1, round, 104);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].action, Action::kAcquire);
  EXPECT_TRUE(h1.Holds());
}

// The interleaving the acceptor's transfer rule is for: a third candidate, told of the handover,
// wins with the holder's grants voided before the transfer lands. The acceptors that granted it
// must refuse the transfer, or the mover would hold too.
TEST(LeaseCandidate, ATransferNeverTakesAThirdCandidatesGrant) {
  Group g;
  auto config = [](const std::string& self, uint32_t rank, uint64_t first) {
    CandidateConfig c = Config3(self, rank);
    c.candidates = {{"h1", 0}, {"h2", 1}, {"h3", 2}};
    c.first_ballot = first;
    c.kernel_lifetime = false;  // no lifetime bound: every won lease is held
    return c;
  };
  auto acceptor = [&g](const std::string& to) {
    return g.acc[to == "h1" ? 0 : to == "h2" ? 1 : 2].get();
  };
  Candidate h2(config("h2", 1, 0), 0, 2);
  Step s;
  h2.Tick(20, s);
  ASSERT_EQ(g.Run(h2, s, 20).size(), 1u);
  // h1 moves the VIP to itself (round {101, h1}); h2 hands over with a transfer ({102, h2}).
  Candidate h1(config("h1", 0, 100), 0, 1);
  Step t;
  h1.Move(100, t);
  Step asked;
  for (const auto& m : t.send) {
    if (auto r = acceptor(m.to)->Handle(m, 100)) h1.Handle(*r, 100, asked);
  }
  ASSERT_EQ(asked.send.size(), 1u);
  Step over;
  h2.Handle(asked.send[0], 101, over);
  // h3 hears the handover, and its round ({101, h3}: above h1's, below the transfer's) reaches
  // h2's and h3's acceptors before the transfer: it wins on the grants h2 gave up.
  Candidate h3(config("h3", 2, 100), 0, 3);
  Step ignored;
  for (const auto& m : over.send) {
    if (m.kind == Kind::kHandover && m.to == "h3") h3.Handle(m, 102, ignored);
  }
  Step round;
  h3.Tick(h3.NextWake(), round);
  std::vector<Msg> queue = round.send;
  while (!queue.empty()) {
    Msg m = queue.front();
    queue.erase(queue.begin());
    if (m.to == "h1") continue;
    if (auto r = acceptor(m.to)->Handle(m, 200)) {
      Step out;
      h3.Handle(*r, 200, out);
      queue.insert(queue.end(), out.send.begin(), out.send.end());
    }
  }
  ASSERT_TRUE(h3.Holds());
  // Now h2's transfers and releases land.
  for (const auto& m : over.send) {
    if (!ForAcceptor(m.kind)) continue;
    auto r = acceptor(m.to)->Handle(m, 210);
    Step out;
    if (r && r->to == "h1") h1.Handle(*r, 210, out);
  }
  EXPECT_FALSE(h1.Holds()) << "h1 and h3 would both hold";
  EXPECT_TRUE(h3.Holds());
  EXPECT_EQ(acceptor("h2")->Current(211)->holder, "h3");
  EXPECT_EQ(acceptor("h3")->Current(211)->holder, "h3");
}

TEST(LeaseCandidate, NoPreemptWaits) {
  Group g;
  CandidateConfig c2 = Config3("h2", 1);
  c2.preempt = false;
  Candidate h2(c2, 0, 2);
  Step s;
  h2.Tick(20, s);
  g.Run(h2, s, 20);
  CandidateConfig c1 = Config3("h1", 0);
  c1.preempt = false;
  c1.first_ballot = 10;
  Candidate h1(c1, 0, 1);
  Step t, asked;
  h1.Tick(100, t);
  for (const auto& m : t.send) {
    auto r = g.acc[m.to == "h1" ? 0 : m.to == "h2" ? 1 : 2]->Handle(m, 100);
    if (r) h1.Handle(*r, 100, asked);
  }
  EXPECT_TRUE(asked.send.empty());
  Step p;
  Msg pre = M(Kind::kPreempt, "h1", "h2", {1, 0});
  h2.Handle(pre, 101, p);
  EXPECT_TRUE(h2.Holds()) << "no-preempt: the holder keeps it";
}

TEST(LeaseCandidate, AFailingCheckHandsOverAndStopsProposing) {
  Group g;
  Candidate c(Config3("h1", 0), 0, 1);
  Step s;
  c.Tick(0, s);
  g.Run(c, s, 0);
  ASSERT_TRUE(c.Holds());
  Step f;
  c.SetHealthy(false, 10, f);
  ASSERT_FALSE(f.effects.empty());
  EXPECT_EQ(f.effects[0].action, Action::kDrop);
  EXPECT_FALSE(c.Holds());
  Step idle;
  c.Tick(5000, idle);
  EXPECT_TRUE(idle.send.empty()) << "an unhealthy candidate does not propose";
}

TEST(LeaseCandidate, LosesTheAddressBeforeTheLeaseEnds) {
  Group g;
  CandidateConfig cfg = Config3("h1", 0);
  cfg.drop_guard = 150;
  Candidate c(cfg, 0, 1);
  Step s;
  c.Tick(0, s);
  g.Run(c, s, 0);
  ASSERT_TRUE(c.Holds());
  // Every renewal fails (no acceptor answers).
  for (Ms t = 1; t < 1250; ++t) {
    Step r;
    c.Tick(t, r);
    g.Run(c, r, t, {"h1", "h2", "h3"});
    ASSERT_TRUE(c.Holds()) << t;
  }
  Step end;
  c.Tick(1250, end);
  ASSERT_EQ(end.effects.size(), 1u);
  EXPECT_EQ(end.effects[0].action, Action::kDrop);
  EXPECT_FALSE(c.Holds());
}

TEST(LeaseWire, RoundTripAndAuthentication) {
  Envelope e;
  e.vpc = "vpc1";
  e.vhid = 10;
  e.incarnation = 1764590000123456;
  e.seq = 42;
  e.msg = M(Kind::kPromise, "h2", "h1", {1764590000123, 1}, 99);
  e.msg.holder = "h3";
  e.msg.held = {17, 2};
  e.msg.remaining = 812;
  std::string d = Encode(e, "s3cretS3cret");
  EXPECT_LE(d.size(), kMaxDatagram);
  auto back = Decode(d);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, e);
  EXPECT_TRUE(Verify(d, "s3cretS3cret"));
  EXPECT_FALSE(Verify(d, "s3cretS3creu")) << "another VIP's secret";
  std::string tampered = d;
  tampered[d.find("812")] = '9';
  EXPECT_TRUE(Decode(tampered).ok());
  EXPECT_FALSE(Verify(tampered, "s3cretS3cret")) << "a changed field fails the MAC";
}

TEST(LeaseWire, RefusesMalformedDatagrams) {
  for (const char* bad :
       {"", "VIPD1", "VIPD2 prepare vpc1 10 h2 h1 1 1 1 0 1 - 0 0 0 0 0 " ,
        "VIPD1 bogus vpc1 10 h2 h1 1 1 1 0 1 - 0 0 0 0 0 0000000000000000000000000000000000000000000000000000000000000000",
        "VIPD1 prepare vpc1 300 h2 h1 1 1 1 0 1 - 0 0 0 0 0 0000000000000000000000000000000000000000000000000000000000000000",
        "VIPD1 prepare VPC1 10 h2 h1 1 1 1 0 1 - 0 0 0 0 0 0000000000000000000000000000000000000000000000000000000000000000",
        "VIPD1 prepare vpc1 10 h2 h1 x 1 1 0 1 - 0 0 0 0 0 0000000000000000000000000000000000000000000000000000000000000000",
        "VIPD1 prepare vpc1 10 h2 h1 1 1 1 0 1 - 0 0 0 0 0 00000000000000000000000000000000000000000000000000000000000000zz"}) {
    EXPECT_FALSE(Decode(bad).ok()) << bad;
  }
  std::string nul = "VIPD1 prepare vpc1 10 h2 h1 1 1 1 0 1 - 0 0 0 0 0 ";
  nul += std::string(64, '0');
  nul[6] = '\0';
  EXPECT_FALSE(Decode(nul).ok());
  EXPECT_FALSE(Decode(std::string(kMaxDatagram + 1, 'a')).ok());
}

TEST(LeaseWire, ReplayWindow) {
  ReplayGuard g;
  EXPECT_TRUE(g.Accept("h2", 100, 5));
  EXPECT_FALSE(g.Accept("h2", 100, 5)) << "a replay";
  EXPECT_TRUE(g.Accept("h2", 100, 3)) << "reordered, within the window";
  EXPECT_FALSE(g.Accept("h2", 100, 3));
  EXPECT_TRUE(g.Accept("h2", 100, 200));
  EXPECT_FALSE(g.Accept("h2", 100, 100)) << "older than the window";
  EXPECT_FALSE(g.Accept("h2", 99, 1000)) << "a previous incarnation";
  EXPECT_TRUE(g.Accept("h2", 101, 1)) << "a restart";
  EXPECT_TRUE(g.Accept("h3", 1, 1)) << "per sender";
}

TEST(LeaseFence, LinuxCommandsCarryTheLifetime) {
  VipConfig v;
  v.vpc = "vpc1";
  v.bridge = "vpc1";
  v.address = *net::IpAddress::Parse("10.100.0.250");
  v.prefix = 24;
  v.vhid = 10;
  v.rank = 0;
  EXPECT_EQ(FenceCommands(model::Platform::kLinux, v, Action::kAcquire, 1),
            (std::vector<Argv>{{"ip", "addr", "replace", "10.100.0.250/24", "dev", "vpc1", "valid_lft", "1",
                                "preferred_lft", "1"}}));
  EXPECT_EQ(FenceCommands(model::Platform::kLinux, v, Action::kDrop, 0),
            (std::vector<Argv>{{"ip", "addr", "del", "10.100.0.250/24", "dev", "vpc1"}}));
  v.address = *net::IpAddress::Parse("fd00:100::fa");
  v.prefix = 64;
  auto six = FenceCommands(model::Platform::kLinux, v, Action::kRefresh, 3);
  ASSERT_EQ(six.size(), 1u);
  EXPECT_EQ(six[0].back(), "nodad");
  EXPECT_EQ(six[0][7], "3");
  EXPECT_EQ(FenceCommands(model::Platform::kFreeBSD, v, Action::kAcquire, 0),
            (std::vector<Argv>{platform::CarpStateCommand("vpc1", 10, true)}));
  EXPECT_EQ(FenceCommands(model::Platform::kFreeBSD, v, Action::kDrop, 0),
            (std::vector<Argv>{platform::CarpStateCommand("vpc1", 10, false)}));
  EXPECT_TRUE(FenceCommands(model::Platform::kFreeBSD, v, Action::kRefresh, 0).empty());
  v.bridge.clear();
  EXPECT_TRUE(FenceCommands(model::Platform::kLinux, v, Action::kAcquire, 1).empty()) << "a witness";
}

TEST(LeaseFence, AnnouncementFrames) {
  Mac mac = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};
  std::string arp = GratuitousArp(mac, *net::IpAddress::Parse("10.100.0.250"));
  ASSERT_EQ(arp.size(), 42u);
  EXPECT_EQ(arp.substr(0, 6), std::string(6, '\xff'));
  EXPECT_EQ(arp.substr(12, 2), std::string("\x08\x06", 2));
  EXPECT_EQ(arp.substr(28, 4), std::string("\x0a\x64\x00\xfa", 4)) << "sender IP";
  EXPECT_EQ(arp.substr(38, 4), std::string("\x0a\x64\x00\xfa", 4)) << "target IP = sender IP";
  std::string na = UnsolicitedNa(mac, *net::IpAddress::Parse("fd00:100::fa"));
  ASSERT_EQ(na.size(), 32u);
  EXPECT_EQ(static_cast<uint8_t>(na[0]), 136);
  EXPECT_EQ(static_cast<uint8_t>(na[4]), 0x20) << "override";
  EXPECT_EQ(na.substr(26), std::string(reinterpret_cast<const char*>(mac.data()), 6));
}

TEST(LeaseConfig, ParseRefusesWhatDoesNotAddUp) {
  Config c;
  c.node = "h1";
  VipConfig v;
  v.vpc = "vpc1";
  v.bridge = "vpc1";
  v.address = *net::IpAddress::Parse("10.100.0.250");
  v.prefix = 24;
  v.vhid = 10;
  v.secret = "s3cretS3cret";
  v.rank = 0;
  v.local = *net::IpAddress::Parse("10.100.0.1");
  v.acceptors = 2;
  v.peers.push_back(PeerConfig{"h2", {*net::IpAddress::Parse("10.100.0.2")}, true, 1});
  c.vips.push_back(v);
  std::string text = ConfigToJson(c);
  auto back = ParseConfig(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, c);
  EXPECT_EQ(back->vips[0].Quorum(), 2u);
  std::string wrong = text;
  wrong.replace(wrong.find("\"acceptors\": 2"), 14, "\"acceptors\": 3");
  EXPECT_FALSE(ParseConfig(wrong).ok());
  std::string lease = text;
  lease.replace(lease.find("\"lease_ms\": 1350"), 16, "\"lease_ms\": 900");
  auto r = ParseConfig(lease);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("lease_ms"), std::string::npos) << r.error().message;
  EXPECT_EQ(ConfigToJson(Config{}), "") << "no VIP, no file";
}

}  // namespace
}  // namespace vpcctl::vipd
