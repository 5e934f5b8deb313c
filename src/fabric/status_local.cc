// status --local: this node's drift, and the health of its tunnels: a ping of each peer's overlay
// address through the bridge and, in encrypted VPCs, the age of each WireGuard handshake.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <ostream>

#include "vpcctl/base/text.h"
#include "vpcctl/fabric/format.h"
#include "vpcctl/fabric/node_ops.h"
#include "vpcctl/fabric/node_state.h"
#include "vpcctl/fabric/ops.h"
#include "vpcctl/fabric/remote.h"
#include "vpcctl/model/names.h"
#include "vpcctl/plan/diff.h"
#include "vpcctl/probe/prober.h"
#include "vpcctl/platform/driver.h"
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
      out << "VIP " << vip.address << " (vhid " << vip.vhid << "): "
          << (vip.holds ? "held here" : "not held here");
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

}  // namespace

Status StatusLocal(Context& ctx, const StatusLocalOptions& o) {
  if (!o.vpc.empty()) VPC_TRY(model::ValidateVpcName(o.vpc));
  VPC_ASSIGN_OR_RETURN(auto db, OpenNodeStore(ctx));
  VPC_ASSIGN_OR_RETURN(HeldMap held, LoadHeldMap(*db));
  VPC_ASSIGN_OR_RETURN(model::Platform platform, LocalPlatform());
  const auto& driver = platform::DriverFor(platform);
  VPC_ASSIGN_OR_RETURN(plan::Desired desired,
                       NodeDesired(ctx, *db, held.map, held.node, platform, false));
  VPC_ASSIGN_OR_RETURN(plan::Observed observed, ProbeNode(ctx, driver, desired));
  auto steps = plan::Diff(desired, observed);
  std::vector<plan::Step> drift;
  std::string drift_error;
  if (steps) {
    drift = *steps;
  } else {
    drift_error = steps.error().message;
  }
  struct Job {
    std::string vpc, peer;
  };
  std::vector<Job> jobs;
  std::vector<probe::Target> targets;
  for (const auto& dv : desired.vpcs) {
    if (!o.vpc.empty() && dv.vpc != o.vpc) continue;
    const model::Vpc* v = held.map.fabric.FindVpc(dv.vpc);
    for (const auto& m : v->members) {
      if (m.node == held.node) continue;
      jobs.push_back(Job{dv.vpc, m.node});
      targets.push_back(probe::Target{dv.address.address, m.overlay, dv.vpc, dv.mtu});
    }
  }
  if (!o.vpc.empty() && !held.map.fabric.FindVpc(o.vpc)) {
    return UsageError("VPC " + Quoted(o.vpc) + " is not in this node's map");
  }
  // One prober for every peer: resolved first, paced, retried, and a full-size check per pair.
  std::vector<probe::Outcome> outcomes(targets.size());
  std::string probe_error;
  if (!targets.empty()) {
    auto probed = ctx.prober.Probe(targets, probe::Plan{});
    if (probed && probed->size() == targets.size()) {
      outcomes = std::move(*probed);
    } else {
      probe_error = probed ? "the prober answered for the wrong peers" : probed.error().message;
    }
  }
  // WireGuard handshakes, read after the probes (which start one where none was due).
  std::map<std::string, const plan::ObservedWgPeer*> handshakes;  // peer node -> its entry
  std::optional<plan::ObservedWireguard> wg_now;
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  if (desired.wireguard) {
    auto r = ctx.runner.Run(platform::WireguardProbe(desired.wireguard->ifname), "",
                            std::chrono::seconds(10));
    if (r && r->ok()) {
      platform::ScrubWgDump(r->out);
      auto parsed = platform::ParseWgDump(r->out);
      if (parsed) wg_now = std::move(*parsed);
    }
    for (const auto& p : desired.wireguard->peers) {
      handshakes[p.node] = wg_now && !p.public_key.empty() ? wg_now->Find(p.public_key) : nullptr;
    }
  }
  model::StatusReport report;
  report.node = held.node;
  report.generation = held.generation;
  report.healthy = drift.empty() && drift_error.empty();
  // What vipd knows of each lease (nothing when it does not answer: the drift says it is down).
  nlohmann::json leases = nlohmann::json::array();
  bool any_vip = false;
  for (const auto& dv : desired.vpcs) any_vip = any_vip || !dv.vips.empty();
  if (any_vip) {
    auto answer = vipd::Ask(ctx.paths.dir, {{"op", "status"}}, std::chrono::seconds(1));
    if (answer && answer->contains("vips") && (*answer)["vips"].is_array()) leases = (*answer)["vips"];
  }
  for (const auto& dv : desired.vpcs) {
    if (!o.vpc.empty() && dv.vpc != o.vpc) continue;
    model::VpcHealth vh;
    vh.name = dv.vpc;
    vh.encrypted = dv.encrypted;
    vh.address = dv.address.ToString();
    std::vector<plan::Step> mine;
    for (const auto& s : drift)
      if (s.vpc == dv.vpc) mine.push_back(s);
    vh.drift = StepReports(mine);
    for (size_t k = 0; k < jobs.size(); ++k) {
      const Job& j = jobs[k];
      if (j.vpc != dv.vpc) continue;
      const probe::Outcome& r = outcomes[k];
      model::PeerHealth p;
      p.node = j.peer;
      p.address = targets[k].address.ToString();
      p.transmitted = r.sent;
      p.received = r.received;
      p.loss_pct = r.LossPct();
      p.rtt_ms = r.rtt_ms;
      p.mtu = r.mtu;
      p.mtu_ok = r.mtu_ok;
      p.path_mtu = r.path_mtu;
      if (!probe_error.empty()) {
        p.error = probe_error;
      } else if (!r.error.empty()) {
        p.error = r.error;
      } else if (!r.resolved) {
        p.error = "no answer";
      }
      if (p.error || p.loss_pct > 0 || p.mtu_ok == false) report.healthy = false;
      if (dv.encrypted) {
        // A handshake older than WireGuard's reject-after time (or none) means no session.
        const plan::ObservedWgPeer* hs = handshakes.count(j.peer) ? handshakes[j.peer] : nullptr;
        bool never = !hs || hs->latest_handshake == 0;
        if (!never) p.handshake_age_s = std::max<int64_t>(0, now - hs->latest_handshake);
        p.encrypted = true;
        p.handshake_stale = never || *p.handshake_age_s > kStaleHandshakeSeconds;
        if (p.handshake_stale) report.healthy = false;
      }
      vh.peers.push_back(std::move(p));
    }
    const plan::ObservedInterface* bridge = observed.Find(dv.vpc);
    for (const auto& vip : dv.vips) {
      model::VipHealth v;
      v.vhid = vip.vhid;
      v.address = vip.address.ToString();
      v.rank = vip.rank;
      if (bridge) {
        for (const auto& a : bridge->addresses) v.holds = v.holds || a.address == vip.address;
        for (const auto& c : bridge->vips) {
          v.holds = v.holds || (c.vhid == vip.vhid && c.address == vip.address && c.state == "MASTER");
        }
      }
      auto recent = db->VipEvents(dv.vpc, vip.vhid, 5);
      if (recent.ok()) {
        for (const auto& e : *recent) v.events.push_back({e.state, e.at});
      }
      if (!v.events.empty()) {
        v.state = v.events[0].state;
        v.since = v.events[0].at;
      }
      FillLease(v, leases, dv.vpc);
      vh.vips.push_back(std::move(v));
    }
    for (const auto& da : desired.attachments) {
      const auto& r = da.record;
      if (r.vpc != dv.vpc) continue;
      const plan::ObservedInterface* i = observed.Find(r.ifname);
      model::GuestHealth g;
      g.kind = model::GuestKindName(r.kind);
      g.guest = r.guest;
      g.interface = r.ifname;
      if (r.address) g.address = r.address->ToString();
      g.present = i != nullptr;
      g.on_bridge = i != nullptr && i->master == dv.vpc;
      vh.attachments.push_back(std::move(g));
    }
    report.vpcs.push_back(std::move(vh));
  }
  // Owned interfaces of VPCs this node no longer has are drift too.
  for (const auto& s : drift) {
    bool listed = false;
    for (const auto& dv : desired.vpcs) listed = listed || dv.vpc == s.vpc;
    if (!listed && (o.vpc.empty() || s.vpc == o.vpc || s.vpc.empty())) {
      report.stray.push_back(plan::Describe(s));
    }
  }
  if (!drift_error.empty()) report.error = drift_error;
  if (o.json) {
    PrintJson(ctx.io.out, report.ToJson());
  } else {
    PrintStatusText(ctx.io.out, report);
  }
  if (!report.healthy) return Error{held.node + ": drift or loss on the overlay", Exit::kNotConverged};
  return {};
}

}  // namespace vpcctl::fabric
