// vpc sync / deploy / destroy / status: the controller's fan-out over SSH.
#include "vpcctl/fabric/deploy.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>

#include "vpcctl/agent/protocol.h"
#include "vpcctl/base/text.h"
#include "vpcctl/crypto/wireguard_key.h"
#include "vpcctl/fabric/format.h"
#include "vpcctl/fabric/remote.h"
#include "vpcctl/fabric/vip_view.h"
#include "vpcctl/model/map.h"
#include "vpcctl/model/names.h"

namespace vpcctl::fabric {

using json = nlohmann::json;

namespace {

// Nodes to reach for `vpc` (empty: every VPC): its members, the witnesses of its VIPs (they take
// part in the leases from outside), then nodes owed a clean-up.
std::vector<std::string> Targets(const model::Fabric& f, const std::string& vpc,
                                 const std::vector<std::pair<std::string, std::string>>& cleanups) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  auto add = [&](const std::string& n) {
    if (seen.insert(n).second) out.push_back(n);
  };
  for (const auto& node : f.nodes) {
    for (const auto& v : f.vpcs) {
      if ((vpc.empty() || v.name == vpc) && v.HasMember(node.name)) add(node.name);
    }
  }
  for (const auto& v : f.vpcs) {
    if (!vpc.empty() && v.name != vpc) continue;
    for (const auto& vip : v.vips)
      if (!vip.witness.empty() && f.FindNode(vip.witness)) add(vip.witness);
  }
  for (const auto& [v, n] : cleanups) {
    if ((vpc.empty() || v == vpc) && f.FindNode(n)) add(n);
  }
  return out;
}

// The map `node` is sent: over SSH stdin, with the secrets of the VIP groups it is in and no
// others. Pure: called from the fan-out's threads.
std::string MapFor(const model::Map& m, const std::string& node) {
  return model::MapToJson(m, /*include_secrets=*/true, node);
}

uint64_t Changes(const Answer& a) {
  const auto* r = a.Get<model::ApplyReport>();
  return r ? r->changes : 0;
}

std::string MsText(double ms) { return std::to_string(static_cast<long>(ms + 0.5)) + " ms"; }

Status Outcome(size_t failed, size_t total, const std::string& what) {
  if (failed == 0) return {};
  return Error{std::to_string(failed) + " of " + std::to_string(total) + " nodes failed to " + what,
               failed >= total ? Exit::kAllFailed : Exit::kPartial};
}

// One round of the deploy: push the map and apply (or plan) on `targets`, printing a line per
// node as it answers. A node in `switch_at` (a rekey's) holds its key switch until its moment.
std::vector<Answer> Round(Context& ctx, Session& s, const model::Map& map,
                          const std::vector<std::string>& targets, bool dry_run,
                          const FanOutLimits& limits, bool json_out,
                          const std::map<std::string, int64_t>& switch_at = {}) {
  auto& out = ctx.io.out;
  Request req;
  req.args = [&](const model::Node& n) -> std::vector<std::string> {
    if (dry_run) return {"apply", "--local", "--dry-run", "--map", "-", "--node", n.name, "--json"};
    std::vector<std::string> args = {"apply", "--local", "--import", "--node", n.name, "--json"};
    if (auto it = switch_at.find(n.name); it != switch_at.end()) {
      args.insert(args.end(), {"--switch-keys-at", std::to_string(it->second)});
    }
    return args;
  };
  req.input = [&map](const model::Node& n) { return MapFor(map, n.name); };
  req.report = ReportKind::kApply;
  req.lines_on_stdout = !json_out;
  if (!dry_run) {
    req.agent = [&](const model::Node& n) {
      auto it = switch_at.find(n.name);
      return agent::ApplyRequest(n.name, it == switch_at.end() ? "" : std::to_string(it->second));
    };
  }
  return FanOut(ctx, s.fabric, targets, req, limits, [&](const Answer& a) {
    ctx.Fault("during-sync");
    if (json_out) return;
    // Rounds may run side by side (a rekey's): one line at a time.
    static std::mutex printing;
    std::lock_guard<std::mutex> lock(printing);
    if (!a.error.empty()) {
      out << "  " << a.node << ": FAILED after " << MsText(a.ms) << ": " << a.error << "\n";
    } else {
      out << "  " << a.node << ": " << (dry_run ? "plan" : "converged") << ", " << Changes(a)
          << (dry_run ? " change(s) needed" : " change(s)") << " (" << MsText(a.ms) << ")";
      if (const auto* r = a.Get<model::ApplyReport>(); r && !r->handshakes_restarted.empty()) {
        out << "; handshake started again with " << Join(r->handshakes_restarted, ", ");
      }
      if (const auto* r = a.Get<model::ApplyReport>()) {
        for (const auto& n : r->behind_nat) {
          out << "; behind NAT: local " << n.local << ", public " << n.public_address;
        }
      }
      out << "\n";
      if (const auto* r = a.Get<model::ApplyReport>(); r && dry_run) {
        for (const auto& st : r->steps) out << "      " << st.description << "\n";
      }
    }
    out.flush();
  });
}

// The WireGuard public keys the nodes reported that the controller does not have yet (a node
// makes its key at its first apply, or again after losing it). A report with a malformed key is
// that node's failure.
std::vector<std::pair<std::string, std::string>> NewKeys(const model::Fabric& f,
                                                         std::vector<Answer>& answers) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& a : answers) {
    const auto* r = a.Get<model::ApplyReport>();
    if (!a.error.empty() || !r || !r->wireguard || !r->wireguard->public_key) continue;
    const std::string& key = *r->wireguard->public_key;  // a valid key: the report was checked
    const model::Node* n = f.FindNode(a.node);
    if (n && n->wg_public_key != key) out.emplace_back(a.node, key);
  }
  return out;
}

