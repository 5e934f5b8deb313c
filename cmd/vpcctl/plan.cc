#include <memory>

#include "commands.h"
#include "vpcctl/fabric/ops.h"

namespace vpcctl::cli {

void AddPlanCommands(CLI::App& app, Dispatch& d) {
  auto plan = std::make_shared<fabric::PlanOptions>();
  auto* c = app.add_subcommand("plan", "Print the commands that build a node's part of a VPC");
  c->add_option("vpc", plan->vpc)->required();
  c->add_option("--node", plan->node, "Node (default: this node)");
  c->add_flag("--json", plan->json, "Print JSON");
  c->callback([plan, &d] {
    d.action = [plan](fabric::Context& ctx) { return fabric::Plan(ctx, *plan); };
  });

  auto* render = app.add_subcommand("render", "Render configuration files");
  render->require_subcommand(1);
  auto node = std::make_shared<std::string>();
  c = render->add_subcommand("rc.conf", "FreeBSD rc.conf lines for a node's VPCs");
  c->add_option("--node", *node, "Node (default: this node)");
  c->callback([node, &d] {
    d.action = [node](fabric::Context& ctx) { return fabric::RenderRcConf(ctx, *node); };
  });
}

}  // namespace vpcctl::cli
