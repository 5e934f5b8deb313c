// The majority lease that decides which node holds a VIP: PaxosLease (Trencseni, Gazso, Reinhardt,
// arXiv 1209.4187), diskless, on monotonic clocks. Pure state machines: they take the time and the
// messages they are given and say what to send and what to do with the address; vipd (daemon.h)
// runs them on real sockets, the unit tests in a seeded simulation (tests/unit/lease_sim_test.cc).
//
// Roles, per VIP: every acceptor (a member of the VPC, or its witness) runs an Acceptor; every
// candidate (the VIP's nodes) runs a Candidate. A round is PaxosLease's two phases:
//   prepare(b) -> promise(b, the acceptor's unexpired grant, if any) | reject(promised)
//   propose(b) -> accept(b) | reject(promised)
// A candidate that gathers a majority of promises none of which reports another candidate's
// unexpired grant proposes itself; a majority of accepts gives it the lease from the instant it
// started the round (before any acceptor started its grant timer) for `lease` ms of its own clock.
// Acceptors time their grants for GrantMs(lease) of theirs: longer by the clock-rate drift bound,
// so the holder's lease ends, in real time, before any acceptor's grant does. An acceptor that
// starts (or whose group changes) stays silent for one grant, so it never forgets a grant it gave.
//
// Safety (at most one holder at every instant) is argued in DESIGN.md; the address fence on Linux
// adds one rule: the holder renews the address's kernel lifetime (whole seconds, removed by the
// kernel up to kKernelSlackMs late) only while its lease outlasts that lifetime.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace vpcctl::vipd {

using Ms = int64_t;  // milliseconds of a monotonic clock

// Clocks of two nodes advance at rates that differ by at most this fraction: 0.2%, four times the
// fastest NTP slew (0.05%) and twenty times a common crystal's error (100 ppm).
inline constexpr double kDriftBound = 0.002;
// The kernel removes an address whose lifetime ran out at most this late (lifetimes are checked
// with up to 250 ms of rounding; measured 1.02-1.28 s for a lifetime of 1 s).
inline constexpr Ms kKernelSlackMs = 300;

// Candidates take over an ended lease in rank order, at least this far apart (and three of their
// recent round trips): a better candidate's prepare reaches the next one before it starts its own.
inline constexpr Ms kRankStaggerMs = 40;

// How long an acceptor's grant lasts for a lease of `lease` ms.
Ms GrantMs(Ms lease);

struct Ballot {
  uint64_t n = 0;
  uint32_t id = 0;  // the proposer's rank: ballots of two proposers never tie
  auto operator<=>(const Ballot&) const = default;
  bool operator==(const Ballot&) const = default;
};

enum class Kind : uint8_t {
  kPrepare = 1,
  kPromise = 2,
  kPropose = 3,
  kAccept = 4,
  kReject = 5,
  kRelease = 6,   // the holder gave the lease up (after removing the address): drop its grant
  kPreempt = 7,   // a better candidate that reaches a majority asks the holder for the lease
  kMove = 8,      // `vip move`: a candidate asks the holder for the lease, whatever its rank
  kHandover = 9,  // the holder gave the lease up (held: its newest ballot): try now
  // The holder, its address removed, asks each acceptor to give its grant to the candidate that
  // asked for the lease (holder: that candidate; nonce: its request's; ballot: a fresh one of the
  // holder's). The acceptors answer that candidate: a move costs one message, not a round.
  kTransfer = 10,
};
const char* KindName(Kind k);
// Messages an Acceptor handles (the others go to the Candidate).
inline bool ForAcceptor(Kind k) {
  return k == Kind::kPrepare || k == Kind::kPropose || k == Kind::kRelease || k == Kind::kTransfer;
}

struct Msg {
  Kind kind = Kind::kPrepare;
  std::string from;
  std::string to;
  Ballot ballot;       // the round's (kRelease: the released lease's)
  uint64_t nonce = 0;  // the round's; replies echo it
  // kPromise: the acceptor's unexpired grant, if any (holder empty: none).
  std::string holder;
  Ballot held;
  Ms remaining = 0;
  Ballot promised;  // kReject: what the acceptor promised
  bool operator==(const Msg&) const = default;
};

class Acceptor {
 public:
  Acceptor(std::string self, Ms lease, Ms now);
  // The reply to `m`, if any. Silent while it may have forgotten a grant (one grant after start).
  std::optional<Msg> Handle(const Msg& m, Ms now);
  struct Grant {
    std::string holder;
    Ballot ballot;
    Ms expires = 0;
  };
  std::optional<Grant> Current(Ms now) const;
  bool Silent(Ms now) const { return now < silent_until_; }

 private:
  std::string self_;
  Ms grant_ms_;
  Ms silent_until_;
  Ballot promised_;
  std::optional<Grant> grant_;
};

struct CandidateConfig {
  std::string self;
  uint32_t rank = 0;
  std::vector<std::string> acceptors;                       // every acceptor, self included if one
  std::vector<std::pair<std::string, uint32_t>> candidates;  // every candidate with its rank
  size_t quorum = 1;
  Ms lease = 1350;
  bool preempt = true;
  // Linux: the address carries a kernel lifetime, renewed only while the lease outlasts it.
  // False (FreeBSD's CARP, or a test): the address is held exactly while the lease is.
  bool kernel_lifetime = true;
  // Ballot numbers start above this: vipd passes its start time, so that a restarted candidate's
  // ballots never repeat those of its previous run.
  uint64_t first_ballot = 0;
  // The holder removes the address this long before its lease ends: what removing it may take.
  Ms drop_guard = 0;
};