// Records reported keys (a new generation) so that the next round pushes them to the peers.
Status SaveKeys(Session& s, const std::vector<std::pair<std::string, std::string>>& keys) {
  VPC_TRY(s.Begin());
  for (const auto& [node, key] : keys) {
    model::Node* n = s.fabric.FindNode(node);
    if (!n) continue;
    n->wg_public_key = key;
    VPC_TRY(s.store().SaveNode(*n));
  }
  return s.Commit();
}

// Drops the clean-up records of nodes that converged: they have removed every VPC they left.
Status ForgetCleanups(Session& s, const std::vector<Answer>& answers) {
  VPC_TRY(s.Begin());
  VPC_ASSIGN_OR_RETURN(auto cleanups, s.store().Cleanups());
  for (const auto& a : answers) {
    if (!a.error.empty()) continue;
    for (const auto& [v, n] : cleanups)
      if (n == a.node) VPC_TRY(s.store().RemoveCleanup(v, n));
  }
  return s.Commit(false);
}

void PrintSummary(std::ostream& out, const std::string& label, uint64_t generation, bool dry_run,
                  const std::vector<Answer>& answers, size_t failed, bool json_out) {
  if (json_out) {
    json nodes = json::array();
    for (const auto& a : answers) {
      const auto* r = a.Get<model::ApplyReport>();
      json report = r ? r->ToJson() : json();
      nodes.push_back({{"node", a.node},
                       {"ok", a.error.empty()},
                       {"reached", a.reached},
                       {"agent", a.agent},
                       {"changes", Changes(a)},
                       {"converged", r && r->converged},
                       {"generation", r ? report["generation"] : json()},
                       {"steps", r ? report["steps"] : json::array()},
                       {"ms", a.ms},
                       {"error", a.error.empty() ? json() : json(a.error)}});
    }
    PrintJson(out, {{"target", label},
                    {"dry_run", dry_run},
                    {"generation", generation},
                    {"nodes", nodes},
                    {"failed", failed}});
    return;
  }
  out << "\n";
  Table t({"NODE", "RESULT", "CHANGES", "GENERATION", "TIME"});
  for (const auto& a : answers) {
    const auto* r = a.Get<model::ApplyReport>();
    std::string gen = r && r->generation ? std::to_string(*r->generation) : "-";
    t.Row({a.node, a.error.empty() ? (dry_run ? "planned" : "converged") : "FAILED",
           a.error.empty() ? std::to_string(Changes(a)) : "-", gen, MsText(a.ms)});
  }
  t.Print(out);
}

