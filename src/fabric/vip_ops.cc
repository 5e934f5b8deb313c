// vpcctl vip add/set/list/show/move/remove (controller), and vip-event
// (nodes).
#include "vpcctl/fabric/vip_ops.h"

#include <syslog.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <thread>

#include "vpcctl/alloc/vip.h"
#include "vpcctl/base/text.h"
#include "vpcctl/exec/files.h"
#include "vpcctl/exec/syslog.h"
#include "vpcctl/fabric/apply.h"
#include "vpcctl/fabric/format.h"
#include "vpcctl/fabric/remote.h"
#include "vpcctl/fabric/vip_args.h"
#include "vpcctl/fabric/vip_view.h"
#include "vpcctl/model/map.h"
#include "vpcctl/model/names.h"
#include "vpcctl/platform/driver.h"
#include "vpcctl/platform/freebsd.h"
#include "vpcctl/vipd/daemon.h"

namespace vpcctl::fabric {

using json = nlohmann::json;

namespace {

std::string NewSecret(const exec::Host& host) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  for (int i = 0; i < 16; ++i) s += kAlphabet[host.Random() % (sizeof kAlphabet - 1)];
  return s;
}

Result<int> ParseVhid(const std::string& text) {
  auto v = ParseUint(text, 1000);
  if (!v || *v < 1 || *v > 255)
    return UsageError("invalid vhid " + Quoted(text) + ": must be 1-255");
  return static_cast<int>(*v);
}

}  // namespace

Status VipAdd(Context& ctx, const VipAddOptions& o) {
  Problems problems;
  problems.Add(model::ValidateVpcName(o.vpc));
  alloc::VipSpec spec;
  spec.vpc = o.vpc;
  spec.address = o.address;
  auto vhid = ParseVhid(o.vhid);
  problems.Add(vhid);
  if (vhid) spec.vhid = *vhid;
  spec.nodes = ParseNodeList(o.nodes, problems);
  spec.advert_ms = ParseMsOption("--advert", o.advert, problems);
  spec.lease_ms = ParseMsOption("--lease", o.lease, problems);
  if (!o.witness.empty()) CheckNodeOption("--witness", o.witness, problems);
  spec.check = o.check;
  spec.witness = o.witness;
  spec.unsafe_two_node = o.unsafe_two_node;
  if (!o.password_file.empty()) {
    auto secret = exec::ReadSecretFile(o.password_file, "secret file");
    problems.Add(secret);
    if (secret) spec.secret = *secret;
  } else {
    spec.secret = NewSecret(ctx.Machine());
  }
  spec.preempt = !o.no_preempt;
  VPC_TRY(problems.ToStatus());
  VPC_ASSIGN_OR_RETURN(auto s, Session::Write(ctx));
  model::Fabric next = s->fabric;
  VPC_TRY(alloc::AddVip(next, spec));
  const model::Vpc& v = *next.FindVpc(o.vpc);
  const model::Vip& vip = *v.FindVip(spec.vhid);
  VPC_TRY(CheckRunsHere(ctx.Machine(), vip, s->local_node));
  VPC_TRY(s->store().SaveVpc(v));
  VPC_TRY(s->Commit());
  if (o.json) {
    auto j = VipJson(v, vip, false);
    j["generation"] = s->fabric.generation;
    PrintJson(ctx.io.out, j);
    return {};
  }
  ctx.io.out << "added VIP " << vip.address.ToString() << " (vhid " << vip.vhid << ") to " << v.name
             << ": " << Join(vip.nodes, ", ") << " in that order of preference; "
             << VipSettingsText(vip) << "\n"
             << "apply it with `vpcctl vpc deploy " << v.name << "`\n";
  return {};
}

Status VipList(Context& ctx, const std::string& vpc, bool json_out, bool show_secrets) {
  if (!vpc.empty()) VPC_TRY(model::ValidateVpcName(vpc));
  VPC_ASSIGN_OR_RETURN(auto s, Session::Read(ctx));
  if (!vpc.empty() && !s->fabric.FindVpc(vpc)) return UsageError("unknown VPC " + Quoted(vpc));
  json arr = json::array();
  Table t({"VPC", "VHID", "ADDRESS", "NODES", "LEASE", "CHECK", "WITNESS", "PREEMPT", "ADVERT"});
  for (const auto& v : s->fabric.vpcs) {
    if (!vpc.empty() && v.name != vpc) continue;
    for (const auto& vip : v.vips) {
      arr.push_back(VipJson(v, vip, show_secrets));
      std::string witness = vip.witness.empty() ? "-" : vip.witness;
      if (vip.unsafe_two_node) witness += " (unsafe two-node)";
      t.Row({v.name, std::to_string(vip.vhid), vip.address.ToString(), Join(vip.nodes, ","),
             std::to_string(vip.lease_ms) + " ms", vip.check.empty() ? "-" : vip.check, witness,
             vip.preempt ? "yes" : "no", std::to_string(vip.advert_ms) + " ms"});
    }
  }
  if (json_out) {
    PrintJson(ctx.io.out, {{"vips", arr}});
  } else {
    t.Print(ctx.io.out);
    if (show_secrets) {
      for (const auto& v : arr)
        ctx.io.out << "secret of vhid " << v["vhid"] << " in " << v["vpc"].get<std::string>()
                   << ": " << v["secret"].get<std::string>() << "\n";
    }
  }
  return {};
}