// What the daemon does to the VIP, in order, before it sends the messages of the same step.
enum class Action {
  kAcquire,  // add the address with lifetime_s (kernel_lifetime) and announce it
  kRefresh,  // renew the address's lifetime to lifetime_s
  kDrop,     // remove the address (the lease ended, or is handed over)
};
struct Effect {
  Action action = Action::kDrop;
  int lifetime_s = 0;
  std::string why;
};
struct Step {
  std::vector<Effect> effects;  // carried out first; a failed kDrop cancels `send`'s releases
  std::vector<Msg> send;
};

class Candidate {
 public:
  Candidate(CandidateConfig cfg, Ms now, uint64_t seed);

  void Tick(Ms now, Step& out);
  void Handle(const Msg& m, Ms now, Step& out);
  // The service check's verdict: an unhealthy candidate neither proposes nor renews, and a holder
  // hands the lease over.
  void SetHealthy(bool healthy, Ms now, Step& out);
  // A prepare another candidate sent to this node's acceptor. Its ballot raises this candidate's
  // counter (its next round outbids it); one from a better-ranked candidate defers this one's next
  // attempt by a round, once per attempt, so that two rounds do not duel when a lease ends.
  void Heard(const Msg& prepare, Ms now);
  // `vip move` to this node: ask the holder for the lease.
  void Move(Ms now, Step& out);
  void CancelMove() { moving_ = false; }
  bool Moving() const { return moving_; }
  bool Sticky() const { return sticky_; }
  // The earliest time Tick has something to do.
  Ms NextWake() const;

  bool Holds() const { return holding_; }
  Ms LeaseEnd() const { return lease_end_; }
  bool Healthy() const { return healthy_; }
  uint64_t Epoch() const { return epoch_; }
  // The holder as last seen (self when holding), and when its lease ends (from here).
  const std::string& KnownHolder() const { return known_holder_; }
  Ms KnownUntil() const { return known_until_; }
  Ms LastRoundMs() const { return last_round_ms_; }
  // Renew this often while holding.
  Ms RenewInterval() const { return cfg_.lease / 5; }
  Ms RoundTimeout() const { return cfg_.lease / 7; }

 private:
  // A request for the lease (kMove or kPreempt) this candidate sent to the holder: the grants the
  // holder transfers in answer count from the instant it was sent (before the holder got it, so
  // before any acceptor started its grant).
  struct Transfer {
    uint64_t nonce = 0;
    Ms asked = 0;
    Ballot ballot;  // the transfer's, from the first accept
    std::set<std::string> accepted;
    std::set<std::string> refused;
    bool handed = false;  // the holder's handover arrived: fall back to a round if this fails
  };
  struct Round {
    Ballot ballot;
    uint64_t nonce = 0;
    Ms start = 0;
    bool proposing = false;
    std::set<std::string> promised;
    std::set<std::string> accepted;
    std::string foreign;  // another candidate's unexpired grant, reported by a promise
    Ballot foreign_ballot;
    Ms foreign_remaining = 0;
  };
  void StartRound(Ms now, Step& out);
  // `m` from this candidate to every acceptor.
  void ToAcceptors(Msg m, Step& out) const;
  // The round's `kind` to every acceptor.
  void SendAll(Kind kind, Step& out) const;
  void Won(Ms now, Step& out);
  void Lost(Ms now, Step& out, const std::string& why);
  // Gives the lease up (to the candidate whose request is `ask`, if any: its grants are
  // transferred to it; none: to whoever wins next).
  void HandOver(const Msg* ask, Ms now, Step& out, const std::string& why);
  void HandleTransferReply(const Msg& m, Ms now, Step& out);
  void HandlePromise(const Msg& m, Ms now, Step& out);
  void HandleHandover(const Msg& m, Ms now);
  int RankOf(const std::string& node) const;
  // When to try after `holder`'s lease ends: kRankStaggerMs per candidate ranked better than this
  // one, the holder not counted (its lease ran out: it is not the one to wait for).
  Ms StaggerAfter(const std::string& holder) const;
  // A round found the lease free just after another's ended: a lower-ranked candidate leaves
  // the better ones StaggerAfter first (true: the round is dropped, the next attempt set).
  bool YieldAfterLeaseEnd(Ms now);
  Ms Jitter(Ms lo, Ms hi);
  // The whole seconds of kernel lifetime the address may get now, 0 when none is safe.
  int SafeLifetime(Ms now) const;

  CandidateConfig cfg_;
  std::mt19937_64 rng_;
  std::optional<Round> round_;
  std::optional<Transfer> transfer_;
  bool holding_ = false;
  bool healthy_ = true;
  bool moving_ = false;  // a Move is under way
  bool sticky_ = false;  // holding after a move: no preemption until it is lost
  bool deferred_ = false;  // the next attempt was already put off for a better candidate's round
  bool yielded_ = false;   // YieldAfterLeaseEnd already gave way after the known holder's lease
  Ms round_trip_ = 0;      // how long promises took to come back, recently at worst
  Ms lease_end_ = 0;
  Ms next_attempt_ = 0;
  uint64_t counter_ = 0;
  uint64_t epoch_ = 0;
  Ballot lease_ballot_;
  std::string known_holder_;
  Ms known_until_ = 0;
  // The last handover heard: who gave its lease up, up to which ballot, and until when that counts.
  std::string released_by_;
  Ballot released_ballot_;
  Ms released_until_ = 0;
  Ms last_round_ms_ = -1;
};

}  // namespace vpcctl::vipd
