#include "vpcctl/vipd/lease.h"
#include "vpcctl/fabric/vip_view.h"

#include <algorithm>

#include "vpcctl/base/text.h"

namespace vpcctl::fabric {

using json = nlohmann::json;

namespace {

template <class T>
json OrNull(const std::optional<T>& v) {
  return v ? json(*v) : json();
}

std::string Ms(const std::optional<int64_t>& ms) {
  return ms ? std::to_string(*ms) + " ms" : std::string("-");
}

}  // namespace

LeaseSummary SummarizeLease(const std::vector<VipNodeView>& views) {
  LeaseSummary s;
  for (const auto& v : views) {
    const model::VipHealth* h = v.health;
    if (!h) continue;
    if (h->holds) s.holding.push_back(v.node);
    if (!h->holder || !h->epoch) continue;
    // The newest epoch wins; at one epoch, the view with the most time left.
    if (!s.epoch || *h->epoch > *s.epoch ||
        (*h->epoch == *s.epoch && h->remaining_ms.value_or(0) > s.remaining_ms.value_or(0))) {
      s.holder = h->holder;
      s.epoch = h->epoch;
      s.remaining_ms = h->remaining_ms;
    }
  }
  return s;
}

std::optional<std::string> ShortLeaseWarning(const std::string& vpc, const model::Vip& v,
                                             const std::vector<VipNodeView>& views) {
  const VipNodeView* slowest = nullptr;
  for (const auto& nv : views) {
    if (!nv.health || !nv.health->round_ms) continue;
    if (!slowest || *nv.health->round_ms > *slowest->health->round_ms) slowest = &nv;
  }
  // A round must end within a fifth of the lease (vipd renews that often) and, for the holder to
  // renew the address's kernel lifetime, before the lease is down to 1 s + the kernel's slack.
  const int64_t kernel = 1000 + vipd::kKernelSlackMs;
  if (!slowest) return std::nullopt;
  int64_t round = *slowest->health->round_ms;
  if (round <= std::min<int64_t>(v.lease_ms / 5, v.lease_ms - kernel)) return std::nullopt;
  int64_t want = std::max<int64_t>(round * 10, kernel + 2 * round);
  int64_t fit = std::min<int64_t>(model::kMaxLeaseMs, ((want + 99) / 100) * 100);
  return "VIP " + v.address.ToString() + " (vhid " + std::to_string(v.vhid) + ") of " + vpc +
         ": its lease of " +
         std::to_string(v.lease_ms) + " ms is short against the lease round of " +
         std::to_string(round) + " ms measured on " + slowest->node +
         " (vipd renews every fifth of the lease, and the address's kernel lifetime only while 1.3 s of it are left after a round); consider `vpcctl vip set " + vpc + " " +
         std::to_string(v.vhid) + " --lease " + std::to_string(fit) + "`";
}

std::string LeaseText(const LeaseSummary& s) {
  if (!s.holder) return "-";
  std::string out = *s.holder + " (epoch " + std::to_string(s.epoch.value_or(0));
  if (s.remaining_ms) out += ", " + std::to_string(*s.remaining_ms) + " ms left";
  return out + ")";
}

std::string LastTransitionText(const model::VipHealth* h) {
  if (!h || !h->state) return "-";
  return *h->state + " at " + h->since.value_or("?");
}

std::string VipSettingsText(const model::Vip& v) {
  std::string out = "lease " + std::to_string(v.lease_ms) + " ms, check " +
                    (v.check.empty() ? std::string("none") : Quoted(v.check)) + ", witness " +
                    (v.witness.empty() ? std::string("none") : v.witness) + ", " +
                    (v.preempt ? "preempt" : "no preempt");
  if (v.unsafe_two_node) out += ", UNSAFE two-node (each node may hold it alone)";
  return out;
}

json LeaseJson(const LeaseSummary& s) {
  return {{"holder", OrNull(s.holder)},
          {"epoch", OrNull(s.epoch)},
          {"remaining_ms", OrNull(s.remaining_ms)},
          {"holding", s.holding}};
}

json NodeViewJson(const VipNodeView& v) {
  const model::VipHealth* h = v.health;
  json events = json::array();
  if (h) {
    for (const auto& e : h->events) events.push_back({{"state", e.state}, {"at", e.at}});
  }
  return {{"node", v.node},
          {"rank", v.rank >= 0 ? json(v.rank) : json()},
          {"holds", h ? json(h->holds) : json()},
          {"lease_state", h ? OrNull(h->lease_state) : json()},
          {"holder", h ? OrNull(h->holder) : json()},
          {"epoch", h ? OrNull(h->epoch) : json()},
          {"remaining_ms", h ? OrNull(h->remaining_ms) : json()},
          {"round_ms", h ? OrNull(h->round_ms) : json()},
          {"state", h ? OrNull(h->state) : json()},
          {"since", h ? OrNull(h->since) : json()},
          {"events", events},
          {"error", v.error.empty() ? json() : json(v.error)}};
}

std::vector<std::string> NodeViewHeader() {
  return {"NODE", "RANK", "HOLDS", "LEASE", "HOLDER", "EPOCH", "REMAINING", "ROUND", "LAST"};
}

std::vector<std::string> NodeViewRow(const VipNodeView& v) {
  const model::VipHealth* h = v.health;
  std::string rank = v.rank >= 0 ? std::to_string(v.rank + 1) : "-";
  if (!h) return {v.node, rank, "?", v.error.empty() ? "-" : "unreachable", "-", "-", "-", "-", "-"};
  return {v.node,
          rank,
          h->holds ? "yes" : "no",
          h->lease_state.value_or("-"),
          h->holder.value_or("-"),
          h->epoch ? std::to_string(*h->epoch) : "-",
          Ms(h->remaining_ms),
          Ms(h->round_ms),
          LastTransitionText(h)};
}

}  // namespace vpcctl::fabric
