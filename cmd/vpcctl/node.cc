#include <memory>

#include "commands.h"
#include "vpcctl/fabric/check.h"
#include "vpcctl/fabric/deploy.h"
#include "vpcctl/fabric/nodes.h"

namespace vpcctl::cli {

namespace {

struct NamedNode {
  std::string name;
  bool json = false;
  bool force = false;
};

struct Rekey {
  std::string name;
  fabric::FanOutOptions fan;
};

// How a first contact logs in and confirms the host key (node add, node update --repin), and the
// connect timeout; `when` ends each help text (" (with --repin)").
void AddFirstContact(CLI::App* c, std::string& identity, std::string& password_file,
                     std::string& fingerprint, bool& yes, std::string& timeout,
                     const std::string& when) {
  c->add_option("--identity", identity,
                "Private key to log in with before ours is installed" + when)
      ->type_name("FILE");
  c->add_option("--password-file", password_file,
                "File whose first line is the password (never give it on the command line)" + when)
      ->type_name("FILE");
  c->add_option("--fingerprint", fingerprint, "Expected host key fingerprint, SHA256:..." + when);
  c->add_flag("--yes", yes, "Accept the host key shown on first contact" + when);
  c->add_option("--timeout", timeout, "Connect timeout, 1-600 seconds (default 5)")
      ->type_name("SECS")
      ->check(Bounded("--timeout", 1, 600, "seconds"));
}

// node add
void AddNodeAdd(CLI::App* node, Dispatch& d) {
  auto add = std::make_shared<fabric::NodeAddOptions>();
  auto* c = node->add_subcommand("add", "Register a node");
  c->add_option("name", add->name, "Node name, [a-z][a-z0-9-]{0,31}")->required();
  c->add_option("address", add->address, "Address SSH reaches the node on")->required();
  c->add_option("--underlay", add->underlay,
                "Underlay address when it differs from ADDRESS (repeat: one IPv4, one IPv6)")
      ->type_name("ADDR");
  c->add_option("--local-address", add->local_address,
                "Behind 1:1 NAT: the address the node has, where its tunnels start (the "
                "underlay is its public one); default: detected")
      ->type_name("ADDR");
  c->add_option("--port", add->port, "SSH port, 1-65535 (default 22)")->type_name("PORT");
  c->add_option("--user", add->user, "SSH user (default root; others use sudo -n)");
  c->add_option("--mtu", add->mtu,
                "Underlay MTU, 576-65535 (default: detected; 1500 with --no-connect)")
      ->type_name("MTU");
  c->add_option("--platform", add->platform, "linux or freebsd (detected when connecting)");
  c->add_flag("--no-connect", add->no_connect, "Register without contacting the node");
  AddFirstContact(c, add->identity, add->password_file, add->fingerprint, add->yes, add->timeout,
                  "");
  c->add_option("--remote-vpcctl", add->remote_vpcctl, "Path of vpcctl on the node")
      ->type_name("PATH");
  c->add_flag("--json", add->json, "Print the result as JSON");
  c->callback(
      [add, &d] { d.action = [add](fabric::Context& ctx) { return fabric::NodeAdd(ctx, *add); }; });
}

// node update
void AddNodeUpdate(CLI::App* node, Dispatch& d) {
  auto up = std::make_shared<fabric::NodeUpdateOptions>();
  auto* c = node->add_subcommand(
      "update", "Change a node's addresses, SSH port or user, or MTU; nothing is renumbered");
  c->add_option("name", up->name, "Node name")->required();
  c->add_option("--underlay", up->underlay,
                "New underlay address (repeat: one IPv4, one IPv6; replaces both)")
      ->type_name("ADDR");
  c->add_option("--local-address", up->local_address,
                "Behind 1:1 NAT: the address the node has (repeat per family), or auto to "
                "detect it again")
      ->type_name("ADDR|auto");
  c->add_option("--address", up->address, "New address SSH reaches the node on")
      ->type_name("ADDRESS");
  c->add_option("--port", up->port, "New SSH port, 1-65535")->type_name("PORT");
  c->add_option("--user", up->user, "New SSH user (others than root use sudo -n)");
  c->add_option("--mtu", up->mtu, "New underlay MTU, 576-65535")->type_name("MTU");
  c->add_flag("--repin", up->repin,
              "Pin the node's new host key (a reinstalled host), confirmed as at enrolment");
  AddFirstContact(c, up->identity, up->password_file, up->fingerprint, up->yes, up->timeout,
                  " (with --repin)");
  c->add_flag("--json", up->json, "Print the result as JSON");
  c->callback(
      [up, &d] { d.action = [up](fabric::Context& ctx) { return fabric::NodeUpdate(ctx, *up); }; });
}

// node list, node check
void AddNodeListCheck(CLI::App* node, Dispatch& d) {
  auto list_json = std::make_shared<bool>(false);
  auto* c = node->add_subcommand("list", "List nodes");
  c->add_flag("--json", *list_json, "Print JSON");
  c->callback([list_json, &d] {
    d.action = [list_json](fabric::Context& ctx) { return fabric::NodeList(ctx, *list_json); };
  });

  auto check = std::make_shared<fabric::NodeCheckOptions>();
  c = node->add_subcommand("check", "Check reachability, host key, login and vpcctl of nodes");
  c->add_option("names", check->names, "Nodes (default: all)");
  c->add_option("--timeout", check->timeout, "Connect timeout, 1-600 seconds (default 5)")
      ->type_name("SECS")
      ->check(Bounded("--timeout", 1, 600, "seconds"));
  c->add_flag("--json", check->json, "Print JSON");
  c->callback([check, &d] {
    d.action = [check](fabric::Context& ctx) { return fabric::NodeCheck(ctx, *check); };
  });
}

// node show, node rekey, node remove
void AddNodeShowRekeyRemove(CLI::App* node, Dispatch& d) {
  auto show = std::make_shared<NamedNode>();
  auto* c = node->add_subcommand("show", "Show one node");
  c->add_option("name", show->name, "Node name")->required();
  c->add_flag("--json", show->json, "Print JSON");
  c->callback([show, &d] {
    d.action = [show](fabric::Context& ctx) {
      return fabric::NodeShow(ctx, show->name, show->json);
    };
  });

  auto rekey = std::make_shared<Rekey>();
  c = node->add_subcommand("rekey", "Rotate a node's WireGuard key and push it to its peers");
  c->add_option("name", rekey->name, "Node name")->required();
  AddFanOutOptions(c, rekey->fan);
  c->callback([rekey, &d] {
    d.action = [rekey](fabric::Context& ctx) {
      return fabric::NodeRekey(ctx, rekey->name, rekey->fan);
    };
  });

  auto remove = std::make_shared<NamedNode>();
  c = node->add_subcommand("remove",
                           "Remove a node (in no VPC) and our key from its authorized_keys");
  c->add_option("name", remove->name, "Node name")->required();
  c->add_flag("--force", remove->force, "Remove even when the node cannot be reached");
  c->add_flag("--json", remove->json, "Print the result as JSON");
  c->callback([remove, &d] {
    d.action = [remove](fabric::Context& ctx) {
      return fabric::NodeRemove(ctx, remove->name, remove->force, remove->json);
    };
  });
}

}  // namespace

void AddNodeCommands(CLI::App& app, Dispatch& d) {
  auto* node = app.add_subcommand("node", "Manage the fabric's nodes");
  node->require_subcommand(1);
  AddNodeAdd(node, d);
  AddNodeUpdate(node, d);
  AddNodeListCheck(node, d);
  AddNodeShowRekeyRemove(node, d);
}

}  // namespace vpcctl::cli
