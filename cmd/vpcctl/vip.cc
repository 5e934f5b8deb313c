#include <memory>

#include "commands.h"
#include "vpcctl/fabric/vip_ops.h"

namespace vpcctl::cli {

namespace {

struct Opts {
  std::string vpc, vip;
  bool json = false, show_secrets = false;
};

// vip add, vip set
void AddVipAddSet(CLI::App* vip, Dispatch& d) {
  auto add = std::make_shared<fabric::VipAddOptions>();
  auto* c = vip->add_subcommand("add", "Add a VIP to a VPC (apply it with vpc deploy)");
  c->add_option("vpc", add->vpc, "VPC name")->required();
  c->add_option("address", add->address, "The virtual IP, an address inside the VPC's peer network")
      ->required();
  c->add_option("--vhid", add->vhid, "Virtual IP id, 1-255, unique in the VPC")
      ->required()
      ->type_name("VHID");
  c->add_option("--nodes", add->nodes, "Candidates, in order of preference: a,b[,c...]")
      ->required();
  c->add_option("--lease", add->lease, "Lease in ms, 1350-60000 (default 1350)")->type_name("MS");
  c->add_option("--check", add->check,
                "Service check on each candidate: absolute path and arguments, no shell")
      ->type_name("'CMD'");
  c->add_option("--witness", add->witness,
                "A node outside the VPC that is an extra acceptor of the lease")
      ->type_name("NODE");
  c->add_flag("--unsafe-two-node", add->unsafe_two_node,
              "With two acceptors, let each hold the VIP alone (two holders under a partition)");
  c->add_option("--advert", add->advert,
                "Advertisement interval in ms: FreeBSD CARP 1000-255000 in whole seconds "
                "(default 1000), Linux 10-40950 in steps of 10 (default 100)")
      ->type_name("MS");
  c->add_option("--password-file", add->password_file,
                "File whose first line is the secret (default: a random one)")
      ->type_name("FILE");
  c->add_flag("--no-preempt", add->no_preempt,
              "Keep the current holder when a better node returns");
  c->add_flag("--json", add->json, "Print the result as JSON");
  c->callback(
      [add, &d] { d.action = [add](fabric::Context& ctx) { return fabric::VipAdd(ctx, *add); }; });

  auto set = std::make_shared<fabric::VipSetOptions>();
  c = vip->add_subcommand("set", "Change a VIP in place (apply it with vpc deploy)");
  c->add_option("vpc", set->vpc, "VPC name")->required();
  c->add_option("vip", set->vip, "Address or vhid")->required();
  c->add_option("--lease", set->lease, "Lease in ms, 1350-60000")->type_name("MS");
  c->add_option("--check", set->check, "Service check: absolute path and arguments, no shell")
      ->type_name("'CMD'");
  c->add_flag("--no-check", set->no_check, "Remove the service check");
  c->add_flag("--preempt", set->preempt, "A better candidate takes the VIP back when it returns");
  c->add_flag("--no-preempt", set->no_preempt, "Keep the current holder");
  c->add_option("--nodes", set->nodes, "Candidates, in order of preference: a,b[,c...]");
  c->add_option("--advert", set->advert,
                "Advertisement interval in ms (FreeBSD 1000-255000 whole seconds, Linux 10-40950)")
      ->type_name("MS");
  c->add_option("--witness", set->witness, "A node outside the VPC as an extra acceptor")
      ->type_name("NODE");
  c->add_flag("--no-witness", set->no_witness, "Remove the witness");
  c->add_flag("--unsafe-two-node", set->unsafe_two_node,
              "With two acceptors, let each hold the VIP alone (two holders under a partition)");
  c->add_flag("--safe", set->safe, "Undo --unsafe-two-node (needs a witness or three members)");
  c->add_flag("--json", set->json, "Print the result as JSON");
  c->callback(
      [set, &d] { d.action = [set](fabric::Context& ctx) { return fabric::VipSet(ctx, *set); }; });
}

// vip list, vip show, vip move
void AddVipListShowMove(CLI::App* vip, Dispatch& d) {
  auto list = std::make_shared<Opts>();
  auto* c = vip->add_subcommand("list", "List VIPs");
  c->add_option("vpc", list->vpc, "Only this VPC");
  c->add_flag("--json", list->json, "Print JSON");
  c->add_flag("--show-secrets", list->show_secrets, "Print the secrets");
  c->callback([list, &d] {
    d.action = [list](fabric::Context& ctx) {
      return fabric::VipList(ctx, list->vpc, list->json, list->show_secrets);
    };
  });

  auto show = std::make_shared<fabric::VipShowOptions>();
  c = vip->add_subcommand("show", "A VIP's settings, its lease holder and each node's view");
  c->add_option("vpc", show->vpc, "VPC name")->required();
  c->add_option("vip", show->vip, "Address or vhid")->required();
  c->add_flag("--show-secrets", show->show_secrets, "Print the secret");
  AddFanOutOptions(c, *show);
  c->callback([show, &d] {
    d.action = [show](fabric::Context& ctx) { return fabric::VipShow(ctx, *show); };
  });

  auto move = std::make_shared<fabric::VipMoveOptions>();
  c = vip->add_subcommand("move", "Hand a VIP's lease to another candidate at once");
  c->add_option("vpc", move->vpc, "VPC name")->required();
  c->add_option("vip", move->vip, "Address or vhid")->required();
  c->add_option("--to", move->to, "The candidate to take it")->required()->type_name("NODE");
  AddFanOutOptions(c, *move);
  c->callback([move, &d] {
    d.action = [move](fabric::Context& ctx) { return fabric::VipMove(ctx, *move); };
  });
}

// vip remove, and vip-event (run by vipd on a node)
void AddVipRemoveEvent(CLI::App& app, CLI::App* vip, Dispatch& d) {
  auto remove = std::make_shared<Opts>();
  auto* c = vip->add_subcommand("remove", "Remove a VIP (released on the nodes by vpc deploy)");
  c->add_option("vpc", remove->vpc, "VPC name")->required();
  c->add_option("vip", remove->vip, "Address or vhid")->required();
  c->add_flag("--json", remove->json, "Print the result as JSON");
  c->callback([remove, &d] {
    d.action = [remove](fabric::Context& ctx) {
      return fabric::VipRemove(ctx, remove->vpc, remove->vip, remove->json);
    };
  });

  auto event = std::make_shared<std::vector<std::string>>();
  c = app.add_subcommand("vip-event",
                         "Record a VIP transition and run hooks.d (vipd and devd call it)");
  c->add_option("args", *event, "lease VPC VHID STATE | carp VHID@VPC STATE")->required();
  c->callback([event, &d] {
    d.action = [event](fabric::Context& ctx) { return fabric::VipEvent(ctx, *event); };
  });
}

}  // namespace

void AddVipCommands(CLI::App& app, Dispatch& d) {
  auto* vip = app.add_subcommand(
      "vip", "Virtual IPs on VPC bridges, held under a majority lease (vipd; CARP on FreeBSD)");
  vip->require_subcommand(1);
  AddVipAddSet(vip, d);
  AddVipListShowMove(vip, d);
  AddVipRemoveEvent(app, vip, d);
}

}  // namespace vpcctl::cli
