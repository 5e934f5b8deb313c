// vpcctl state check: the state database's invariants, for users and for the fault tests.
#include "vpcctl/fabric/state_check.h"

#include <nlohmann/json.hpp>
#include <ostream>

#include "vpcctl/base/text.h"
#include "vpcctl/fabric/format.h"
#include "vpcctl/model/map.h"
#include "vpcctl/model/names.h"

namespace vpcctl::fabric {

Result<std::vector<std::string>> FindStateProblems(store::Store& db) {
  std::vector<std::string> problems;
  {
    VPC_ASSIGN_OR_RETURN(auto s, db.db().Prepare("PRAGMA integrity_check"));
    while (true) {
      VPC_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      if (s.Text(0) != "ok") problems.push_back("integrity: " + s.Text(0));
    }
  }
  {
    VPC_ASSIGN_OR_RETURN(auto s, db.db().Prepare("PRAGMA foreign_key_check"));
    while (true) {
      VPC_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      problems.push_back("orphan row " + std::to_string(s.Int(1)) + " in table " + s.Text(0) +
                         " (its " + s.Text(2) + " is gone)");
    }
  }
  auto fabric = db.LoadFabric();
  if (!fabric) {
    problems.push_back(fabric.error().message);
    return problems;
  }
  if (auto st = model::ValidateFabric(*fabric); !st.ok()) problems.push_back(st.error().message);
  for (const auto& n : fabric->nodes) {
    if (auto st = model::ValidateNodeMtu(n.name, n.mtu); !st.ok()) {
      problems.push_back(st.error().message);
    }
  }
  for (const auto& v : fabric->vpcs) {
    // Only a node's copy of a map may lack a VIP's secret (withheld from nodes outside its group).
    for (const auto& vip : v.vips) {
      if (vip.secret.empty()) {
        problems.push_back("VPC " + v.name + " VIP " + vip.address.ToString() + " has no secret");
      }
    }
    for (const auto& t : v.tunnels) {
      if (t.vni < fabric->vni_range.lo || t.vni > fabric->vni_range.hi) {
        problems.push_back("VPC " + v.name + " tunnel " + std::to_string(t.vni) +
                           " is outside the VNI range " + fabric->vni_range.ToString());
      }
    }
  }
  VPC_ASSIGN_OR_RETURN(auto local, db.GetSetting("local_node"));
  if (local && !fabric->FindNode(*local)) problems.push_back("the local node is not a node");
  return problems;
}

Status StateCheck(Context& ctx, bool json) {
  VPC_ASSIGN_OR_RETURN(auto s, Session::Read(ctx));
  VPC_ASSIGN_OR_RETURN(auto problems, FindStateProblems(s->store()));
  if (json) {
    PrintJson(ctx.io.out, {{"ok", problems.empty()}, {"problems", problems}});
  } else if (problems.empty()) {
    ctx.io.out << "state in " << ctx.paths.dir << " is consistent: integrity ok, no orphan rows, "
               << "no duplicate VNI or address, every VPC a full mesh\n";
  }
  if (!problems.empty()) return Failure(Join(problems, "\n"));
  return {};
}

}  // namespace vpcctl::fabric
