#include "vpcctl/fabric/deploy.h"

#include <memory>

#include "commands.h"
#include "vpcctl/base/text.h"
#include "vpcctl/fabric/apply.h"
#include "vpcctl/fabric/status_local.h"
#include "vpcctl/fabric/wg_key.h"

namespace vpcctl::cli {

CLI::Validator Bounded(const std::string& what, long lo, long hi, const std::string& unit) {
  std::string range =
      std::to_string(lo) + "-" + std::to_string(hi) + (unit.empty() ? "" : " " + unit);
  return CLI::Validator(
      [what, lo, hi, range](std::string& text) -> std::string {
        auto v = ParseUint(text, static_cast<uint64_t>(hi));
        if (v && *v >= static_cast<uint64_t>(lo)) return "";
        return "invalid " + what + " " + Quoted(text) + ": must be " + range;
      },
      "", "Bounded");
}

void AddFanOutOptions(CLI::App* c, fabric::FanOutOptions& o) {
  c->add_option("--timeout", o.timeout, "Connect timeout per node, 1-600 seconds (default 5)")
      ->type_name("SECS")
      ->check(Bounded("--timeout", 1, 600, "seconds"));
  c->add_option("--command-timeout", o.command_timeout,
                "Time a node's command may take, 1-86400 seconds (default 300)")
      ->type_name("SECS")
      ->check(Bounded("--command-timeout", 1, 86400, "seconds"));
  c->add_option("--parallel", o.parallel, "Nodes worked on at once, 1-1024 (default 32)")
      ->type_name("N")
      ->check(Bounded("--parallel", 1, 1024));
  c->add_flag("--json", o.json, "Print JSON");
}

namespace {

struct NamedFanOut {
  std::string name;
  fabric::FanOutOptions fan;
};

// vpc sync, vpc deploy, deploy, vpc destroy, vpc status: the controller's rounds
void AddVpcRounds(CLI::App& app, CLI::App* vpc, Dispatch& d) {
  auto sync = std::make_shared<NamedFanOut>();
  auto* c = vpc->add_subcommand("sync", "Push the map to every member (no changes on hosts)");
  c->add_option("name", sync->name, "VPC name")->required();
  AddFanOutOptions(c, sync->fan);
  c->callback([sync, &d] {
    d.action = [sync](fabric::Context& ctx) { return fabric::VpcSync(ctx, sync->name, sync->fan); };
  });

  auto deploy = std::make_shared<fabric::DeployOptions>();
  c = vpc->add_subcommand("deploy", "Sync, then converge every member, in parallel");
  c->add_option("name", deploy->vpc, "VPC name")->required();
  c->add_flag("--dry-run", deploy->dry_run, "Show each node's steps; change nothing");
  AddFanOutOptions(c, *deploy);
  c->callback([deploy, &d] {
    d.action = [deploy](fabric::Context& ctx) { return fabric::Deploy(ctx, *deploy); };
  });

  auto all = std::make_shared<fabric::DeployOptions>();
  c = app.add_subcommand("deploy", "Deploy every VPC (and finish clean-ups of removed ones)");
  c->add_flag("--dry-run", all->dry_run, "Show each node's steps; change nothing");
  AddFanOutOptions(c, *all);
  c->callback(
      [all, &d] { d.action = [all](fabric::Context& ctx) { return fabric::Deploy(ctx, *all); }; });

  auto destroy = std::make_shared<NamedFanOut>();
  c = vpc->add_subcommand("destroy", "Remove a VPC's interfaces on every member and its records");
  c->add_option("name", destroy->name, "VPC name")->required();
  AddFanOutOptions(c, destroy->fan);
  c->callback([destroy, &d] {
    d.action = [destroy](fabric::Context& ctx) {
      return fabric::VpcDestroy(ctx, destroy->name, destroy->fan);
    };
  });

  auto status = std::make_shared<NamedFanOut>();
  c = vpc->add_subcommand("status",
                          "Drift and overlay health matrix of a VPC (exit 5 if unhealthy)");
  c->add_option("name", status->name, "VPC name")->required();
  AddFanOutOptions(c, status->fan);
  c->callback([status, &d] {
    d.action = [status](fabric::Context& ctx) {
      return fabric::VpcStatus(ctx, status->name, status->fan);
    };
  });
}

// map export, map import
void AddMapCommands(CLI::App& app, Dispatch& d) {
  auto* map = app.add_subcommand("map", "The fabric map the controller pushes to nodes");
  map->require_subcommand(1);
  auto show = std::make_shared<bool>(false);
  auto* c = map->add_subcommand("export", "Print the map as JSON");
  c->add_flag("--show-secrets", *show, "Include VIP secrets (else (redacted))");
  c->callback([show, &d] {
    d.action = [show](fabric::Context& ctx) { return fabric::MapExport(ctx, *show); };
  });
  auto import = std::make_shared<fabric::MapImportOptions>();
  c = map->add_subcommand("import", "Read a map on stdin and store it (atomically)");
  c->add_option("--node", import->node, "Which node of the map this one is");
  c->add_flag("--force", import->force, "Accept an older map, or one from another fabric");
  c->add_flag("--json", import->json, "Print JSON");
  c->callback([import, &d] {
    d.action = [import](fabric::Context& ctx) { return fabric::MapImport(ctx, *import); };
  });
}

// apply, wg-key, status: what runs on a node
void AddNodeSideCommands(CLI::App& app, Dispatch& d) {
  auto apply = std::make_shared<fabric::ApplyOptions>();
  auto local = std::make_shared<bool>(false);
  auto* c = app.add_subcommand("apply", "Converge this node to its map");
  c->add_flag("--local", *local, "Apply on this node (required)")->required();
  c->add_flag("--dry-run", apply->dry_run, "Print the steps; change nothing");
  c->add_flag("--json", apply->json, "Print JSON");
  c->add_flag("--import", apply->import, "Import the map on stdin first");
  c->add_option("--map", apply->map_file, "With --dry-run: plan against this map (- for stdin)");
  c->add_option("--node", apply->node, "With --import or --map: which node of the map this is");
  c->add_flag("--force", apply->force, "With --import: as `map import --force`");
  c->add_option("--switch-keys-at", apply->switch_keys_at,
                "WireGuard key changes wait for this moment (ms since the epoch): a rekey's");
  // The flag's storage must outlive parsing: the callback keeps it.
  c->callback([apply, local, &d] {
    (void)local;
    d.action = [apply](fabric::Context& ctx) { return fabric::Apply(ctx, *apply); };
  });

  auto key = std::make_shared<fabric::WgKeyOptions>();
  c = app.add_subcommand("wg-key", "This node's WireGuard public key (made on first use)");
  c->add_flag("--rotate", key->rotate, "Replace the private key with a new one");
  c->add_flag("--json", key->json, "Print JSON");
  c->callback(
      [key, &d] { d.action = [key](fabric::Context& ctx) { return fabric::WgKey(ctx, *key); }; });

  auto st = std::make_shared<fabric::StatusLocalOptions>();
  auto st_local = std::make_shared<bool>(false);
  c = app.add_subcommand("status", "This node's drift and the health of its tunnels");
  c->add_flag("--local", *st_local, "Report on this node (required)")->required();
  c->add_option("--vpc", st->vpc, "Only this VPC");
  c->add_flag("--json", st->json, "Print JSON");
  c->callback([st, st_local, &d] {
    (void)st_local;
    d.action = [st](fabric::Context& ctx) { return fabric::StatusLocal(ctx, *st); };
  });
}

}  // namespace

void AddDeployCommands(CLI::App& app, Dispatch& d) {
  auto* vpc = app.get_subcommand("vpc");
  AddVpcRounds(app, vpc, d);
  AddMapCommands(app, d);
  AddNodeSideCommands(app, d);
}

}  // namespace vpcctl::cli