Status VipShow(Context& ctx, const VipShowOptions& o) {
  VPC_TRY(model::ValidateVpcName(o.vpc));
  VPC_ASSIGN_OR_RETURN(FanOutLimits limits, ParseFanOutLimits(o));
  VPC_ASSIGN_OR_RETURN(auto s, Session::Read(ctx));
  const model::Vpc* v = s->fabric.FindVpc(o.vpc);
  if (!v) return UsageError("unknown VPC " + Quoted(o.vpc));
  VPC_ASSIGN_OR_RETURN(const model::Vip* vip, FindVip(*v, o.vip));
  // Candidates first (in rank order), then the other members: every member is an acceptor.
  std::vector<std::string> targets = vip->nodes;
  for (const auto& m : v->members)
    if (vip->Rank(m.node) < 0) targets.push_back(m.node);
  Request req;
  std::string vpc = o.vpc;
  req.args = [vpc](const model::Node&) -> std::vector<std::string> {
    return {"status", "--local", "--vpc", vpc, "--json"};
  };
  req.report = ReportKind::kStatus;
  // status --local exits non-zero on drift; its report is what counts here.
  auto answers = FanOut(ctx, s->fabric, targets, req, limits, {});
  std::vector<VipNodeView> views;
  for (const auto& a : answers) {
    VipNodeView nv;
    nv.node = a.node;
    nv.rank = vip->Rank(a.node);
    const auto* report = a.Get<model::StatusReport>();
    const model::VpcHealth* mine = report ? report->FindVpc(o.vpc) : nullptr;
    if (mine) {
      for (const auto& y : mine->vips)
        if (y.vhid == vip->vhid) nv.health = &y;
    }
    if (!nv.health) {
      nv.error = !a.error.empty() ? a.error
                 : !report        ? "no report"
                 : mine ? "its map has no VIP " + std::to_string(vip->vhid) + " (deploy it)"
                        : "VPC " + o.vpc + " is not in its map (deploy it)";
    }
    views.push_back(std::move(nv));
  }
  LeaseSummary lease = SummarizeLease(views);
  auto warning = ShortLeaseWarning(v->name, *vip, views);
  if (o.json) {
    json j = VipJson(*v, *vip, o.show_secrets);
    j["lease"] = LeaseJson(lease);
    j["warning"] = warning ? json(*warning) : json();
    json nodes = json::array();
    for (const auto& nv : views) nodes.push_back(NodeViewJson(nv));
    j["group"] = nodes;
    PrintJson(ctx.io.out, j);
    return {};
  }
  auto& out = ctx.io.out;
  out << "VIP " << vip->address.ToString() << " in " << v->name << ": vhid " << vip->vhid
      << ", candidates " << Join(vip->nodes, ", ") << "; " << VipSettingsText(*vip) << ", advert "
      << vip->advert_ms << " ms, secret "
      << (o.show_secrets ? vip->secret : std::string(model::kRedacted)) << "\n"
      << "holder: " << LeaseText(lease) << "; address on "
      << (lease.holding.empty() ? std::string("no node") : Join(lease.holding, ", "))
      << (lease.holding.size() > 1 ? " (TWO HOLDERS)" : "") << "\n\n";
  Table t(NodeViewHeader());
  for (const auto& nv : views) t.Row(NodeViewRow(nv));
  t.Print(out);
  if (warning) out << "warning: " << *warning << "\n";
  for (const auto& nv : views) {
    if (nv.health) {
      for (const auto& e : nv.health->events)
        out << "  " << e.at << "  " << nv.node << " -> " << e.state << "\n";
    }
    if (!nv.error.empty()) out << "  " << nv.node << ": " << nv.error << "\n";
  }
  return {};
}

