// One driver per OS: renders plan steps to argv lists and parses probe output. Pure: drivers never
// run anything; exec/ and ssh/ do. Both drivers are golden-tested on any machine.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/model/fabric.h"
#include "vpcctl/plan/diff.h"
#include "vpcctl/plan/state.h"
#include "vpcctl/version.h"

namespace vpcctl::platform {

using Argv = std::vector<std::string>;

// One process to run: argv, with `input` on its stdin.
struct Invocation {
  Argv argv;
  std::string input;
};

// Where the node's machinery (VIP daemons, WireGuard key, firewall records) finds vpcctl and its
// state directory.
struct NodeEnv {
  std::string vpcctl = VPCCTL_INSTALLED_PROGRAM;
  std::string state_dir;
};

class Driver {
 public:
  virtual ~Driver() = default;
  virtual model::Platform platform() const = 0;
  // The commands that carry out one step, in order.
  virtual std::vector<Argv> Render(const plan::Step& step) const = 0;
  // The commands whose output ParseProbe reads, in order.
  virtual std::vector<Argv> ProbeCommands() const = 0;
  // The command listing the guests' network namespaces (Linux), which ParseNetnsList reads; empty
  // where guests are not namespaces. Run only when a namespace guest is concerned: it looks up
  // every namespace's id, and a host with many namespaces pays for each.
  virtual Argv NamespaceProbe() const { return {}; }
  // Parses the outputs of ProbeCommands() (same order) into the observed state.
  virtual Result<plan::Observed> ParseProbe(const std::vector<std::string>& outputs) const = 0;
  // Groups commands into as few processes as the platform allows (Linux: `ip -batch -`). An error
  // when a command cannot be put into a batch exactly (nothing is run then).
  virtual Result<std::vector<Invocation>> Batch(const std::vector<Argv>& commands) const;
  // Fills what the node runs besides its interfaces: the VIP machinery (daemon files, daemons,
  // VIP mode; also when it has no VIP: then they are to be removed or stopped), the WireGuard
  // key file and engine, and the underlay firewall.
  virtual void AddNodeSetup(plan::Desired& d, const NodeEnv& env) const = 0;
  // The commands that list vpcctl's firewall (their outputs, joined, are what the diff compares
  // with the listing recorded at the last load). A failure or empty output of the first: absent.
  virtual std::vector<Argv> FirewallProbe() const = 0;
  // The command asking which route the node takes to `to`, and the source address its output
  // gives in `to`'s family (FreeBSD names the interface: its address in `observed`); nullopt
  // when it gives none. A node behind NAT starts its tunnels from that address.
  virtual Argv RouteProbe(const net::IpAddress& to) const = 0;
  virtual std::optional<net::IpAddress> ParseRouteSource(std::string_view output,
                                                         const plan::Observed& observed,
                                                         net::Family family) const = 0;
};

// The node's own addresses (every interface's), as the probe lists them.
bool HasAddress(const plan::Observed& observed, const net::IpAddress& address);

// The commands of the steps both platforms carry out the same way (files, daemons, WireGuard
// through wg(8)); nullopt for interface steps. Apply performs the file write/removal and daemon
// signals itself, then runs these.
std::optional<std::vector<Argv>> RenderCommon(const plan::Step& step);

// `wg show IFACE dump`: what the node's WireGuard interface is configured with.
Argv WireguardProbe(const std::string& ifname);
// Parses `wg show IFACE dump` (wireguard-tools, the same on both platforms). The first line's
// private key is never kept, nor quoted in an error.
Result<plan::ObservedWireguard> ParseWgDump(std::string_view output);
// `wg show IFACE latest-handshakes`, and its parse: public key -> UNIX seconds (0: never).
Argv WireguardHandshakesProbe(const std::string& ifname);
Result<std::map<std::string, int64_t>> ParseWgHandshakes(std::string_view output);
// Replaces the private key (first field of the first line) of `wg show dump` output, so that no
// copy of it outlives the probe.
void ScrubWgDump(std::string& output);

// The paths under the state directory that the firewall and WireGuard steps use.
std::string WgKeyPath(const NodeEnv& env);
plan::DesiredFirewall FirewallPaths(const NodeEnv& env);
// "10.77.0.2:51820", "[fd77::2]:51820"
std::string Endpoint(const net::IpAddress& a, int port);

// vipd's configuration file (no content when the node takes part in no VIP: then it is removed),
// and vipd itself, which apply starts detached (Linux) and reloads with SIGHUP when the file
// changes. `start` is the argv that runs it: the caller wraps it for its platform.
plan::DesiredFile VipdConfigFile(const plan::Desired& d, const NodeEnv& env);
plan::DesiredDaemon VipdDaemon(const plan::Desired& d, const NodeEnv& env);
// The node agent (agent/agent.h), which apply starts detached while the node has a VPC.
plan::DesiredDaemon AgentDaemon(const plan::Desired& d, const NodeEnv& env);

const Driver& DriverFor(model::Platform p);

// Consecutive `wg set IFACE peer ...` commands (peer settings only) as one `wg set`: one process
// for all of a node's peers. Everything else is kept as it is, in order.
std::vector<Argv> MergeWgPeerCommands(const std::vector<Argv>& commands);

// Every command of a plan, flattened, in order.
std::vector<Argv> RenderAll(const Driver& d, const std::vector<plan::Step>& steps);
// The plan as a shell script: a comment describing each step, then its commands.
std::string RenderScript(const Driver& d, const std::vector<plan::Step>& steps);

}  // namespace vpcctl::platform
