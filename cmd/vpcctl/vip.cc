#include <memory>

#include "commands.h"
#include "vpcctl/fabric/vip_ops.h"

namespace vpcctl::cli {

void AddVipCommands(CLI::App& app, Dispatch& d) {
  auto* vip = app.add_subcommand("vip", "Virtual IPs: CARP (FreeBSD) or VRRPv3 (Linux) on VPC bridges");
  vip->require_subcommand(1);

  auto add = std::make_shared<fabric::VipAddOptions>();
  auto* c = vip->add_subcommand("add", "Add a VIP to a VPC (apply it with vpc deploy)");
  c->add_option("vpc", add->vpc)->required();
  c->add_option("address", add->address)->required();
  c->add_option("--vhid", add->vhid, "Virtual router id, 1-255, unique in the VPC")->required();
  c->add_option("--nodes", add->nodes, "Group, in order of preference: a,b[,c...]")->required();
  c->add_option("--advert", add->advert,
                "Advertisement interval in ms (default 100 on Linux, 1000 on FreeBSD)");
  c->add_option("--password-file", add->password_file,
                "File whose first line is the secret (default: a random one)")
      ->type_name("FILE");
  c->add_flag("--no-preempt", add->no_preempt, "Keep the current holder when a better node returns");
  c->callback([add, &d] {
    d.action = [add](fabric::Context& ctx) { return fabric::VipAdd(ctx, *add); };
  });

  struct Opts {
    std::string vpc, vip;
    bool json = false, show_secrets = false;
  };
  auto list = std::make_shared<Opts>();
  c = vip->add_subcommand("list", "List VIPs");
  c->add_option("vpc", list->vpc, "Only this VPC");
  c->add_flag("--json", list->json, "Print JSON");
  c->add_flag("--show-secrets", list->show_secrets, "Print the secrets");
  c->callback([list, &d] {
    d.action = [list](fabric::Context& ctx) {
      return fabric::VipList(ctx, list->vpc, list->json, list->show_secrets);
    };
  });

  auto show = std::make_shared<Opts>();
  c = vip->add_subcommand("show", "A VIP's settings, holder and recent transitions on each node");
  c->add_option("vpc", show->vpc)->required();
  c->add_option("vip", show->vip, "Address or vhid")->required();
  c->add_flag("--json", show->json, "Print JSON");
  c->add_flag("--show-secrets", show->show_secrets, "Print the secret");
  c->callback([show, &d] {
    d.action = [show](fabric::Context& ctx) {
      return fabric::VipShow(ctx, show->vpc, show->vip, show->json, show->show_secrets);
    };
  });

  auto remove = std::make_shared<Opts>();
  c = vip->add_subcommand("remove", "Remove a VIP (released on the nodes by vpc deploy)");
  c->add_option("vpc", remove->vpc)->required();
  c->add_option("vip", remove->vip, "Address or vhid")->required();
  c->callback([remove, &d] {
    d.action = [remove](fabric::Context& ctx) {
      return fabric::VipRemove(ctx, remove->vpc, remove->vip);
    };
  });

  auto event = std::make_shared<std::vector<std::string>>();
  c = app.add_subcommand("vip-event", "Record a VIP state change and run hooks.d (VIP daemons call it)");
  c->add_option("args", *event, "vrrp INSTANCE VPC_VHID STATE [PRIO] | carp VHID@VPC STATE")
      ->required();
  c->callback([event, &d] {
    d.action = [event](fabric::Context& ctx) { return fabric::VipEvent(ctx, *event); };
  });

  auto health = std::make_shared<std::string>();
  c = app.add_subcommand("vip-health", "Exit 0 when this node reaches a majority of a VPC's members");
  c->add_option("vpc", *health)->required();
  c->callback([health, &d] {
    d.action = [health](fabric::Context& ctx) { return fabric::VipHealth(ctx, *health); };
  });

  auto rounds = std::make_shared<int>(-1);
  c = app.add_subcommand("vip-watch", "Demote CARP while a VPC lacks quorum (FreeBSD; runs forever)");
  c->add_option("--rounds", *rounds, "Stop after this many checks (default: never)");
  c->callback([rounds, &d] {
    d.action = [rounds](fabric::Context& ctx) { return fabric::VipWatch(ctx, *rounds); };
  });
}

}  // namespace vpcctl::cli
