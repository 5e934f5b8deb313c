#include <memory>

#include "commands.h"
#include "vpcctl/fabric/plans.h"
#include "vpcctl/fabric/state_backup.h"
#include "vpcctl/fabric/state_check.h"

namespace vpcctl::cli {

void AddPlanCommands(CLI::App& app, Dispatch& d) {
  auto plan = std::make_shared<fabric::PlanOptions>();
  auto* c = app.add_subcommand("plan", "Print the commands that build a node's part of a VPC");
  c->add_option("vpc", plan->vpc, "VPC name")->required();
  c->add_option("--node", plan->node, "Node (default: this node)");
  c->add_flag("--json", plan->json, "Print JSON");
  c->add_flag("--show-secrets", plan->show_secrets, "Print VIP secrets instead of (redacted)");
  c->callback(
      [plan, &d] { d.action = [plan](fabric::Context& ctx) { return fabric::Plan(ctx, *plan); }; });

  auto* state = app.add_subcommand("state", "The state database");
  state->require_subcommand(1);
  auto state_json = std::make_shared<bool>(false);
  c = state->add_subcommand("check", "Check integrity, orphan rows and the fabric's invariants");
  c->add_flag("--json", *state_json, "Print JSON");
  c->callback([state_json, &d] {
    d.action = [state_json](fabric::Context& ctx) { return fabric::StateCheck(ctx, *state_json); };
  });
  auto backup = std::make_shared<fabric::StateBackupOptions>();
  c = state->add_subcommand("backup",
                            "Save the controller's state (database, key, known_hosts) "
                            "to one file, consistently, while it runs");
  c->add_option("file", backup->file, "Backup file (written 0600, replaced whole)")->required();
  c->add_option("--timeout", backup->timeout,
                "Connect timeout, 1-600 seconds (default 5), of the login that pins this node's "
                "own host key")
      ->type_name("SECS")
      ->check(Bounded("--timeout", 1, 600, "seconds"));
  c->add_flag("--json", backup->json, "Print JSON");
  c->callback([backup, &d] {
    d.action = [backup](fabric::Context& ctx) { return fabric::StateBackup(ctx, *backup); };
  });
  auto restore = std::make_shared<fabric::StateRestoreOptions>();
  c = state->add_subcommand("restore", "Make this node the controller, from a backup");
  c->add_option("file", restore->file, "Backup file made by `vpcctl state backup`")->required();
  c->add_option("--node", restore->node,
                "Which node of the fabric this one is (default: the node of its map)");
  c->add_flag("--force", restore->force,
              "Restore over another fabric's map, or over this node's controller state");
  c->add_flag("--json", restore->json, "Print JSON");
  c->callback([restore, &d] {
    d.action = [restore](fabric::Context& ctx) { return fabric::StateRestore(ctx, *restore); };
  });

  auto* render = app.add_subcommand("render", "Render configuration files");
  render->require_subcommand(1);
  struct RcOptions {
    std::string node;
    bool show_secrets = false;
  };
  auto rc = std::make_shared<RcOptions>();
  c = render->add_subcommand("rc.conf", "FreeBSD rc.conf lines for a node's VPCs");
  c->add_option("--node", rc->node, "Node (default: this node)");
  c->add_flag("--show-secrets", rc->show_secrets, "Print VIP secrets instead of (redacted)");
  c->callback([rc, &d] {
    d.action = [rc](fabric::Context& ctx) {
      return fabric::RenderRcConf(ctx, rc->node, rc->show_secrets);
    };
  });
}

}  // namespace vpcctl::cli
