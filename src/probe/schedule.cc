// The prober's schedule: pure, driven by the clock its caller passes (microseconds).
#include <algorithm>
#include <limits>

#include "vpcctl/probe/prober.h"

namespace vpcctl::probe {

namespace {

constexpr int64_t kMs = 1000;
// The small probes are ping's default size (84 bytes over IPv4, 104 over IPv6).
int SmallSize(net::Family f) { return f == net::Family::kV4 ? 84 : 104; }
// The ladder that looks for the largest frame a path carries: up to this many sizes per round,
// two rounds (1,400 bytes of range are narrowed to about a byte), one resend each.
constexpr int kLadderSizes = 40;
constexpr int kLadderRounds = 2;
constexpr int kLadderRetries = 1;

}  // namespace

double Outcome::LossPct() const {
  if (!resolved || measured == 0) return 100.0;
  return 100.0 * lost / measured;
}

Schedule::Schedule(const std::vector<Target>& targets, const Plan& plan, int64_t now_us)
    : targets_(targets), plan_(plan), per_(targets.size()) {
  for (size_t i = 0; i < targets_.size(); ++i) {
    probes_.push_back(Probe{i, Kind::kResolve, SmallSize(targets_[i].address.family()), 0, now_us});
  }
}

std::optional<Send> Schedule::Next(int64_t now_us) {
  Expire(now_us);
  if (last_send_us_ >= 0 && now_us < last_send_us_ + plan_.pace_us) return std::nullopt;
  if (tags_.size() > std::numeric_limits<uint16_t>::max()) return std::nullopt;
  size_t best = probes_.size();
  for (size_t i = 0; i < probes_.size(); ++i) {
    const Probe& p = probes_[i];
    if (!Open(p) || p.due_us > now_us) continue;
    int max_attempts = p.kind == Kind::kResolve  ? std::numeric_limits<int>::max()
                       : p.kind == Kind::kLadder ? 1 + kLadderRetries
                                                 : 1 + plan_.retries;
    if (p.attempts >= max_attempts) continue;
    if (best == probes_.size() || p.due_us < probes_[best].due_us) best = i;
  }
  if (best == probes_.size()) return std::nullopt;
  Probe& p = probes_[best];
  ++p.attempts;
  if (p.first_us < 0) p.first_us = now_us;
  p.due_us = now_us + plan_.timeout_ms * kMs;
  PerTarget& t = per_[p.target];
  if (t.started_us < 0) t.started_us = now_us;
  ++t.out.sent;
  last_send_us_ = now_us;
  auto seq = static_cast<uint16_t>(tags_.size());
  tags_.push_back(Tag{best, now_us});
  return Send{p.target, seq, p.size};
}

void Schedule::Answer(uint16_t seq, int64_t now_us) {
  if (seq >= tags_.size()) return;
  const Tag tag = tags_[seq];
  Probe& p = probes_[tag.probe];
  ++per_[p.target].out.received;
  if (!Open(p)) return;
  if (p.kind == Kind::kMeasure) {
    per_[p.target].rtt_sum += static_cast<double>(now_us - tag.sent_us) / kMs;
    ++per_[p.target].rtt_n;
  }
  Finish(tag.probe, true, now_us);
}

void Schedule::SendFailed(uint16_t seq, const std::string& error, int64_t now_us) {
  if (seq >= tags_.size()) return;
  size_t i = tags_[seq].probe;
  Outcome& out = per_[probes_[i].target].out;
  if (out.error.empty() && probes_[i].kind != Kind::kMtu && probes_[i].kind != Kind::kLadder) {
    out.error = error;
  }
  if (Open(probes_[i])) Finish(i, false, now_us);
}

void Schedule::Expire(int64_t now_us) {
  for (size_t i = 0; i < probes_.size(); ++i) {  // Finish may append ladder probes
    const Probe& p = probes_[i];
    if (!Open(p) || p.attempts == 0) continue;
    if (p.kind == Kind::kResolve) {
      if (now_us >= p.first_us + plan_.resolve_ms * kMs) Finish(i, false, now_us);
      continue;
    }
    int max_attempts = 1 + (p.kind == Kind::kLadder ? kLadderRetries : plan_.retries);
    if (p.attempts >= max_attempts && now_us >= p.due_us) Finish(i, false, now_us);
  }
}

void Schedule::Finish(size_t i, bool answered, int64_t now_us) {
  Probe& p = probes_[i];
  (answered ? p.answered : p.lost) = true;
  size_t target = p.target;
  Kind kind = p.kind;
  int size = p.size;
  PerTarget& t = per_[target];
  switch (kind) {
    case Kind::kResolve:
      if (answered) Resolved(target, now_us);
      break;
    case Kind::kMeasure:
      if (!answered) ++t.out.lost;
      break;
    case Kind::kMtu:
      t.out.mtu_ok = answered;
      if (!answered) StartLadder(target, SmallSize(targets_[target].address.family()), size, now_us);
      break;
    case Kind::kLadder: {
      bool open = false;
      for (size_t k : t.ladder) open = open || Open(probes_[k]);
      if (!open) LadderDone(target, now_us);
      break;
    }
  }
}

void Schedule::Resolved(size_t target, int64_t now_us) {
  PerTarget& t = per_[target];
  t.out.resolved = true;
  net::Family f = targets_[target].address.family();
  for (int k = 0; k < plan_.count; ++k) {
    probes_.push_back(Probe{target, Kind::kMeasure, SmallSize(f), 0, now_us + k * plan_.gap_ms * kMs});
    ++t.out.measured;
  }
  if (plan_.mtu) {
    t.out.mtu = targets_[target].mtu;
    probes_.push_back(Probe{target, Kind::kMtu, targets_[target].mtu, 0, now_us});
  }
}

void Schedule::StartLadder(size_t target, int lo, int hi, int64_t now_us) {
  PerTarget& t = per_[target];
  t.ladder_lo = lo;
  t.ladder_hi = hi;
  t.ladder.clear();
  int span = hi - lo - 1;  // the sizes strictly between
  int n = std::min(span, kLadderSizes);
  if (n <= 0) {
    t.out.path_mtu = lo;
    return;
  }
  int last = lo;
  for (int k = 1; k <= n; ++k) {
    int size = lo + static_cast<int>((static_cast<int64_t>(hi - lo) * k) / (n + 1));
    if (size <= last || size >= hi) continue;
    last = size;
    t.ladder.push_back(probes_.size());
    probes_.push_back(Probe{target, Kind::kLadder, size, 0, now_us});
  }
}

void Schedule::LadderDone(size_t target, int64_t now_us) {
  PerTarget& t = per_[target];
  int lo = t.ladder_lo, hi = t.ladder_hi;
  for (size_t k : t.ladder) {
    if (probes_[k].answered) lo = std::max(lo, probes_[k].size);
  }
  for (size_t k : t.ladder) {
    if (!probes_[k].answered && probes_[k].size > lo) hi = std::min(hi, probes_[k].size);
  }
  if (++t.ladder_round < kLadderRounds && hi - lo > 1) {
    StartLadder(target, lo, hi, now_us);
  } else {
    t.ladder.clear();
    t.out.path_mtu = lo;
  }
}

int64_t Schedule::WakeAt(int64_t now_us) const {
  int64_t wake = std::numeric_limits<int64_t>::max();
  for (const Probe& p : probes_) {
    if (!Open(p)) continue;
    int64_t at = p.due_us;
    if (p.kind == Kind::kResolve && p.attempts > 0) {
      at = std::min(at, p.first_us + plan_.resolve_ms * kMs);
    }
    wake = std::min(wake, at);
  }
  if (last_send_us_ >= 0) wake = std::max(wake, last_send_us_ + plan_.pace_us);
  return std::max(wake, now_us);
}

bool Schedule::Done() const {
  for (const Probe& p : probes_) {
    if (Open(p)) return false;
  }
  return true;
}

std::vector<Outcome> Schedule::Outcomes() const {
  std::vector<Outcome> out;
  for (const PerTarget& t : per_) {
    Outcome o = t.out;
    if (t.rtt_n > 0) o.rtt_ms = t.rtt_sum / t.rtt_n;
    out.push_back(o);
  }
  return out;
}

}  // namespace vpcctl::probe
