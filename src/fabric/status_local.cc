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
#include "vpcctl/platform/driver.h"

namespace vpcctl::fabric {

using json = nlohmann::json;

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
  json report = {{"node", held.node}, {"generation", held.generation}};
  std::vector<plan::Step> drift;
  std::string drift_error;
  if (steps) {
    drift = *steps;
  } else {
    drift_error = steps.error().message;
  }
  struct Job {
    std::string vpc, peer;
    net::IpAddress from, to;
    platform::PingResult result;
    std::string error;
  };
  std::vector<Job> jobs;
  for (const auto& dv : desired.vpcs) {
    if (!o.vpc.empty() && dv.vpc != o.vpc) continue;
    const model::Vpc* v = held.map.fabric.FindVpc(dv.vpc);
    for (const auto& m : v->members) {
      if (m.node == held.node) continue;
      jobs.push_back(Job{dv.vpc, m.node, dv.address.address, m.overlay, {}, {}});
    }
  }
  if (!o.vpc.empty() && !held.map.fabric.FindVpc(o.vpc)) {
    return UsageError("VPC " + Quoted(o.vpc) + " is not in this node's map");
  }
  ParallelFor(jobs.size(), 32, [&](size_t i) {
    Job& j = jobs[i];
    auto r = ctx.runner.Run(driver.PingCommand(j.vpc, j.from, j.to, 3), "", std::chrono::seconds(10));
    if (!r) {
      j.error = r.error().message;
      return;
    }
    auto parsed = platform::ParsePing(r->out);
    if (!parsed) {
      j.error = std::string(Trim(r->err.empty() ? r->out : r->err));
      return;
    }
    j.result = *parsed;
  });
  // WireGuard handshakes, read after the pings (which start one where none was due).
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
  bool healthy = drift.empty() && drift_error.empty();
  json vpcs = json::array();
  for (const auto& dv : desired.vpcs) {
    if (!o.vpc.empty() && dv.vpc != o.vpc) continue;
    std::vector<plan::Step> mine;
    for (const auto& s : drift)
      if (s.vpc == dv.vpc) mine.push_back(s);
    json peers = json::array();
    for (const auto& j : jobs) {
      if (j.vpc != dv.vpc) continue;
      double loss = j.result.transmitted
                        ? 100.0 * (j.result.transmitted - j.result.received) / j.result.transmitted
                        : 100.0;
      if (!j.error.empty() || loss > 0) healthy = false;
      json peer = {{"node", j.peer},
                   {"address", j.to.ToString()},
                   {"transmitted", j.result.transmitted},
                   {"received", j.result.received},
                   {"loss_pct", loss},
                   {"rtt_ms", j.result.avg_ms < 0 ? json() : json(j.result.avg_ms)},
                   {"error", j.error.empty() ? json() : json(j.error)}};
      if (dv.encrypted) {
        // A handshake older than WireGuard's reject-after time (or none) means no session.
        const plan::ObservedWgPeer* hs = handshakes.count(j.peer) ? handshakes[j.peer] : nullptr;
        bool never = !hs || hs->latest_handshake == 0;
        int64_t age = never ? -1 : std::max<int64_t>(0, now - hs->latest_handshake);
        bool stale = never || age > kStaleHandshakeSeconds;
        if (stale) healthy = false;
        peer["handshake_age_s"] = never ? json() : json(age);
        peer["handshake_stale"] = stale;
      }
      peers.push_back(peer);
    }
    json vips = json::array();
    const plan::ObservedInterface* bridge = observed.Find(dv.vpc);
    for (const auto& vip : dv.vips) {
      bool holds = false;
      if (bridge) {
        for (const auto& a : bridge->addresses) holds = holds || a.address == vip.address;
        for (const auto& v : bridge->vips) {
          holds = holds || (v.vhid == vip.vhid && v.address == vip.address && v.state == "MASTER");
        }
      }
      json events = json::array();
      auto recent = db->VipEvents(dv.vpc, vip.vhid, 5);
      if (recent.ok()) {
        for (const auto& e : *recent) events.push_back({{"state", e.state}, {"at", e.at}});
      }
      vips.push_back({{"vhid", vip.vhid},
                      {"address", vip.address.ToString()},
                      {"rank", vip.rank},
                      {"holds", holds},
                      {"state", events.empty() ? json() : events[0]["state"]},
                      {"since", events.empty() ? json() : events[0]["at"]},
                      {"events", events}});
    }
    json guests = json::array();
    for (const auto& da : desired.attachments) {
      const auto& r = da.record;
      if (r.vpc != dv.vpc) continue;
      const plan::ObservedInterface* i = observed.Find(r.ifname);
      guests.push_back({{"kind", model::GuestKindName(r.kind)},
                        {"guest", r.guest},
                        {"interface", r.ifname},
                        {"address", r.address ? json(r.address->ToString()) : json()},
                        {"present", i != nullptr},
                        {"on_bridge", i != nullptr && i->master == dv.vpc}});
    }
    vpcs.push_back({{"name", dv.vpc},
                    {"encrypted", dv.encrypted},
                    {"address", dv.address.ToString()},
                    {"drift", StepsJson(mine)},
                    {"peers", peers},
                    {"vips", vips},
                    {"attachments", guests}});
  }
  // Owned interfaces of VPCs this node no longer has are drift too.
  json stray = json::array();
  for (const auto& s : drift) {
    bool listed = false;
    for (const auto& dv : desired.vpcs) listed = listed || dv.vpc == s.vpc;
    if (!listed && (o.vpc.empty() || s.vpc == o.vpc || s.vpc.empty())) {
      stray.push_back(plan::Describe(s));
    }
  }
  report["vpcs"] = vpcs;
  report["stray"] = stray;
  report["error"] = drift_error.empty() ? json() : json(drift_error);
  report["healthy"] = healthy;
  if (o.json) {
    PrintJson(ctx.io.out, report);
  } else {
    auto& out = ctx.io.out;
    out << held.node << ": map generation " << held.generation << "\n";
    for (const auto& v : vpcs) {
      out << v["name"].get<std::string>() << " (" << v["address"].get<std::string>() << "): "
          << v["drift"].size() << " step(s) of drift\n";
      for (const auto& s : v["drift"]) out << "  " << s["description"].get<std::string>() << "\n";
      Table t({"PEER", "ADDRESS", "LOSS", "RTT MS", "HANDSHAKE"});
      for (const auto& p : v["peers"]) {
        char loss[16], rtt[16];
        std::snprintf(loss, sizeof loss, "%.0f%%", p["loss_pct"].get<double>());
        if (p["rtt_ms"].is_null()) {
          std::snprintf(rtt, sizeof rtt, "-");
        } else {
          std::snprintf(rtt, sizeof rtt, "%.2f", p["rtt_ms"].get<double>());
        }
        std::string hs = "-";
        if (p.contains("handshake_age_s")) {
          hs = p["handshake_age_s"].is_null() ? "never"
                                              : std::to_string(p["handshake_age_s"].get<int64_t>()) + "s ago";
          if (p["handshake_stale"].get<bool>()) hs += " (stale)";
        }
        t.Row({p["node"].get<std::string>(), p["address"].get<std::string>(), loss, rtt, hs});
      }
      t.Print(out);
      for (const auto& v : v["vips"]) {
        out << "VIP " << v["address"].get<std::string>() << " (vhid " << v["vhid"] << "): "
            << (v["holds"].get<bool>() ? "held here" : "not held here");
        if (!v["state"].is_null()) {
          out << ", " << v["state"].get<std::string>() << " since " << v["since"].get<std::string>();
        }
        out << "\n";
      }
    }
    for (const auto& s : stray) out << "drift: " << s.get<std::string>() << "\n";
    if (!drift_error.empty()) out << "error: " << drift_error << "\n";
  }
  if (!healthy) return Error{held.node + ": drift or loss on the overlay", Exit::kNotConverged};
  return {};
}

}  // namespace vpcctl::fabric
