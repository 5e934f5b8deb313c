#include <memory>

#include "commands.h"
#include "vpcctl/fabric/guests.h"

namespace vpcctl::cli {

void AddGuestCommands(CLI::App& app, Dispatch& d) {
  struct Opts {
    fabric::AttachOptions a;
    std::string jail, vm, netns, tap;
  };
  auto o = std::make_shared<Opts>();
  auto* c = app.add_subcommand("attach", "Attach a guest on this node to a VPC bridge");
  c->add_option("vpc", o->a.vpc, "VPC name")->required();
  auto* jail = c->add_option("--jail", o->jail, "FreeBSD vnet jail (epair)");
  auto* vm = c->add_option("--vm", o->vm, "VM (a tap for bhyve or QEMU)");
  auto* netns = c->add_option("--netns", o->netns, "Linux network namespace (veth, eth0 inside)");
  auto* tap = c->add_option("--tap", o->tap, "A tap of this name (QEMU's ifname=)");
  jail->excludes(vm, netns, tap);
  vm->excludes(netns, tap);
  netns->excludes(tap);
  c->add_option("--ip", o->a.ip, "Address set inside the jail or namespace")->type_name("CIDR");
  c->add_option("--mac", o->a.mac, "MAC of the guest's interface");
  c->add_flag("--dry-run", o->a.dry_run, "Check everything and print the commands; change nothing");
  c->add_flag("--json", o->a.json, "Print JSON");
  c->callback([o, &d] {
    std::pair<const char*, std::string*> kinds[] = {
        {"jail", &o->jail}, {"vm", &o->vm}, {"netns", &o->netns}, {"tap", &o->tap}};
    for (auto& [kind, name] : kinds) {
      if (!name->empty()) {
        o->a.kind = kind;
        o->a.guest = *name;
      }
    }
    if (o->a.kind.empty())
      throw CLI::ValidationError("attach", "give --jail, --vm, --netns or --tap");
    d.action = [o](fabric::Context& ctx) { return fabric::Attach(ctx, o->a); };
  });

  struct Pair {
    std::string vpc, guest;
    bool json = false;
  };
  auto det = std::make_shared<Pair>();
  c = app.add_subcommand("detach", "Detach a guest from a VPC bridge and forget it");
  c->add_option("vpc", det->vpc, "VPC name")->required();
  c->add_option("guest", det->guest,
                "Guest name: the jail, VM, namespace or tap it was attached as")
      ->required();
  c->add_flag("--json", det->json, "Print the result as JSON");
  c->callback([det, &d] {
    d.action = [det](fabric::Context& ctx) {
      return fabric::Detach(ctx, det->vpc, det->guest, det->json);
    };
  });

  auto list = std::make_shared<Pair>();
  c = app.add_subcommand("attachments", "Guests attached on this node");
  c->add_option("vpc", list->vpc, "Only this VPC");
  c->add_flag("--json", list->json, "Print JSON");
  c->callback([list, &d] {
    d.action = [list](fabric::Context& ctx) {
      return fabric::Attachments(ctx, list->vpc, list->json);
    };
  });
}

}  // namespace vpcctl::cli