// The deploy proper, shared by deploy, destroy and rekey: push + apply (or dry-run) on
// `targets`. Keys are collected, then pushed: when nodes report WireGuard keys the controller
// did not have (first apply of an encrypted VPC, a rekey), a second round gives them to the peers.
Status Converge(Context& ctx, Session& s, const std::vector<std::string>& targets,
                const std::string& label, bool dry_run, const FanOutLimits& limits, bool json_out) {
  auto& out = ctx.io.out;
  if (!json_out) {
    out << (dry_run ? "planning " : "deploying ") << label << " (generation " << s.fabric.generation
        << ") to " << targets.size() << " node" << (targets.size() == 1 ? "" : "s") << "\n";
    out.flush();
  }
  ctx.Fault("before-sync");
  VPC_ASSIGN_OR_RETURN(model::Map map, MapOf(s));
  auto answers = Round(ctx, s, map, targets, dry_run, limits, json_out);
  if (!dry_run) {
    auto keys = NewKeys(s.fabric, answers);
    if (!keys.empty()) {
      VPC_TRY(SaveKeys(s, keys));
      if (!json_out) {
        std::vector<std::string> names;
        for (const auto& k : keys) names.push_back(k.first);
        out << "WireGuard keys of " << Join(names, ", ") << " collected; pushing them (generation "
            << s.fabric.generation << ")\n";
        out.flush();
      }
      // The nodes that converged, and every WireGuard peer of a node with a new key (a peer
      // outside this deploy's VPC included: the key is the node's, not the VPC's).
      std::vector<std::string> again;
      auto add = [&](const std::string& n) {
        if (std::find(again.begin(), again.end(), n) == again.end()) again.push_back(n);
      };
      for (const auto& a : answers)
        if (a.error.empty()) add(a.node);
      for (const auto& [node, key] : keys) {
        for (const auto& v : s.fabric.vpcs) {
          if (!v.encrypted || !v.HasMember(node)) continue;
          for (const auto& m : v.members) add(m.node);
        }
      }
      VPC_ASSIGN_OR_RETURN(model::Map keyed, MapOf(s));
      auto second = Round(ctx, s, keyed, again, dry_run, limits, json_out);
      for (auto& b : second) {
        auto a = std::find_if(answers.begin(), answers.end(),
                              [&](const Answer& x) { return x.node == b.node; });
        if (a == answers.end()) {
          answers.push_back(std::move(b));  // a peer brought in for the new keys
          continue;
        }
        uint64_t changes = Changes(*a) + Changes(b);
        b.ms += a->ms;
        *a = std::move(b);
        if (auto* r = std::get_if<model::ApplyReport>(&a->report)) r->changes = changes;
      }
    }
  }
  size_t failed = 0;
  for (const auto& a : answers) failed += a.error.empty() ? 0 : 1;
  ctx.Fault("after-sync");
  if (!dry_run) VPC_TRY(ForgetCleanups(s, answers));
  PrintSummary(out, label, s.fabric.generation, dry_run, answers, failed, json_out);
  return Outcome(failed, answers.size(), dry_run ? "plan" : "converge");
}

}  // namespace

Result<FanOutLimits> ParseFanOutLimits(const FanOutOptions& o) {
  Problems problems;
  FanOutLimits l;
  auto connect = ParseConnectTimeout(o.timeout);
  problems.Add(connect);
  if (connect) l.connect = *connect;
  auto command = ParseSeconds("--command-timeout", o.command_timeout, 86400);
  problems.Add(command);
  if (command) l.command = *command;
  auto p = ParseUint(o.parallel, 1024);
  if (!p || *p == 0) {
    problems.Add(UsageError("invalid --parallel " + Quoted(o.parallel) + ": must be 1-1024"));
  } else {
    l.parallel = *p;
  }
  VPC_TRY(problems.ToStatus());
  return l;
}

