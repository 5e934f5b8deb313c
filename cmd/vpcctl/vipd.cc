#include <chrono>
#include <memory>

#include "commands.h"
#include "vpcctl/agent/agent.h"
#include "vpcctl/vipd/daemon.h"

namespace vpcctl::cli {

void AddVipdCommands(CLI::App& app, Dispatch& d) {
  auto* c = app.add_subcommand(
      "vipd", "Run the VIP lease daemon of this node (apply --local starts and reloads it)");
  c->callback([&d] { d.action = [](fabric::Context& ctx) { return vipd::RunDaemon(ctx); }; });
  c = app.add_subcommand(
      "agent",
      "Run this node's agent, which answers `vpc status` without starting processes (apply "
      "--local starts it)");
  c->callback([&d] { d.action = [](fabric::Context& ctx) { return agent::RunAgent(ctx); }; });

  struct TakeOpts {
    std::string vpc;
    int vhid = 0;
    int timeout_ms = 3000;
    bool json = false;
  };
  auto take = std::make_shared<TakeOpts>();
  c = app.add_subcommand("vip-take",
                         "Take a VIP's lease to this node now (the node side of `vip move`)");
  c->add_option("vpc", take->vpc, "VPC name")->required();
  c->add_option("vhid", take->vhid, "Virtual IP id, 1-255")
      ->required()
      ->check(Bounded("vhid", 1, 255));
  c->add_option("--timeout", take->timeout_ms,
                "Milliseconds to wait for the lease, 100-60000 (default 3000)")
      ->check(Bounded("--timeout", 100, 60000, "ms"))
      ->type_name("MS");
  c->add_flag("--json", take->json, "Print JSON");
  c->callback([take, &d] {
    d.action = [take](fabric::Context& ctx) {
      return vipd::VipTake(ctx, take->vpc, take->vhid, take->json,
                           std::chrono::milliseconds(take->timeout_ms));
    };
  });
}

}  // namespace vpcctl::cli
