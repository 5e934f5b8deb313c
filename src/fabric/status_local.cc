// status --local: this node's drift, and the health of its tunnels: a ping of each peer's overlay
// address through the bridge and, in encrypted VPCs, the age of each WireGuard handshake.
#include "vpcctl/fabric/status_local.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <ostream>

#include "vpcctl/base/text.h"
#include "vpcctl/fabric/apply.h"
#include "vpcctl/fabric/format.h"
#include "vpcctl/fabric/init.h"
#include "vpcctl/fabric/node_state.h"
#include "vpcctl/fabric/remote.h"
#include "vpcctl/model/names.h"
#include "vpcctl/plan/diff.h"
#include "vpcctl/platform/driver.h"
#include "vpcctl/probe/prober.h"
#include "vpcctl/vipd/daemon.h"

namespace vpcctl::fabric {

namespace {

std::string HandshakeText(const model::PeerHealth& p) {
  if (!p.encrypted) return "-";
  std::string hs = p.handshake_age_s ? std::to_string(*p.handshake_age_s) + "s ago" : "never";
  return p.handshake_stale ? hs + " (stale)" : hs;
}

void PrintStatusText(std::ostream& out, const model::StatusReport& r) {
  out << r.node << ": map generation " << r.generation << "\n";
  for (const auto& v : r.vpcs) {
    out << v.name << " (" << v.address << "): " << v.drift.size() << " step(s) of drift\n";
    for (const auto& s : v.drift) out << "  " << s.description << "\n";
    Table t({"PEER", "ADDRESS", "LOSS", "RTT MS", "MTU", "HANDSHAKE"});
    for (const auto& p : v.peers) {
      char loss[16], rtt[16] = "-";
      std::snprintf(loss, sizeof loss, "%.0f%%", p.loss_pct);
      if (p.rtt_ms) std::snprintf(rtt, sizeof rtt, "%.2f", *p.rtt_ms);
      std::string mtu = !p.mtu_ok ? "-" : std::to_string(p.mtu) + (*p.mtu_ok ? " ok" : " DROPPED");
      t.Row({p.node, p.address, loss, rtt, mtu, HandshakeText(p)});
    }
    t.Print(out);
    for (const auto& p : v.peers) {
      if (p.error) out << "  " << p.node << ": " << *p.error << "\n";
      if (p.mtu_ok == false) out << "  " << p.node << ": " << PathMtuText(p) << "\n";
    }
    for (const auto& vip : v.vips) {
      out << "VIP " << vip.address << " (vhid " << vip.vhid
          << "): " << (vip.holds ? "held here" : "not held here");
      if (vip.state) out << ", " << *vip.state << " since " << vip.since.value_or("?");
      out << "\n";
    }
  }
  for (const auto& s : r.stray) out << "drift: " << s << "\n";
  if (r.error) out << "error: " << *r.error << "\n";
}

// The lease fields of `v` from vipd's status answer (types checked: it is another process's).
void FillLease(model::VipHealth& v, const nlohmann::json& leases, const std::string& vpc) {
  for (const auto& l : leases) {
    if (!l.is_object() || l.value("vpc", "") != vpc || l.value("vhid", -1) != v.vhid) continue;
    auto str = [&](const char* k) -> std::optional<std::string> {
      if (l.contains(k) && l[k].is_string()) return Printable(l[k].get<std::string>());
      return std::nullopt;
    };
    auto num = [&](const char* k) -> std::optional<int64_t> {
      if (l.contains(k) && l[k].is_number_integer()) return l[k].get<int64_t>();
      return std::nullopt;
    };
    v.holder = str("holder");
    if (auto e = num("epoch"); e && *e >= 0) v.epoch = static_cast<uint64_t>(*e);
    v.remaining_ms = num("remaining_ms");
    v.lease_state = str("state");
    v.round_ms = num("round_ms");
  }
}

// One peer to probe: its VPC, its node and where its overlay address is reached.
struct PeerJob {
  std::string vpc, peer;
  probe::Target target;
};

// Every other member of this node's VPCs (of `only` when set).
std::vector<PeerJob> PeerJobs(const plan::Desired& desired, const HeldMap& held,
                              const std::string& only) {
  std::vector<PeerJob> jobs;
  for (const auto& dv : desired.vpcs) {
    if (!only.empty() && dv.vpc != only) continue;
    const model::Vpc* v = held.map.fabric.FindVpc(dv.vpc);
    for (const auto& m : v->members) {
      if (m.node == held.node) continue;
      jobs.push_back(
          {dv.vpc, m.node, probe::Target{dv.address.address, m.overlay, dv.vpc, dv.mtu}});
    }
  }
  return jobs;
}

// What the prober answered for each job (same order), or why it could not.
struct PeerProbes {
  std::vector<probe::Outcome> outcomes;
  std::string error;
};

// One prober for every peer: resolved first, paced, retried, and a full-size check per pair.
PeerProbes ProbePeers(Context& ctx, const std::vector<PeerJob>& jobs) {
  PeerProbes r;
  r.outcomes.resize(jobs.size());
  if (jobs.empty()) return r;
  std::vector<probe::Target> targets;
  for (const auto& j : jobs) targets.push_back(j.target);
  auto probed = ctx.prober.Probe(targets, probe::Plan{});
  if (probed && probed->size() == targets.size()) {
    r.outcomes = std::move(*probed);
  } else {
    r.error = probed ? "the prober answered for the wrong peers" : probed.error().message;
  }
  return r;
}

// WireGuard's view of the peers, read after the probes (which start a handshake where none was
// due); nothing when the node runs no WireGuard or `wg` does not answer.
std::optional<plan::ObservedWireguard> ReadHandshakes(Context& ctx, const plan::Desired& desired) {
  if (!desired.wireguard) return std::nullopt;
  auto r = ctx.runner.Run(platform::WireguardProbe(desired.wireguard->ifname), "",
                          std::chrono::seconds(10));
  if (!r || !r->ok()) return std::nullopt;
  platform::ScrubWgDump(r->out);
  auto parsed = platform::ParseWgDump(r->out);
  if (!parsed) return std::nullopt;
  return std::move(*parsed);
}

// What vipd knows of each lease (an empty array when the node has no VIP or vipd does not answer:
// the drift then says it is down).
nlohmann::json AskLeases(Context& ctx, const plan::Desired& desired) {
  bool any_vip = false;
  for (const auto& dv : desired.vpcs) any_vip = any_vip || !dv.vips.empty();
  if (!any_vip) return nlohmann::json::array();
  auto answer = vipd::Ask(ctx.paths.dir, {{"op", "status"}}, std::chrono::seconds(1));
  if (answer && answer->contains("vips") && (*answer)["vips"].is_array()) return (*answer)["vips"];
  return nlohmann::json::array();
}

// Everything the report is made of, gathered by the steps above; BuildStatusReport is pure.
struct StatusInputs {
  StatusInputs(const HeldMap& h, const plan::Desired& d, const plan::Observed& o)
      : held(h), desired(d), observed(o) {}
  const HeldMap& held;
  const plan::Desired& desired;
  const plan::Observed& observed;
  std::vector<plan::Step> drift;
  std::string drift_error;
  std::vector<PeerJob> jobs;
  PeerProbes probes;
  std::optional<plan::ObservedWireguard> wireguard;
  std::map<std::string, const plan::ObservedWgPeer*> handshakes;  // peer node -> its entry there
  nlohmann::json leases;
  std::map<std::pair<std::string, int>, std::vector<store::VipEvent>> vip_events;  // (vpc, vhid)
  int64_t now = 0;                                                                 // Unix time
  std::string only;                                                                // --vpc
};

model::PeerHealth PeerHealthOf(const StatusInputs& in, size_t k, bool encrypted) {
  const PeerJob& j = in.jobs[k];
  const probe::Outcome& r = in.probes.outcomes[k];
  model::PeerHealth p;
  p.node = j.peer;
  p.address = j.target.address.ToString();
  p.transmitted = r.sent;
  p.received = r.received;
  p.loss_pct = r.LossPct();
  p.rtt_ms = r.rtt_ms;
  p.mtu = r.mtu;
  p.mtu_ok = r.mtu_ok;
  p.path_mtu = r.path_mtu;
  if (!in.probes.error.empty()) {
    p.error = in.probes.error;
  } else if (!r.error.empty()) {
    p.error = r.error;
  } else if (!r.resolved) {
    p.error = "no answer";
  }
  if (encrypted) {
    // A handshake older than WireGuard's reject-after time (or none) means no session.
    auto found = in.handshakes.find(j.peer);
    const plan::ObservedWgPeer* hs = found == in.handshakes.end() ? nullptr : found->second;
    bool never = !hs || hs->latest_handshake == 0;
    if (!never) p.handshake_age_s = std::max<int64_t>(0, in.now - hs->latest_handshake);
    p.encrypted = true;
    p.handshake_stale = never || *p.handshake_age_s > kStaleHandshakeSeconds;
  }
  return p;
}

model::VipHealth VipHealthOf(const StatusInputs& in, const plan::DesiredVpc& dv,
                             const plan::DesiredVip& vip) {
  model::VipHealth v;
  v.vhid = vip.vhid;
  v.address = vip.address.ToString();
  v.rank = vip.rank;
  if (const plan::ObservedInterface* bridge = in.observed.Find(dv.vpc)) {
    for (const auto& a : bridge->addresses) v.holds = v.holds || a.address == vip.address;
    for (const auto& c : bridge->vips) {
      v.holds = v.holds || (c.vhid == vip.vhid && c.address == vip.address && c.state == "MASTER");
    }
  }
  if (auto it = in.vip_events.find({dv.vpc, vip.vhid}); it != in.vip_events.end()) {
    for (const auto& e : it->second) v.events.push_back({e.state, e.at});
  }
  if (!v.events.empty()) {
    v.state = v.events[0].state;
    v.since = v.events[0].at;
  }
  FillLease(v, in.leases, dv.vpc);
  return v;
}

model::GuestHealth GuestHealthOf(const StatusInputs& in, const model::Attachment& r) {
  const plan::ObservedInterface* i = in.observed.Find(r.ifname);
  model::GuestHealth g;
  g.kind = model::GuestKindName(r.kind);
  g.guest = r.guest;
  g.interface = r.ifname;
  if (r.address) g.address = r.address->ToString();
  g.present = i != nullptr;
  g.on_bridge = i != nullptr && i->master == r.vpc;
  return g;
}

// The node's report: drift, each peer's health, VIPs and guests, per VPC. Pure.
model::StatusReport BuildStatusReport(const StatusInputs& in) {
  model::StatusReport report;
  report.node = in.held.node;
  report.generation = in.held.generation;
  report.healthy = in.drift.empty() && in.drift_error.empty();
  for (const auto& dv : in.desired.vpcs) {
    if (!in.only.empty() && dv.vpc != in.only) continue;
    model::VpcHealth vh;
    vh.name = dv.vpc;
    vh.encrypted = dv.encrypted;
    vh.address = dv.address.ToString();
    std::vector<plan::Step> mine;
    for (const auto& s : in.drift)
      if (s.vpc == dv.vpc) mine.push_back(s);
    vh.drift = StepReports(mine);
    for (size_t k = 0; k < in.jobs.size(); ++k) {
      if (in.jobs[k].vpc != dv.vpc) continue;
      model::PeerHealth p = PeerHealthOf(in, k, dv.encrypted);
      if (p.error || p.loss_pct > 0 || p.mtu_ok == false || p.handshake_stale) {
        report.healthy = false;
      }
      vh.peers.push_back(std::move(p));
    }
    for (const auto& vip : dv.vips) vh.vips.push_back(VipHealthOf(in, dv, vip));
    for (const auto& da : in.desired.attachments) {
      if (da.record.vpc == dv.vpc) vh.attachments.push_back(GuestHealthOf(in, da.record));
    }
    report.vpcs.push_back(std::move(vh));
  }
  // Owned interfaces of VPCs this node no longer has are drift too.
  for (const auto& s : in.drift) {
    bool listed = false;
    for (const auto& dv : in.desired.vpcs) listed = listed || dv.vpc == s.vpc;
    if (!listed && (in.only.empty() || s.vpc == in.only || s.vpc.empty())) {
      report.stray.push_back(plan::Describe(s));
    }
  }
  if (!in.drift_error.empty()) report.error = in.drift_error;
  return report;
}

}  // namespace

// Pipeline: validate, load the held map, probe the node (drift), probe the peers, read WireGuard,
// vipd and the recorded VIP events, build the report (pure), render it as text or JSON.
Status StatusLocal(Context& ctx, const StatusLocalOptions& o) {
  if (!o.vpc.empty()) VPC_TRY(model::ValidateVpcName(o.vpc));
  VPC_ASSIGN_OR_RETURN(auto db, OpenNodeStore(ctx));
  VPC_ASSIGN_OR_RETURN(HeldMap held, LoadHeldMap(*db));
  VPC_ASSIGN_OR_RETURN(model::Platform platform, LocalPlatform(ctx));
  const auto& driver = platform::DriverFor(platform);
  VPC_ASSIGN_OR_RETURN(LocatedNode located, DesireAndProbe(ctx, driver, *db, held, false));
  const plan::Desired& desired = located.desired;
  const plan::Observed& observed = located.observed;
  StatusInputs in(held, desired, observed);
  in.only = o.vpc;
  if (auto steps = plan::Diff(desired, observed)) {
    in.drift = std::move(*steps);
  } else {
    in.drift_error = steps.error().message;
  }
  in.jobs = PeerJobs(desired, held, o.vpc);
  if (!o.vpc.empty() && !held.map.fabric.FindVpc(o.vpc)) {
    return UsageError("VPC " + Quoted(o.vpc) + " is not in this node's map");
  }
  in.probes = ProbePeers(ctx, in.jobs);
  in.wireguard = ReadHandshakes(ctx, desired);
  if (desired.wireguard && in.wireguard) {
    for (const auto& wp : desired.wireguard->peers) {
      if (!wp.public_key.empty()) in.handshakes[wp.node] = in.wireguard->Find(wp.public_key);
    }
  }
  in.now = ctx.Time().NowMs() / 1000;  // the context's clock: tests hold it still
  in.leases = AskLeases(ctx, desired);
  for (const auto& dv : desired.vpcs) {
    for (const auto& vip : dv.vips) {
      auto recent = db->VipEvents(dv.vpc, vip.vhid, 5);
      if (recent.ok()) in.vip_events[{dv.vpc, vip.vhid}] = std::move(*recent);
    }
  }
  model::StatusReport report = BuildStatusReport(in);
  if (o.json) {
    PrintJson(ctx.io.out, report.ToJson());
  } else {
    PrintStatusText(ctx.io.out, report);
  }
  if (!report.healthy)
    return Error{held.node + ": drift or loss on the overlay", Exit::kNotConverged};
  return {};
}

}  // namespace vpcctl::fabric