namespace {

// The other VPCs on `targets`: an apply converges a node to its whole map, so `vpc deploy NAME`
// brings these to the map on those nodes too.
std::vector<std::string> AlsoConverged(const model::Fabric& f, const std::string& vpc,
                                       const std::vector<std::string>& targets) {
  std::vector<std::string> out;
  for (const auto& v : f.vpcs) {
    if (v.name == vpc) continue;
    for (const auto& t : targets) {
      if (v.HasMember(t)) {
        out.push_back(v.name);
        break;
      }
    }
  }
  return out;
}

}  // namespace

Status Deploy(Context& ctx, const DeployOptions& o) {
  if (!o.vpc.empty()) VPC_TRY(model::ValidateVpcName(o.vpc));
  VPC_ASSIGN_OR_RETURN(FanOutLimits limits, ParseFanOutLimits(o));
  VPC_ASSIGN_OR_RETURN(auto s, Session::Locked(ctx));
  if (!o.vpc.empty() && !s->fabric.FindVpc(o.vpc)) {
    return UsageError("unknown VPC " + Quoted(o.vpc) + " (see `vpcctl vpc list`)");
  }
  VPC_ASSIGN_OR_RETURN(auto cleanups, s->store().Cleanups());
  auto targets = Targets(s->fabric, o.vpc, cleanups);
  if (targets.empty()) {
    ctx.io.out << "nothing to deploy: no VPC has members\n";
    return {};
  }
  if (auto also = AlsoConverged(s->fabric, o.vpc, targets); !o.vpc.empty() && !also.empty()) {
    if (!o.json) {
      ctx.io.Info("an apply converges a node to its whole map: " + Join(also, ", ") +
                  " on these nodes too");
    }
  }
  return Converge(ctx, *s, targets, o.vpc.empty() ? "all VPCs" : "VPC " + o.vpc, o.dry_run, limits,
                  o.json);
}

Status VpcSync(Context& ctx, const std::string& vpc, const FanOutOptions& o) {
  VPC_TRY(model::ValidateVpcName(vpc));
  VPC_ASSIGN_OR_RETURN(FanOutLimits limits, ParseFanOutLimits(o));
  VPC_ASSIGN_OR_RETURN(auto s, Session::Locked(ctx));
  if (!s->fabric.FindVpc(vpc)) return UsageError("unknown VPC " + Quoted(vpc));
  VPC_ASSIGN_OR_RETURN(auto cleanups, s->store().Cleanups());
  auto targets = Targets(s->fabric, vpc, cleanups);
  Request req;
  req.args = [](const model::Node& n) -> std::vector<std::string> {
    return {"map", "import", "--node", n.name, "--json"};
  };
  VPC_ASSIGN_OR_RETURN(model::Map map, MapOf(*s));
  req.input = [&map](const model::Node& n) { return MapFor(map, n.name); };
  req.report = ReportKind::kImport;
  auto answers = FanOut(ctx, s->fabric, targets, req, limits, {});
  size_t failed = 0;
  json nodes = json::array();
  Table t({"NODE", "BEFORE", "AFTER", "RESULT"});
  for (const auto& a : answers) {
    failed += a.error.empty() ? 0 : 1;
    const auto* r = a.Get<model::ImportReport>();
    json before = r && r->before ? json(*r->before) : json();
    json after = r ? json(r->after) : json();
    nodes.push_back({{"node", a.node},
                     {"ok", a.error.empty()},
                     {"before", before},
                     {"after", after},
                     {"error", a.error.empty() ? json() : json(a.error)}});
    t.Row({a.node, before.is_null() ? "-" : before.dump(), after.is_null() ? "-" : after.dump(),
           a.error.empty() ? "synced" : "FAILED: " + a.error});
  }
  if (o.json) {
    PrintJson(
        ctx.io.out,
        {{"vpc", vpc}, {"generation", s->fabric.generation}, {"nodes", nodes}, {"failed", failed}});
  } else {
    ctx.io.out << "map generation " << s->fabric.generation << " pushed to " << answers.size()
               << " node(s) of " << vpc << "\n";
    t.Print(ctx.io.out);
  }
  return Outcome(failed, answers.size(), "take the map");
}

