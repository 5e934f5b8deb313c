// The node's side of planning, shared by apply, status and attach: what the node should have
// (from its map, its guests and its own WireGuard key) and what it has (probed through its
// platform driver).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/exec/pidfile.h"
#include "vpcctl/fabric/context.h"
#include "vpcctl/model/map.h"
#include "vpcctl/model/reports.h"
#include "vpcctl/plan/diff.h"
#include "vpcctl/plan/state.h"
#include "vpcctl/platform/driver.h"
#include "vpcctl/store/store.h"

namespace vpcctl::fabric {

// The map this node holds, parsed.
struct HeldMap {
  model::Map map;
  std::string node;  // which node of the map this one is
  uint64_t generation = 0;
};
Result<HeldMap> LoadHeldMap(store::Store& db);

// Steps as reports carry them: action, VPC, interface, description.
std::vector<model::StepReport> StepReports(const std::vector<plan::Step>& steps);

// What decides a node's desired state besides the fabric. `vpcctl plan` on the controller, and
// apply, status and attach on the node, all build it with BuildDesired: what plan prints is what
// apply runs.
struct DesiredInputs {
  std::string node;
  model::Platform platform = model::Platform::kLinux;  // the node's, as it runs
  platform::NodeEnv env;                       // where its vpcctl and its state directory are
  std::vector<model::Attachment> attachments;  // its guests' records
  std::string only_vpc;                        // just this VPC's part (plan VPC)
};

// Pure. The node's part of `fabric` (nothing when it is not in it), with the machinery its
// platform runs (VIP daemons, WireGuard, firewall) and its guests: those of VPCs it keeps are
// attached at the VPC's MTU, the others are orphans to remove.
Result<plan::Desired> BuildDesired(const model::Fabric& fabric, DesiredInputs in);

// Where `n` keeps vpcctl and its state, as the controller runs it: this process and its state
// directory for the local node; for others the vpcctl they were enrolled with (else the installed
// path) and their platform's default state directory (the controller passes no --state-dir).
platform::NodeEnv NodeEnvOf(const Context& ctx, const model::Node& n);

// BuildDesired for this node, from its map and its guests' records, here (this vpcctl, this state
// directory). The WireGuard public key is this node's own, read from its key file; with
// `make_key` the key pair is made first when there is none.
Result<plan::Desired> NodeDesired(Context& ctx, store::Store& db, const model::Map& map,
                                  const std::string& node, model::Platform platform,
                                  bool make_key);

// This node's interfaces, through the platform driver's probe commands; with `namespaces`, also
// the guests' network namespaces (Observed::netns; Linux).
Result<plan::Observed> ProbeInterfaces(Context& ctx, const platform::Driver& driver,
                                       bool namespaces = false);

// What ProbeNode may take as known instead of asking the kernel again.
struct ProbeHints {
  // vpcctl's firewall listing (none: no table), as the same apply last read it. Listing the
  // firewall is a process costing tens of milliseconds, so the re-probe that verifies an apply
  // reuses it: the listing taken right after a load, or the first probe's when no firewall step
  // ran.
  std::optional<std::optional<std::string>> firewall;
};

// Everything the diff compares with `desired`: the interfaces, the WireGuard interface's
// configuration, vpcctl's firewall listing, the daemon files and daemons, and which programs and
// kernel features the node has.
Result<plan::Observed> ProbeNode(Context& ctx, const platform::Driver& driver,
                                 const plan::Desired& desired, const ProbeHints& hints = {});

// A node behind 1:1 NAT has its underlay (public) address on none of its interfaces. For each
// family where that is so, sets the node's local address in `map`: the map's own when the node
// has it, else the source of its route to a peer (the driver's route probe); clears a local
// address the node no longer needs (its underlay address is its own again). Returns what it
// found, one entry per family behind NAT; an error, naming the address and the fix, when a family
// the node's tunnels use has neither.
Result<std::vector<model::NatReport>> LocateBehindNat(Context& ctx, const platform::Driver& driver,
                                                      model::Map& map, const std::string& node,
                                                      const plan::Observed& observed);

// NodeDesired and ProbeNode, then LocateBehindNat: behind NAT, the desired state is built again
// from the located map (the probe does not depend on the tunnels' local addresses).
struct LocatedNode {
  plan::Desired desired;
  plan::Observed observed;
  std::vector<model::NatReport> behind_nat;
};
Result<LocatedNode> DesireAndProbe(Context& ctx, const platform::Driver& driver, store::Store& db,
                                   const HeldMap& held, bool make_key);

// What the pid file of daemon `d` must name to count as it.
exec::DaemonIdentity Identity(const plan::DesiredDaemon& d);

// The live listing of vpcctl's firewall (the driver's firewall probe), or nothing when absent.
std::optional<std::string> ProbeFirewall(Context& ctx, const platform::Driver& driver);

// Runs commands on this node, batched as the driver allows; stops at the first failure, naming
// the command, how it ended and what it printed.
Status RunBatched(Context& ctx, const platform::Driver& driver,
                  const std::vector<platform::Argv>& commands);

}  // namespace vpcctl::fabric
