#include "vpcctl/fabric/init.h"

#include <memory>

#include "commands.h"

namespace vpcctl::cli {

void AddInitCommand(CLI::App& app, Dispatch& d) {
  auto o = std::make_shared<fabric::InitOptions>();
  auto* c =
      app.add_subcommand("init", "Register this machine as the local node and create its key");
  c->add_option("--name", o->name, "Node name, [a-z][a-z0-9-]{0,31}")->required();
  c->add_option("--address", o->addresses,
                "Underlay address (repeat: at most one IPv4 and one IPv6)")
      ->required()
      ->type_name("ADDR");
  c->add_option("--vni-range", o->vni_range, "VNIs the fabric may use (default 100-16777215)")
      ->type_name("LO-HI");
  c->add_option("--mtu", o->mtu, "Underlay MTU, 576-65535 (default: detected)")->type_name("MTU");
  c->add_option("--transport-network", o->transport_network,
                "Network inside WireGuard for encrypted VPCs (default 10.255.0.0/16)")
      ->type_name("CIDR");
  c->add_option("--wireguard-port", o->wireguard_port,
                "WireGuard's UDP port, 1-65535 (default 51820)")
      ->type_name("PORT");
  c->add_flag("--json", o->json, "Print the result as JSON");
  c->callback([o, &d] { d.action = [o](fabric::Context& ctx) { return fabric::Init(ctx, *o); }; });
}

}  // namespace vpcctl::cli