Status VpcDestroy(Context& ctx, const std::string& vpc, const FanOutOptions& o) {
  VPC_TRY(model::ValidateVpcName(vpc));
  VPC_ASSIGN_OR_RETURN(FanOutLimits limits, ParseFanOutLimits(o));
  VPC_ASSIGN_OR_RETURN(auto s, Session::Locked(ctx));
  const model::Vpc* v = s->fabric.FindVpc(vpc);
  if (!v) return UsageError("unknown VPC " + Quoted(vpc) + " (see `vpcctl vpc list`)");
  std::vector<std::string> members;
  for (const auto& m : v->members) members.push_back(m.node);
  for (const auto& vip : v->vips)  // a witness drops the VIP's lease
    if (!vip.witness.empty()) members.push_back(vip.witness);
  VPC_TRY(s->Begin());
  for (const auto& m : members) VPC_TRY(s->store().AddCleanup(vpc, m));
  VPC_TRY(s->store().DeleteVpc(vpc));
  VPC_TRY(s->Commit());
  VPC_ASSIGN_OR_RETURN(s->fabric, s->store().LoadFabric());
  VPC_ASSIGN_OR_RETURN(auto cleanups, s->store().Cleanups());
  std::vector<std::string> targets;
  for (const auto& [cv, n] : cleanups)
    if (cv == vpc) targets.push_back(n);
  if (!o.json) ctx.io.out << "deleted VPC " << vpc << "; removing its interfaces\n";
  Status st = Converge(ctx, *s, targets, "the removal of VPC " + vpc, false, limits, o.json);
  if (!st.ok()) {
    st = Error{st.error().message + "; the unreached nodes keep " + vpc +
                   "'s interfaces until `vpcctl deploy` reaches them",
               st.error().code};
  }
  return st;
}

// How far ahead of the round a rekey's moment is: four times what the rotation took (the round
// does more: the map's import, a probe, the other changes), between 2 and 20 s.
constexpr int64_t kRekeyLeadMinMs = 2000;
constexpr int64_t kRekeyLeadMaxMs = 20000;
// A node whose keys switched this long after the moment is named: traffic with the rekeyed node
// paused that long.
constexpr int64_t kRekeyLateMs = 500;
// The rekeyed node switches this long after its peers: its key change sends a handshake to every
// peer at once, which they, knowing the new key by then, answer. At a near-tie (a late peer, or
// clocks a little apart) the peer's own handshake crosses the node's, and both would wait out
// WireGuard's 5 s retry: the node sees no handshake within half a second and starts it again
// (apply's SettleHandshakes). Measured gaps: 0.04 to 0.29 s at a tie, 0.27 s at 250 ms apart.
constexpr int64_t kRekeyNodeLagMs = 100;

// The nodes that share an encrypted VPC with `name`.
std::vector<std::string> WireguardPeersOf(const model::Fabric& f, const std::string& name) {
  std::vector<std::string> peers;
  for (const auto& v : f.vpcs) {
    if (!v.encrypted || !v.HasMember(name)) continue;
    for (const auto& m : v.members) {
      if (m.node != name && std::find(peers.begin(), peers.end(), m.node) == peers.end()) {
        peers.push_back(m.node);
      }
    }
  }
  return peers;
}

// Names the nodes whose keys switched well after the rekey's moment.
void WarnLateSwitches(Context& ctx, const std::vector<Answer>& answers) {
  for (const auto& a : answers) {
    const auto* r = a.Get<model::ApplyReport>();
    if (!r || !r->key_switch_offset_ms) continue;
    int64_t off = *r->key_switch_offset_ms;
    if (off > kRekeyLateMs) {
      ctx.io.Warn(a.node + " switched keys " + std::to_string(off) +
                  " ms after the rekey's moment (a slow node, or its clock behind this one's)");
    } else if (off < -kRekeyLateMs) {
      ctx.io.Warn(a.node + " switched keys " + std::to_string(-off) +
                  " ms before the rekey's moment: its clock is ahead of this one's");
    }
  }
}

