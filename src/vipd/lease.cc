// PaxosLease for one VIP: the acceptor's and the candidate's state machines (see lease.h).
#include "vpcctl/vipd/lease.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace vpcctl::vipd {

Ms GrantMs(Ms lease) {
  return static_cast<Ms>(std::ceil(static_cast<double>(lease) * (1 + kDriftBound) /
                                   (1 - kDriftBound))) +
         1;
}

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kPrepare:
      return "prepare";
    case Kind::kPromise:
      return "promise";
    case Kind::kPropose:
      return "propose";
    case Kind::kAccept:
      return "accept";
    case Kind::kReject:
      return "reject";
    case Kind::kRelease:
      return "release";
    case Kind::kPreempt:
      return "preempt";
    case Kind::kMove:
      return "move";
    case Kind::kHandover:
      return "handover";
    case Kind::kTransfer:
      return "transfer";
  }
  return "?";
}

// ---- Acceptor

Acceptor::Acceptor(std::string self, Ms lease, Ms now)
    : self_(std::move(self)), grant_ms_(GrantMs(lease)), silent_until_(now + GrantMs(lease)) {}

std::optional<Acceptor::Grant> Acceptor::Current(Ms now) const {
  if (grant_ && now < grant_->expires) return grant_;
  return std::nullopt;
}

std::optional<Msg> Acceptor::Handle(const Msg& m, Ms now) {
  if (Silent(now) || m.to != self_) return std::nullopt;
  if (grant_ && now >= grant_->expires) grant_.reset();
  Msg r;
  r.from = self_;
  r.to = m.from;
  r.ballot = m.ballot;
  r.nonce = m.nonce;
  auto reject = [&] {
    r.kind = Kind::kReject;
    r.promised = promised_;
    return r;
  };
  switch (m.kind) {
    case Kind::kPrepare:
      if (m.ballot < promised_) return reject();
      promised_ = m.ballot;
      r.kind = Kind::kPromise;
      if (grant_) {
        r.holder = grant_->holder;
        r.held = grant_->ballot;
        r.remaining = grant_->expires - now;
      }
      return r;
    case Kind::kPropose:
      if (m.ballot < promised_) return reject();
      promised_ = m.ballot;
      grant_ = Grant{m.from, m.ballot, now + grant_ms_};
      r.kind = Kind::kAccept;
      return r;
    case Kind::kRelease:
      // Only the grant of that very lease: a release never ends a later one.
      if (grant_ && grant_->holder == m.from && grant_->ballot == m.ballot) grant_.reset();
      return std::nullopt;
    case Kind::kTransfer:
      // Answered to the candidate it names. Only the sender's own grant (or none) passes to it:
      // a grant of anyone else stays, so a transfer never cuts short a lease its sender did not
      // hold, and its fresh ballot makes any older proposal of the sender's fail from now on.
      if (m.holder.empty()) return std::nullopt;
      r.to = m.holder;
      if (m.ballot < promised_ || (grant_ && grant_->holder != m.from)) return reject();
      promised_ = m.ballot;
      grant_ = Grant{m.holder, m.ballot, now + grant_ms_};
      r.kind = Kind::kAccept;
      return r;
    default:
      return std::nullopt;
  }
}

// ---- Candidate

namespace {
constexpr Ms kNever = std::numeric_limits<Ms>::max();
}  // namespace

Candidate::Candidate(CandidateConfig cfg, Ms now, uint64_t seed)
    : cfg_(std::move(cfg)), rng_(seed), counter_(cfg_.first_ballot) {
  // The preferred candidate tries first; the others a little later, by rank.
  next_attempt_ = now + static_cast<Ms>(cfg_.rank) * 20;
}

Ms Candidate::Jitter(Ms lo, Ms hi) {
  return lo + static_cast<Ms>(rng_() % static_cast<uint64_t>(hi - lo + 1));
}

int Candidate::RankOf(const std::string& node) const {
  for (const auto& [name, rank] : cfg_.candidates) {
    if (name == node) return static_cast<int>(rank);
  }
  return -1;
}

Ms Candidate::StaggerAfter(const std::string& holder) const {
  Ms better = 0;
  for (const auto& [name, rank] : cfg_.candidates) {
    if (rank < cfg_.rank && name != holder && name != cfg_.self) ++better;
  }
  return better * std::max(kRankStaggerMs, 3 * round_trip_);
}

