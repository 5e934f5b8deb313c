#include <memory>

#include "commands.h"
#include "vpcctl/fabric/vpcs.h"

namespace vpcctl::cli {

namespace {

// --max-jails and --max-vms (vpc init, vpc set).
void AddQuotaOptions(CLI::App* c, std::string& max_jails, std::string& max_vms) {
  c->add_option("--max-jails", max_jails, "Jails allowed in the VPC per node, 0-1000000")
      ->type_name("N");
  c->add_option("--max-vms", max_vms, "VMs allowed in the VPC per node, 0-1000000")->type_name("N");
}

struct NamedVpc {
  std::string name;
  bool json = false;
};

struct Pair {
  std::string vpc;
  std::string node;
  bool json = false;
};

// vpc init
void AddVpcInit(CLI::App* vpc, Dispatch& d) {
  auto init = std::make_shared<fabric::VpcInitOptions>();
  auto* c = vpc->add_subcommand("init", "Create a VPC: allocate its tunnels and addresses");
  c->add_option("name", init->name, "VPC name, [a-z][a-z0-9]{0,11} (also its bridge's name)")
      ->required();
  c->add_option("--peer-network", init->peer_network, "Overlay network (IPv4 or IPv6 CIDR)")
      ->required()
      ->type_name("CIDR");
  c->add_option("--members", init->members, "all, or a comma-separated list of nodes")->required();
  c->add_option("--family", init->family, "Underlay family of tunnels: auto, ipv4 or ipv6");
  c->add_option("--mtu", init->mtu,
                "Fixed MTU, 576-9216 (1280 up for IPv6; default: derived from the underlay)")
      ->type_name("MTU");
  c->add_option("--port", init->port, "VXLAN UDP port, 1-65535 (default 4789)")->type_name("PORT");
  AddQuotaOptions(c, init->max_jails, init->max_vms);
  c->add_flag("--plain", init->plain,
              "Tunnels over the underlay without encryption (one trusted site only)");
  c->add_flag("--encrypted", init->encrypted, "Tunnels inside WireGuard (the default)");
  c->add_flag("--json", init->json, "Print the result as JSON");
  c->callback([init, &d] {
    d.action = [init](fabric::Context& ctx) { return fabric::VpcInit(ctx, *init); };
  });
}

// vpc list, vpc show
void AddVpcListShow(CLI::App* vpc, Dispatch& d) {
  auto list_json = std::make_shared<bool>(false);
  auto* c = vpc->add_subcommand("list", "List VPCs");
  c->add_flag("--json", *list_json, "Print JSON");
  c->callback([list_json, &d] {
    d.action = [list_json](fabric::Context& ctx) { return fabric::VpcList(ctx, *list_json); };
  });

  auto show = std::make_shared<NamedVpc>();
  c = vpc->add_subcommand("show", "Show a VPC's members, addresses and tunnels");
  c->add_option("name", show->name, "VPC name")->required();
  c->add_flag("--json", show->json, "Print JSON");
  c->callback([show, &d] {
    d.action = [show](fabric::Context& ctx) {
      return fabric::VpcShow(ctx, show->name, show->json);
    };
  });
}

// vpc member add, vpc member remove
void AddVpcMember(CLI::App* vpc, Dispatch& d) {
  auto* member = vpc->add_subcommand("member", "Add or remove VPC members");
  member->require_subcommand(1);
  auto madd = std::make_shared<Pair>();
  auto* c = member->add_subcommand("add", "Add a node to a VPC (existing tunnels are kept)");
  c->add_option("vpc", madd->vpc, "VPC name")->required();
  c->add_option("node", madd->node, "Node name")->required();
  c->add_flag("--json", madd->json, "Print the result as JSON");
  c->callback([madd, &d] {
    d.action = [madd](fabric::Context& ctx) {
      return fabric::VpcMemberAdd(ctx, madd->vpc, madd->node, madd->json);
    };
  });
  auto mrem = std::make_shared<Pair>();
  c = member->add_subcommand("remove", "Remove a node from a VPC (other tunnels are kept)");
  c->add_option("vpc", mrem->vpc, "VPC name")->required();
  c->add_option("node", mrem->node, "Node name")->required();
  c->add_flag("--json", mrem->json, "Print the result as JSON");
  c->callback([mrem, &d] {
    d.action = [mrem](fabric::Context& ctx) {
      return fabric::VpcMemberRemove(ctx, mrem->vpc, mrem->node, mrem->json);
    };
  });
}

// vpc delete
// vpc set
void AddVpcSet(CLI::App* vpc, Dispatch& d) {
  auto set = std::make_shared<fabric::VpcSetOptions>();
  auto* c = vpc->add_subcommand("set", "Change a VPC's MTU, port or quotas; nothing is renumbered");
  c->add_option("name", set->name, "VPC name")->required();
  c->add_option("--mtu", set->mtu, "Fixed MTU (576-9216; 1280 for an IPv6 peer network), or auto")
      ->type_name("MTU");
  c->add_option("--port", set->port, "VXLAN UDP port, 1-65535")->type_name("PORT");
  AddQuotaOptions(c, set->max_jails, set->max_vms);
  c->add_flag("--json", set->json, "Print the result as JSON");
  c->callback(
      [set, &d] { d.action = [set](fabric::Context& ctx) { return fabric::VpcSet(ctx, *set); }; });
}

void AddVpcDelete(CLI::App* vpc, Dispatch& d) {
  auto del = std::make_shared<NamedVpc>();
  auto* c = vpc->add_subcommand("delete", "Delete a VPC's local record (hosts are not touched)");
  c->add_option("name", del->name, "VPC name")->required();
  c->add_flag("--json", del->json, "Print the result as JSON");
  c->callback([del, &d] {
    d.action = [del](fabric::Context& ctx) { return fabric::VpcDelete(ctx, del->name, del->json); };
  });
}

}  // namespace

void AddVpcCommands(CLI::App& app, Dispatch& d) {
  auto* vpc = app.add_subcommand("vpc", "Manage VPCs");
  vpc->require_subcommand(1);
  AddVpcInit(vpc, d);
  AddVpcListShow(vpc, d);
  AddVpcMember(vpc, d);
  AddVpcDelete(vpc, d);
  AddVpcSet(vpc, d);
}

}  // namespace vpcctl::cli
