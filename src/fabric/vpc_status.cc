// vpc status on the controller. Pipeline: validate, fan `status --local` out to the members,
// build the view from their typed reports (pure), render it as text or JSON.
#include "vpcctl/fabric/vpc_status.h"

#include <cstdio>

#include "vpcctl/agent/protocol.h"
#include "vpcctl/base/text.h"
#include "vpcctl/fabric/format.h"
#include "vpcctl/fabric/vip_view.h"
#include "vpcctl/model/names.h"

namespace vpcctl::fabric {

using json = nlohmann::json;

namespace {

// One cell of the matrix ("0% 0.21ms", "100% loss", then " hs 12s" and " mtu<1450" as they
// apply), and the pair's problems.
std::string PeerCell(VpcStatusView& v, const std::string& from, const model::PeerHealth& p) {
  char buf[48];
  if (!p.rtt_ms) {
    std::snprintf(buf, sizeof buf, "%.0f%% loss", p.loss_pct);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f%% %.2fms", p.loss_pct, *p.rtt_ms);
  }
  std::string text = buf;
  auto problem = [&](std::string what) {
    v.healthy = false;
    v.problems.push_back(std::move(what));
  };
  if (p.encrypted) {
    // WireGuard's last handshake with that peer.
    std::string age = p.handshake_age_s ? std::to_string(*p.handshake_age_s) : "";
    text += p.handshake_age_s ? " hs " + age + "s" : std::string(" hs never");
    if (p.handshake_stale) {
      problem(from + " -> " + p.node + ": WireGuard handshake " +
              (p.handshake_age_s ? age + " s ago" : std::string("never happened")) +
              " (stale: no session)");
    }
  }
  if (p.mtu_ok == false) text += " mtu<" + std::to_string(p.mtu);
  std::string pair = from + " -> " + p.node + " (" + p.address + "): ";
  if (p.loss_pct > 0) problem(pair + buf + (p.error ? ", " + *p.error : std::string()));
  if (p.mtu_ok == false) problem(pair + PathMtuText(p));
  return text;
}

// One member's answer: its entry in `nodes`, its row of the matrix, its guests and its view of
// each VIP (into `vip_views`), and its problems.
void AddAnswer(VpcStatusView& v, const Answer& a,
               std::map<int, std::vector<VipNodeView>>& vip_views) {
  auto problem = [&](std::string what) {
    v.healthy = false;
    v.problems.push_back(std::move(what));
  };
  const auto* report = a.Get<model::StatusReport>();
  const model::VpcHealth* mine = report ? report->FindVpc(v.vpc) : nullptr;
  bool stale = report && report->generation < v.generation;
  json vj =
      mine ? model::StatusReport{a.node, 0, {*mine}, {}, {}, false}.ToJson()["vpcs"][0] : json();
  json entry = {{"node", a.node},
                {"reached", a.reached},
                {"agent", a.agent},
                {"generation", report ? json(report->generation) : json()},
                {"stale", stale},
                {"drift", mine ? vj["drift"] : json::array()},
                {"peers", mine ? vj["peers"] : json::array()}};
  // status --local exits 5 on drift or loss, with its report: the report says what.
  std::string err = a.error;
  if (err.empty() && !mine) err = "VPC " + v.vpc + " is not in its map (deploy it)";
  entry["error"] = err.empty() ? json() : json(err);
  if (!err.empty()) problem(a.node + ": " + err);
  if (stale) {
    problem(a.node + ": holds map generation " + std::to_string(report->generation) +
            ", the controller is at " + std::to_string(v.generation) + " (run `vpcctl vpc deploy " +
            v.vpc + "`)");
  }
  if (report) {
    for (const auto& d : report->stray) problem(a.node + ": drift: " + d);
  }
  if (mine) {
    for (const auto& g : mine->attachments) {
      v.guests.push_back(a.node + ": " + g.kind + " " + g.guest + " (" + g.interface +
                         (g.address ? ", " + *g.address : "") +
                         (g.on_bridge ? "" : ", NOT on the bridge") + ")");
    }
    for (const auto& vip : mine->vips) vip_views[vip.vhid].push_back({a.node, vip.rank, &vip, {}});
    for (const auto& d : mine->drift) problem(a.node + ": drift: " + d.description);
    for (const auto& p : mine->peers) v.cells[a.node][p.node] = PeerCell(v, a.node, p);
  }
  v.nodes.push_back(entry);
}

// One VIP: who holds it as each member sees it, the lease, and split brain or no holder.
void AddVip(VpcStatusView& v, const model::Vip& vip, const std::vector<VipNodeView>& views) {
  LeaseSummary lease = SummarizeLease(views);
  const auto& h = lease.holding;
  json nodes_json = json::array();
  std::vector<std::string> last;  // "h1 HOLDER (MASTER at ...)"
  for (const auto& nv : views) {
    nodes_json.push_back(NodeViewJson(nv));
    last.push_back(nv.node + " " + nv.health->lease_state.value_or("-") + " (last " +
                   LastTransitionText(nv.health) + ")");
  }
  auto warning = ShortLeaseWarning(v.vpc, vip, views);
  v.vips.push_back({{"address", vip.address.ToString()},
                    {"vhid", vip.vhid},
                    {"holders", h},
                    {"lease", LeaseJson(lease)},
                    {"nodes", nodes_json},
                    {"warning", warning ? json(*warning) : json()}});
  v.vip_lines.push_back("VIP " + vip.address.ToString() + " (vhid " + std::to_string(vip.vhid) +
                        "): held by " + (h.empty() ? std::string("nobody") : Join(h, ", ")) +
                        "; lease: " + LeaseText(lease));
  v.vip_lines.push_back("  " +
                        (last.empty() ? std::string("no node reported it") : Join(last, "; ")));
  if (warning) v.vip_lines.push_back("  warning: " + *warning);
  if (h.size() != 1) {
    v.healthy = false;
    v.problems.push_back("VIP " + vip.address.ToString() + " (vhid " + std::to_string(vip.vhid) +
                         ") is held by " +
                         (h.empty() ? std::string("no node") : Join(h, " and ") + ": split brain"));
  }
}

}  // namespace

VpcStatusView BuildVpcStatus(const model::Fabric& fabric, const model::Vpc& vpc,
                             const std::vector<Answer>& answers) {
  VpcStatusView v;
  v.vpc = vpc.name;
  v.generation = fabric.generation;
  for (const auto& m : vpc.members) v.members.push_back(m.node);
  std::map<int, std::vector<VipNodeView>> vip_views;  // vhid -> each member's view of it
  for (const auto& a : answers) AddAnswer(v, a, vip_views);
  for (const auto& vip : vpc.vips) AddVip(v, vip, vip_views[vip.vhid]);
  return v;
}

json VpcStatusJson(const VpcStatusView& v) {
  return {
      {"vpc", v.vpc},   {"generation", v.generation}, {"healthy", v.healthy},  {"nodes", v.nodes},
      {"vips", v.vips}, {"attachments", v.guests},    {"problems", v.problems}};
}

void PrintVpcStatus(std::ostream& out, const VpcStatusView& v) {
  out << v.vpc << ": generation " << v.generation << ", " << v.members.size() << " members, "
      << (v.healthy ? "healthy" : "NOT healthy") << "\n\n";
  std::vector<std::string> header = {"FROM \\ TO", "MAP", "DRIFT"};
  for (const auto& t : v.members) header.push_back(t);
  Table t(header);
  for (const auto& n : v.nodes) {
    std::string from = n["node"].get<std::string>();
    std::vector<std::string> row = {from, n["generation"].is_null() ? "-" : n["generation"].dump(),
                                    n["error"].is_null() ? std::to_string(n["drift"].size()) : "?"};
    const auto cells = v.cells.find(from);
    for (const auto& to : v.members) {
      if (to == from) {
        row.push_back("-");
        continue;
      }
      bool known = cells != v.cells.end() && cells->second.count(to);
      row.push_back(known ? cells->second.at(to) : "?");
    }
    t.Row(row);
  }
  t.Print(out);
  for (const auto& line : v.vip_lines) out << line << "\n";
  if (!v.guests.empty()) out << "guests:\n";
  for (const auto& g : v.guests) out << "  " << g << "\n";
  for (const auto& p : v.problems) out << "  " << p << "\n";
}

Status VpcStatus(Context& ctx, const std::string& vpc, const FanOutOptions& o) {
  VPC_TRY(model::ValidateVpcName(vpc));
  VPC_ASSIGN_OR_RETURN(FanOutLimits limits, ParseFanOutLimits(o));
  VPC_ASSIGN_OR_RETURN(auto s, Session::Read(ctx));
  const model::Vpc* v = s->fabric.FindVpc(vpc);
  if (!v) return UsageError("unknown VPC " + Quoted(vpc) + " (see `vpcctl vpc list`)");
  std::vector<std::string> targets;
  for (const auto& m : v->members) targets.push_back(m.node);
  Request req;
  req.args = [&](const model::Node&) -> std::vector<std::string> {
    return {"status", "--local", "--vpc", vpc, "--json"};
  };
  req.report = ReportKind::kStatus;
  req.agent = [&](const model::Node&) { return agent::StatusRequest(vpc); };
  VpcStatusView view =
      BuildVpcStatus(s->fabric, *v, FanOut(ctx, s->fabric, targets, req, limits, {}));
  if (o.json) {
    PrintJson(ctx.io.out, VpcStatusJson(view));
  } else {
    PrintVpcStatus(ctx.io.out, view);
  }
  if (!view.healthy) {
    return Error{vpc + " is not healthy: " + std::to_string(view.problems.size()) + " problem(s)",
                 Exit::kNotConverged};
  }
  return {};
}

}  // namespace vpcctl::fabric
