// vpcctl plan and vpcctl render rc.conf: what a node would run, rendered by its platform driver.
#include "vpcctl/fabric/plans.h"

#include <ostream>

#include "vpcctl/base/text.h"
#include "vpcctl/fabric/format.h"
#include "vpcctl/fabric/node_state.h"
#include "vpcctl/model/names.h"
#include "vpcctl/platform/driver.h"
#include "vpcctl/platform/freebsd.h"

namespace vpcctl::fabric {

Status Plan(Context& ctx, const PlanOptions& o) {
  Problems problems;
  problems.Add(model::ValidateVpcName(o.vpc));
  if (!o.node.empty()) problems.Add(model::ValidateNodeName(o.node));
  VPC_TRY(problems.ToStatus());
  VPC_ASSIGN_OR_RETURN(auto s, Session::Read(ctx));
  std::string node = o.node.empty() ? s->local_node : o.node;
  if (!s->fabric.FindVpc(o.vpc)) {
    return UsageError("unknown VPC " + Quoted(o.vpc) + " (see `vpcctl vpc list`)");
  }
  const model::Node* n = s->fabric.FindNode(node);
  if (!n) return UsageError("unknown node " + Quoted(node) + " (see `vpcctl node list`)");
  // As apply builds it on the node (its guests aside: their records are the node's), with its
  // machinery where the controller runs it.
  VPC_ASSIGN_OR_RETURN(
      plan::Desired desired,
      BuildDesired(s->fabric, DesiredInputs{node, n->platform, NodeEnvOf(ctx, *n), {}, o.vpc}));
  const auto& driver = platform::DriverFor(desired.platform);
  VPC_ASSIGN_OR_RETURN(auto steps, plan::Diff(desired, plan::Observed{}));
  if (!o.show_secrets) steps = plan::Redacted(std::move(steps));
  if (o.json) {
    nlohmann::json js = nlohmann::json::array();
    for (const auto& step : steps) {
      js.push_back({{"action", plan::ActionName(step.action)},
                    {"interface", step.ifname},
                    {"description", plan::Describe(step)},
                    {"commands", driver.Render(step)}});
    }
    PrintJson(ctx.io.out, {{"vpc", o.vpc},
                           {"node", node},
                           {"platform", model::PlatformName(desired.platform)},
                           {"generation", s->fabric.generation},
                           {"steps", js}});
    return {};
  }
  auto& out = ctx.io.out;
  out << "# " << o.vpc << " on " << node << " (" << model::PlatformName(desired.platform)
      << "), from nothing: " << steps.size() << " steps\n";
  out << platform::RenderScript(driver, steps);
  return {};
}

Status RenderRcConf(Context& ctx, const std::string& node_arg, bool show_secrets) {
  if (!node_arg.empty()) VPC_TRY(model::ValidateNodeName(node_arg));
  VPC_ASSIGN_OR_RETURN(auto s, Session::Read(ctx));
  std::string node = node_arg.empty() ? s->local_node : node_arg;
  const model::Node* n = s->fabric.FindNode(node);
  if (!n) return UsageError("unknown node " + Quoted(node) + " (see `vpcctl node list`)");
  if (n->platform != model::Platform::kFreeBSD) {
    return UsageError("node " + Quoted(node) + " runs " +
                      std::string(model::PlatformName(n->platform)) +
                      "; rc.conf is FreeBSD's (Linux nodes use the systemd unit in dist/)");
  }
  VPC_ASSIGN_OR_RETURN(
      plan::Desired desired,
      BuildDesired(s->fabric, DesiredInputs{node, n->platform, NodeEnvOf(ctx, *n), {}, ""}));
  ctx.io.out << platform::RenderRcConf(desired, show_secrets);
  return {};
}

}  // namespace vpcctl::fabric