int Candidate::SafeLifetime(Ms now) const {
  if (!cfg_.kernel_lifetime) return 0;
  Ms s = (lease_end_ - now - kKernelSlackMs) / 1000;
  return s >= 1 ? static_cast<int>(std::min<Ms>(s, 3600)) : -1;
}

void Candidate::ToAcceptors(Msg m, Step& out) const {
  m.from = cfg_.self;
  for (const auto& a : cfg_.acceptors) {
    m.to = a;
    out.send.push_back(m);
  }
}

void Candidate::SendAll(Kind kind, Step& out) const {
  Msg m;
  m.kind = kind;
  m.ballot = round_->ballot;
  m.nonce = round_->nonce;
  ToAcceptors(std::move(m), out);
}

void Candidate::StartRound(Ms now, Step& out) {
  deferred_ = false;
  Round r;
  r.ballot = Ballot{++counter_, cfg_.rank};
  r.nonce = rng_();
  r.start = now;
  round_ = std::move(r);
  SendAll(Kind::kPrepare, out);
}

Ms Candidate::NextWake() const {
  Ms t = kNever;
  if (holding_) t = std::min(t, lease_end_ - cfg_.drop_guard);
  if (round_) t = std::min(t, round_->start + RoundTimeout());
  if (!round_ && healthy_) t = std::min(t, next_attempt_);
  return t;
}

void Candidate::Lost(Ms now, Step& out, const std::string& why) {
  if (holding_) out.effects.push_back(Effect{Action::kDrop, 0, why});
  holding_ = false;
  sticky_ = false;
  if (known_holder_ == cfg_.self) known_holder_.clear();
  next_attempt_ = now;
}

void Candidate::HandOver(const Msg* ask, Ms now, Step& out, const std::string& why) {
  const std::string to = ask ? ask->from : "";
  out.effects.push_back(Effect{Action::kDrop, 0, why});
  holding_ = false;
  sticky_ = false;
  transfer_.reset();
  known_holder_ = to;
  known_until_ = now;
  // Release the lease, and the renewal that may be under way: the acceptors drop those grants
  // only (a release names its lease's ballot).
  std::vector<Ballot> released{lease_ballot_};
  if (round_ && round_->ballot != lease_ballot_) released.push_back(round_->ballot);
  round_.reset();
  if (ask) {
    // Transfers first (they reach each node before the handover): a fresh ballot, above the
    // asker's round and every ballot of this candidate's, used for this transfer alone.
    counter_ = std::max(counter_, ask->ballot.n);
    Msg m;
    m.kind = Kind::kTransfer;
    m.ballot = Ballot{++counter_, cfg_.rank};
    m.nonce = ask->nonce;
    m.holder = to;
    ToAcceptors(m, out);
  }
  for (const auto& b : released) {
    Msg m;
    m.kind = Kind::kRelease;
    m.ballot = b;
    ToAcceptors(m, out);
  }
  for (const auto& [name, rank] : cfg_.candidates) {
    if (name == cfg_.self) continue;
    Msg m;
    m.kind = Kind::kHandover;
    m.from = cfg_.self;
    m.to = name;
    m.holder = to;
    m.held = released.back();  // the newest lease given up: grants up to it are void
    out.send.push_back(std::move(m));
  }
  // Leave the lease to the others for a while (a whole lease after handing it to one of them).
  next_attempt_ = now + (to.empty() ? RenewInterval() : cfg_.lease);
}

void Candidate::Won(Ms now, Step& out) {
  const Round r = *round_;
  round_.reset();
  transfer_.reset();
  lease_end_ = r.start + cfg_.lease;
  lease_ballot_ = r.ballot;
  epoch_ = r.ballot.n;
  last_round_ms_ = now - r.start;
  next_attempt_ = r.start + RenewInterval();
  int lifetime = SafeLifetime(now);
  if (lifetime < 0) {
    // Too slow a round: the kernel might keep the address past the lease. Leave it as it is (if
    // held, the kernel drops it by itself; the lease expiry drops it too) and try again soon.
    if (!holding_) next_attempt_ = now + Jitter(5, 20);
    return;
  }
  known_holder_ = cfg_.self;
  known_until_ = lease_end_;
  if (!holding_) {
    holding_ = true;
    if (moving_) sticky_ = true;
    moving_ = false;
    out.effects.push_back(Effect{Action::kAcquire, lifetime, "lease won"});
  } else if (cfg_.kernel_lifetime) {
    out.effects.push_back(Effect{Action::kRefresh, lifetime, "lease renewed"});
  }
}