Status VipRemove(Context& ctx, const std::string& vpc, const std::string& which, bool json) {
  VPC_TRY(model::ValidateVpcName(vpc));
  VPC_ASSIGN_OR_RETURN(auto s, Session::Write(ctx));
  const model::Vpc* v = s->fabric.FindVpc(vpc);
  if (!v) return UsageError("unknown VPC " + Quoted(vpc));
  VPC_ASSIGN_OR_RETURN(const model::Vip* vip, FindVip(*v, which));
  std::string addr = vip->address.ToString();
  int vhid = vip->vhid;
  std::string witness = vip->witness;
  model::Fabric next = s->fabric;
  VPC_TRY(alloc::RemoveVip(next, vpc, vhid));
  VPC_TRY(s->store().SaveVpc(*next.FindVpc(vpc)));
  // The witness drops the lease at the next deploy.
  if (!witness.empty()) VPC_TRY(s->store().AddCleanup(vpc, witness));
  VPC_TRY(s->Commit());
  if (json) {
    PrintJson(
        ctx.io.out,
        {{"vpc", vpc}, {"address", addr}, {"vhid", vhid}, {"generation", s->fabric.generation}});
    return {};
  }
  ctx.io.out << "removed VIP " << addr << " (vhid " << vhid << ") from " << vpc
             << "; `vpcctl vpc deploy " << vpc << "` releases it on the nodes\n";
  return {};
}

namespace {

// What calls vip-event: vipd on every lease transition (`lease VPC VHID STATE`), and FreeBSD's
// devd on every CARP state change (`carp VHID@BRIDGE STATE`, the bridge being the VPC's).
struct VipEventArgs {
  HookEvent event;
  bool from_carp = false;
};

Result<VipEventArgs> ParseVipEvent(const std::vector<std::string>& args) {
  VipEventArgs r;
  HookEvent& e = r.event;
  auto bad = [&] {
    return UsageError("vip-event: expected `lease VPC VHID STATE` or `carp VHID@VPC STATE`, got " +
                      Quoted(Join(args, " ")));
  };
  std::string vhid;
  if (args.size() == 4 && args[0] == "lease") {
    e.vpc = args[1];
    vhid = args[2];
    e.state = args[3];
  } else if (args.size() == 3 && args[0] == "carp") {
    size_t at = args[1].find('@');
    if (at == std::string::npos) return bad();
    vhid = args[1].substr(0, at);
    e.vpc = args[1].substr(at + 1);
    e.state = args[2];
    r.from_carp = true;
  } else {
    return bad();
  }
  auto n = ParseVhid(vhid);
  if (!n) return bad();
  e.vhid = *n;
  VPC_TRY(model::ValidateVpcName(e.vpc));
  static const char* kStates[] = {"MASTER", "BACKUP", "FAULT", "INIT"};
  if (std::find_if(std::begin(kStates), std::end(kStates),
                   [&](const char* k) { return e.state == k; }) == std::end(kStates)) {
    return bad();
  }
  return r;
}

// The VIP's address in the map this node holds; empty when it does not know the VIP.
std::string VipAddress(store::Store& db, const std::string& vpc, int vhid) {
  auto held = db.LoadMap();
  if (!held.ok() || !*held) return {};
  auto m = model::ParseMap((*held)->document);
  const model::Vpc* v = m ? m->fabric.FindVpc(vpc) : nullptr;
  const model::Vip* vip = v ? v->FindVip(vhid) : nullptr;
  return vip ? vip->address.ToString() : std::string();
}

}  // namespace

Status VipEvent(Context& ctx, const std::vector<std::string>& args, const HookLimits& limits) {
  VPC_ASSIGN_OR_RETURN(VipEventArgs a, ParseVipEvent(args));
  HookEvent& e = a.event;
  VPC_ASSIGN_OR_RETURN(auto db, OpenNodeStore(ctx));
  if (a.from_carp) {
    db.reset();
    // CARP changed state by itself (a backup that heard no advert promotes itself): the lease
    // decides, not CARP. vipd puts it back; without vipd, nothing holds a lease here.
    auto r = vipd::Ask(ctx.paths.dir, {{"op", "carp"}, {"vpc", e.vpc}, {"vhid", e.vhid}},
                       std::chrono::seconds(2));
    if (r && !r->contains("error")) return {};
    if (e.state != "MASTER") return {};
    auto run = ctx.runner.Run(platform::CarpStateCommand(e.vpc, e.vhid, false), "",
                              std::chrono::seconds(5));
    if (!run || !run->ok()) {
      return Failure("vip-event: CARP vhid " + std::to_string(e.vhid) + " on " + e.vpc +
                     " went MASTER without a lease and vipd is not running, and forcing it back " +
                     "to backup failed");
    }
    return {};
  }
  e.at = UtcNowMs();
  // Recorded before the hooks start: `vip show` knows the transition once vipd made it.
  VPC_TRY(db->AddVipEvent(store::VipEvent{e.vpc, e.vhid, e.state, e.at}));
  e.vip = VipAddress(*db, e.vpc, e.vhid);
  db.reset();
  exec::SysLog("vpcctl-vip-event")
      .Send(LOG_NOTICE, "VIP " + (e.vip.empty() ? std::string("?") : e.vip) + " (vhid " +
                            std::to_string(e.vhid) + ") of " + e.vpc + ": " + e.state +
                            "; running hooks.d");
  return RunHooks(ctx, e, limits);
}

}  // namespace vpcctl::fabric
