#include "vpcctl/fabric/connections.h"

#include <chrono>
#include <memory>

#include "commands.h"

namespace vpcctl::cli {

void AddConnectionCommands(CLI::App& app, Dispatch& d) {
  auto* group =
      app.add_subcommand("connections", "SSH sessions kept between commands (see --persist)");
  group->require_subcommand(1);

  auto list_json = std::make_shared<bool>(false);
  auto* c = group->add_subcommand("list", "The sessions the keeper holds, per node");
  c->add_flag("--json", *list_json, "Print JSON");
  c->callback([list_json, &d] {
    d.action = [list_json](fabric::Context& ctx) {
      return fabric::ConnectionsList(ctx, *list_json);
    };
  });

  c = group->add_subcommand("close", "Close every kept session and stop the keeper");
  c->callback(
      [&d] { d.action = [](fabric::Context& ctx) { return fabric::ConnectionsClose(ctx); }; });

  auto idle = std::make_shared<std::string>("60");
  c = group->add_subcommand(
      "serve", "Be the keeper (what a command with --persist starts when none is running)");
  c->add_option("--idle", *idle, "Close a session unused this long, 1-86400 seconds (default 60)")
      ->type_name("SECS")
      ->check(Bounded("--idle", 1, 86400, "seconds"));
  c->callback([idle, &d] {
    d.action = [idle](fabric::Context& ctx) {
      return fabric::ConnectionsServe(ctx, std::chrono::seconds(std::stol(*idle)));
    };
  });
}

}  // namespace vpcctl::cli