void Candidate::Tick(Ms now, Step& out) {
  if (holding_ && now >= lease_end_ - cfg_.drop_guard) Lost(now, out, "lease expired");
  if (round_ && now >= round_->start + RoundTimeout()) {
    round_.reset();
    // Unanswered (acceptors silent after a start, or out of reach): the better ranks retry first.
    next_attempt_ = holding_ ? now + Jitter(2, 10)
                             : std::max(next_attempt_, now + Jitter(10, 30) +
                                                           static_cast<Ms>(cfg_.rank) * 25);
  }
  if (!round_ && healthy_ && now >= next_attempt_) StartRound(now, out);
}

void Candidate::HandleTransferReply(const Msg& m, Ms now, Step& out) {
  if (!transfer_ || m.nonce != transfer_->nonce || holding_) return;
  Transfer& t = *transfer_;
  if (m.kind == Kind::kReject) {
    counter_ = std::max(counter_, m.promised.n);
    t.refused.insert(m.from);
    // No majority can accept it any more: a round of its own, once the holder let go.
    if (t.refused.size() + cfg_.quorum > cfg_.acceptors.size()) {
      const bool handed = t.handed;
      transfer_.reset();
      if (handed) next_attempt_ = std::min(next_attempt_, now);
    }
    return;
  }
  if (!healthy_) return;
  if (t.accepted.empty()) t.ballot = m.ballot;
  if (m.ballot != t.ballot) return;
  t.accepted.insert(m.from);
  if (t.accepted.size() < cfg_.quorum) return;
  // A majority's grants, each started after the request left: the lease counts from then.
  counter_ = std::max(counter_, t.ballot.n);
  Round r;
  r.ballot = t.ballot;
  r.nonce = t.nonce;
  r.start = t.asked;
  r.proposing = true;
  transfer_.reset();
  round_ = std::move(r);
  Won(now, out);
}

// A promise for this candidate's round: a quorum of them either lets it propose or, when another
// node's lease is still running, has it wait for that lease's end (asking the holder to hand it
// over when it may).
void Candidate::HandlePromise(const Msg& m, Ms now, Step& out) {
  if (round_->proposing) return;
  round_->promised.insert(m.from);
  // A grant of a lease its holder told us it gave up (it removed the address first) is void,
  // though the acceptor may not have had the release yet.
  bool given_up = m.holder == released_by_ && m.held <= released_ballot_ && now < released_until_;
  if (!m.holder.empty() && m.holder != cfg_.self && m.remaining > 0 && !given_up &&
      m.remaining > round_->foreign_remaining) {
    round_->foreign = m.holder;
    round_->foreign_ballot = m.held;
    round_->foreign_remaining = m.remaining;
  }
  if (round_->promised.size() < cfg_.quorum) return;
  round_trip_ = std::max(now - round_->start, round_trip_ * 3 / 4);
  if (round_->foreign.empty() && YieldAfterLeaseEnd(now)) return;
  if (round_->foreign.empty()) {
    round_->proposing = true;
    SendAll(Kind::kPropose, out);
    return;
  }
  // Another candidate holds an unexpired lease: wait until it ends (or is handed over).
  const Round r = *round_;
  round_.reset();
  if (holding_) Lost(now, out, "another node holds the lease");
  known_holder_ = r.foreign;
  known_until_ = now + r.foreign_remaining;
  yielded_ = false;
  epoch_ = r.foreign_ballot.n;
  // Right after it ends, in rank order (the holder not counted), so that the best live
  // candidate's prepare reaches the next one before that one starts (Heard defers it).
  next_attempt_ = now + r.foreign_remaining + 1 + StaggerAfter(r.foreign);
  int theirs = RankOf(r.foreign);
  bool ask = moving_ || (cfg_.preempt && theirs > static_cast<int>(cfg_.rank));
  if (ask) {
    Msg q;
    q.kind = moving_ ? Kind::kMove : Kind::kPreempt;
    q.from = cfg_.self;
    q.to = r.foreign;
    q.ballot = r.ballot;
    q.nonce = rng_();
    transfer_ = Transfer{};
    transfer_->nonce = q.nonce;
    transfer_->asked = now;
    out.send.push_back(std::move(q));
  }
}