Status NodeRekey(Context& ctx, const std::string& name, const FanOutOptions& o) {
  VPC_TRY(model::ValidateNodeName(name));
  VPC_ASSIGN_OR_RETURN(FanOutLimits limits, ParseFanOutLimits(o));
  VPC_ASSIGN_OR_RETURN(auto s, Session::Locked(ctx));
  if (!s->fabric.FindNode(name)) {
    return UsageError("unknown node " + Quoted(name) + " (see `vpcctl node list`)");
  }
  if (!s->fabric.NeedsWireguard(name)) {
    return UsageError("node " + Quoted(name) +
                      " is in no encrypted VPC: it runs no WireGuard, so "
                      "it has no key to rotate");
  }
  // The node makes its new private key itself; only the public key comes back.
  Request req;
  req.args = [](const model::Node&) -> std::vector<std::string> {
    return {"wg-key", "--rotate", "--json"};
  };
  req.report = ReportKind::kKey;
  auto rotated = FanOut(ctx, s->fabric, {name}, req, limits, {});
  const Answer& a = rotated.front();
  const auto* report = a.Get<model::KeyReport>();
  std::string key = report ? report->public_key : std::string();
  if (!a.error.empty() || !crypto::IsWgKey(key)) {
    return Error{"node " + Quoted(name) + ": cannot rotate its WireGuard key: " +
                     (a.error.empty() ? "it answered no valid public key" : a.error) +
                     "; nothing was changed",
                 Exit::kAllFailed};
  }
  VPC_TRY(SaveKeys(*s, {{name, key}}));
  std::vector<std::string> targets = WireguardPeersOf(s->fabric, name);
  size_t peers = targets.size();
  targets.push_back(name);
  // One round to the node and its peers, with one moment a little after it reaches them all:
  // until then the old key carries traffic both ways. The peers switch at the moment, the node
  // right after (kRekeyNodeLagMs), its key change restarting its handshakes at once (a keepalive
  // to every peer): traffic with the node pauses about that long, however long each apply took.
  int64_t lead = std::clamp<int64_t>(4 * static_cast<int64_t>(a.ms), kRekeyLeadMinMs,
                                     kRekeyLeadMaxMs);
  int64_t at = ctx.Time().NowMs() + lead;
  std::map<std::string, int64_t> moments;
  for (const auto& t : targets) moments[t] = t == name ? at + kRekeyNodeLagMs : at;
  auto& out = ctx.io.out;
  if (!o.json) {
    out << "new WireGuard public key of " << name << ": " << key << "\n"
        << "pushing it to " << peers << " peer" << (peers == 1 ? "" : "s") << " and " << name
        << "; the peers switch to it at " << UtcMs(at) << " (in " << lead << " ms), " << name
        << " " << kRekeyNodeLagMs << " ms later (generation "
        << s->fabric.generation << ")\n";
    out.flush();
  }
  VPC_ASSIGN_OR_RETURN(model::Map map, MapOf(*s));
  auto answers = Round(ctx, *s, map, targets, false, limits, o.json, moments);
  WarnLateSwitches(ctx, answers);
  size_t failed = 0;
  for (const auto& ans : answers) failed += ans.error.empty() ? 0 : 1;
  PrintSummary(out, "the new key of " + name, s->fabric.generation, false, answers, failed, o.json);
  Status st = Outcome(failed, answers.size(), "take the new key");
  if (!st.ok()) {
    st = Error{st.error().message +
                   "; run `vpcctl deploy` once they are reachable: until then "
                   "the nodes that failed cannot talk to " +
                   name + " through WireGuard",
               st.error().code};
  }
  return st;
}

}  // namespace vpcctl::fabric
