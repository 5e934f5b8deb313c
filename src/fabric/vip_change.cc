// vpcctl vip set (change a VIP in place) and vip move (hand its lease to another candidate).
#include <nlohmann/json.hpp>
#include <ostream>

#include "vpcctl/alloc/vip.h"
#include "vpcctl/base/text.h"
#include "vpcctl/fabric/format.h"
#include "vpcctl/fabric/remote.h"
#include "vpcctl/fabric/vip_args.h"
#include "vpcctl/fabric/vip_ops.h"
#include "vpcctl/fabric/vip_view.h"
#include "vpcctl/model/names.h"

namespace vpcctl::fabric {

using json = nlohmann::json;

namespace {

// The change `vip set` asks for; every bad value in `problems`.
alloc::VipChange ParseChange(const VipSetOptions& o, Problems& problems) {
  alloc::VipChange c;
  auto both = [&](bool a, bool b, const char* x, const char* y) {
    if (a && b) problems.Add(UsageError(std::string(x) + " and " + y + " contradict each other"));
  };
  both(!o.check.empty(), o.no_check, "--check", "--no-check");
  both(o.preempt, o.no_preempt, "--preempt", "--no-preempt");
  both(!o.witness.empty(), o.no_witness, "--witness", "--no-witness");
  both(o.unsafe_two_node, o.safe, "--unsafe-two-node", "--safe");
  c.lease_ms = ParseMsOption("--lease", o.lease, problems);
  c.advert_ms = ParseMsOption("--advert", o.advert, problems);
  if (!o.nodes.empty()) c.nodes = ParseNodeList(o.nodes, problems);
  if (!o.check.empty()) c.check = o.check;
  if (o.no_check) c.check = "";
  if (o.preempt || o.no_preempt) c.preempt = o.preempt;
  if (!o.witness.empty()) {
    CheckNodeOption("--witness", o.witness, problems);
    c.witness = o.witness;
  }
  if (o.no_witness) c.witness = "";
  if (o.unsafe_two_node || o.safe) c.unsafe_two_node = o.unsafe_two_node;
  return c;
}

}  // namespace

Status VipSet(Context& ctx, const VipSetOptions& o) {
  Problems problems;
  problems.Add(model::ValidateVpcName(o.vpc));
  alloc::VipChange change = ParseChange(o, problems);
  VPC_TRY(problems.ToStatus());
  if (change.empty()) {
    return UsageError("vip set: nothing to change (give --lease, --check, --no-check, --preempt, "
                      "--no-preempt, --nodes, --advert, --witness, --no-witness, "
                      "--unsafe-two-node or --safe)");
  }
  VPC_ASSIGN_OR_RETURN(auto s, Session::Write(ctx));
  const model::Vpc* v = s->fabric.FindVpc(o.vpc);
  if (!v) return UsageError("unknown VPC " + Quoted(o.vpc) + " (see `vpcctl vpc list`)");
  VPC_ASSIGN_OR_RETURN(const model::Vip* cur, FindVip(*v, o.vip));
  int vhid = cur->vhid;
  std::string old_witness = cur->witness;
  model::Fabric next = s->fabric;
  VPC_TRY(alloc::SetVip(next, o.vpc, vhid, change));
  const model::Vpc& nv = *next.FindVpc(o.vpc);
  const model::Vip& vip = *nv.FindVip(vhid);
  if (change.check || change.nodes) VPC_TRY(CheckRunsHere(ctx.Machine(), vip, s->local_node));
  VPC_TRY(s->store().SaveVpc(nv));
  // A witness that is no longer one is told to drop the lease by the next deploy.
  if (!old_witness.empty() && old_witness != vip.witness) {
    VPC_TRY(s->store().AddCleanup(o.vpc, old_witness));
  }
  VPC_TRY(s->Commit());
  if (o.json) {
    auto j = VipJson(nv, vip, false);
    j["generation"] = s->fabric.generation;
    PrintJson(ctx.io.out, j);
    return {};
  }
  ctx.io.out << "changed VIP " << vip.address.ToString() << " (vhid " << vip.vhid << ") of "
             << nv.name << ": " << Join(vip.nodes, ", ") << " in that order of preference; "
             << VipSettingsText(vip) << "\n"
             << "apply it with `vpcctl vpc deploy " << nv.name << "`\n";
  return {};
}

Status VipMove(Context& ctx, const VipMoveOptions& o) {
  Problems problems;
  problems.Add(model::ValidateVpcName(o.vpc));
  CheckNodeOption("--to", o.to, problems);
  VPC_TRY(problems.ToStatus());
  VPC_ASSIGN_OR_RETURN(FanOutLimits limits, ParseFanOutLimits(o));
  VPC_ASSIGN_OR_RETURN(auto s, Session::Read(ctx));
  const model::Vpc* v = s->fabric.FindVpc(o.vpc);
  if (!v) return UsageError("unknown VPC " + Quoted(o.vpc) + " (see `vpcctl vpc list`)");
  VPC_ASSIGN_OR_RETURN(const model::Vip* vip, FindVip(*v, o.vip));
  if (!s->fabric.FindNode(o.to)) {
    return UsageError("unknown node " + Quoted(o.to) + " in --to (see `vpcctl node list`)");
  }
  if (vip->Rank(o.to) < 0) {
    return UsageError("node " + Quoted(o.to) + " is not a candidate of VIP " +
                      vip->address.ToString() + " (vhid " + std::to_string(vip->vhid) + ") of " +
                      v->name + "; its candidates are " + Join(vip->nodes, ", ") +
                      " (change them with `vpcctl vip set " + v->name + " " +
                      std::to_string(vip->vhid) + " --nodes ...`)");
  }
  Request req;
  std::vector<std::string> args = {"vip-take", v->name, std::to_string(vip->vhid), "--json"};
  req.args = [args](const model::Node&) { return args; };
  req.report = ReportKind::kVipTake;
  auto answers = FanOut(ctx, s->fabric, {o.to}, req, limits, {});
  const Answer& a = answers.front();
  const auto* r = a.Get<model::VipTakeReport>();
  std::string error = a.error;
  if (error.empty() && !r) error = "it answered no report";
  if (error.empty() && (r->vpc != v->name || r->vhid != vip->vhid || r->holder != o.to)) {
    error = "it answered for another VIP or holder (" + r->vpc + " vhid " +
            std::to_string(r->vhid) + ", holder " + r->holder + ")";
  }
  if (!error.empty()) {
    return Error{"vip move: " + o.to + " did not take VIP " + vip->address.ToString() +
                     " (vhid " + std::to_string(vip->vhid) + ") of " + v->name + ": " + error,
                 Exit::kAllFailed};
  }
  if (o.json) {
    json j = r->ToJson();
    j["address"] = vip->address.ToString();
    PrintJson(ctx.io.out, j);
  } else {
    ctx.io.out << "VIP " << vip->address.ToString() << " (vhid " << vip->vhid << ") of " << v->name
               << " moved to " << r->holder << " in " << r->took_ms << " ms\n";
  }
  return {};
}

}  // namespace vpcctl::fabric