// A holder gave its lease up, naming who should take it: that node tries at once, the others
// after it had its chance; a grant of the given-up lease no longer counts.
void Candidate::HandleHandover(const Msg& m, Ms now) {
  if (known_holder_ == m.from) known_holder_.clear();
  released_by_ = m.from;
  released_ballot_ = m.held;
  released_until_ = now + cfg_.lease;
  round_.reset();
  // The named node first (once the transfer had its time, if one is under way); the others
  // after it had its chance.
  if (m.holder == cfg_.self && transfer_) {
    transfer_->handed = true;
    next_attempt_ = now + std::max(kRankStaggerMs, 3 * round_trip_);
  } else {
    next_attempt_ = m.holder == cfg_.self
                        ? now
                        : now + 30 + static_cast<Ms>(cfg_.rank) * 15 + Jitter(0, 10);
  }
}

void Candidate::Handle(const Msg& m, Ms now, Step& out) {
  if (m.to != cfg_.self) return;
  const bool mine = round_ && m.ballot == round_->ballot && m.nonce == round_->nonce;
  switch (m.kind) {
    case Kind::kPromise:
      if (mine) HandlePromise(m, now, out);
      return;
    case Kind::kAccept:
      if (!mine) return HandleTransferReply(m, now, out);
      if (!round_->proposing) return;
      round_->accepted.insert(m.from);
      if (round_->accepted.size() >= cfg_.quorum) Won(now, out);
      return;
    case Kind::kReject:
      if (!mine) return HandleTransferReply(m, now, out);
      counter_ = std::max(counter_, m.promised.n);
      round_.reset();
      // Retry soon, the better live ranks first.
      next_attempt_ = now + (holding_ ? Jitter(1, 10) : Jitter(5, 15) + StaggerAfter(known_holder_));
      return;
    case Kind::kPreempt: {
      int theirs = RankOf(m.from);
      if (holding_ && cfg_.preempt && !sticky_ && theirs >= 0 &&
          theirs < static_cast<int>(cfg_.rank)) {
        HandOver(&m, now, out, "preempted by " + m.from);
      }
      return;
    }
    case Kind::kMove:
      if (holding_ && RankOf(m.from) >= 0) HandOver(&m, now, out, "moved to " + m.from);
      return;
    case Kind::kHandover:
      if (RankOf(m.from) >= 0 && !holding_) HandleHandover(m, now);
      return;
    default:
      return;
  }
}

void Candidate::SetHealthy(bool healthy, Ms now, Step& out) {
  if (healthy == healthy_) return;
  healthy_ = healthy;
  if (!healthy) {
    if (holding_) HandOver(nullptr, now, out, "service check failed");
    round_.reset();
    transfer_.reset();
    moving_ = false;
    return;
  }
  next_attempt_ = now + static_cast<Ms>(cfg_.rank) * 20;
}

bool Candidate::YieldAfterLeaseEnd(Ms now) {
  // Only just after another candidate's lease ended, and once per such end.
  if (holding_ || moving_ || yielded_ || known_holder_.empty() || known_holder_ == cfg_.self ||
      now > known_until_ + cfg_.lease) {
    return false;
  }
  Ms stagger = StaggerAfter(known_holder_);
  if (stagger == 0) return false;
  // Better-ranked candidates waited for the same end, maybe from a later reading of it: leave
  // them the time to propose first. This one's estimate may be of an earlier grant than theirs.
  yielded_ = true;
  round_.reset();
  next_attempt_ = now + stagger;
  return true;
}

void Candidate::Heard(const Msg& prepare, Ms now) {
  if (prepare.kind != Kind::kPrepare || prepare.from == cfg_.self) return;
  counter_ = std::max(counter_, prepare.ballot.n);
  int theirs = RankOf(prepare.from);
  if (holding_ || moving_ || deferred_ || theirs < 0 || theirs >= static_cast<int>(cfg_.rank)) return;
  // Its round is under way: leave it that long. Once per attempt, so that a better candidate that
  // reaches no majority (its prepares still arrive here) delays this one by a round at most.
  Ms after = now + RoundTimeout() + Jitter(0, 10);
  if (after <= next_attempt_) return;
  deferred_ = true;
  next_attempt_ = after;
}

void Candidate::Move(Ms now, Step& out) {
  if (holding_ || !healthy_) return;
  moving_ = true;
  round_.reset();
  transfer_.reset();
  StartRound(now, out);
}

}  // namespace vpcctl::vipd
