// Linux driver: iproute2 (`ip`, `bridge`). Parsers read `ip -j -d link show`, `ip -j addr show` and
// `bridge -j -d link show`.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "vpcctl/platform/driver.h"

namespace vpcctl::platform {

class LinuxDriver : public Driver {
 public:
  model::Platform platform() const override { return model::Platform::kLinux; }
  std::vector<Argv> Render(const plan::Step& step) const override;
  std::vector<Argv> ProbeCommands() const override;
  Argv NamespaceProbe() const override;
  Result<plan::Observed> ParseProbe(const std::vector<std::string>& outputs) const override;
  // Consecutive `ip` commands become one `ip -batch -`, consecutive `bridge` commands one
  // `bridge -batch -`; order is kept. Refused when a token fails CheckBatchTokens.
  Result<std::vector<Invocation>> Batch(const std::vector<Argv>& commands) const override;
  // keepalived (VRRPv3) for the node's VIPs, with its configuration in the state directory;
  // wireguard-go where the kernel has no WireGuard; an nftables table as the underlay firewall.
  void AddNodeSetup(plan::Desired& d, const NodeEnv& env) const override;
  std::vector<Argv> FirewallProbe() const override;
  Argv RouteProbe(const net::IpAddress& to) const override;
  std::optional<net::IpAddress> ParseRouteSource(std::string_view output,
                                                 const plan::Observed& observed,
                                                 net::Family family) const override;

 private:
  void AddVipSetup(plan::Desired& d, const NodeEnv& env) const;
};

// iproute2 reads a batch line by splitting it at blanks, with `#` starting a comment and its own
// idea of quotes: a command goes into a batch only when every token is printable ASCII with no
// blank, quote, backslash or `#`, so that the line means exactly its argv. The error names the
// token and the command.
Status CheckBatchTokens(const Argv& argv);

// The nftables script (for `nft -f`) that replaces table inet vpcctl atomically: VXLAN of each
// tunnel only from its one remote (through WireGuard for encrypted VPCs), WireGuard only from the
// fabric's nodes, vipd's port only on the VPC bridges and from fabric nodes (a witness). Empty when
// the node has no VPC.
std::string RenderNftables(const plan::Desired& d);

// The receive packet steering mask of an interface (/sys/class/net/IF/queues/rx-0/rps_cpus) for
// `cpus` CPUs: 32-bit hex groups, most significant first, comma-separated ("3", "ffffffff,f").
std::string RpsMask(unsigned cpus);

// Interfaces with kind, MTU, flags, ifalias, vxlan parameters and bridge-port data.
Result<std::vector<plan::ObservedInterface>> ParseIpLink(std::string_view json);
// Addresses per interface name.
Result<std::map<std::string, std::vector<net::IfAddress>>> ParseIpAddr(std::string_view json);
struct BridgePort {
  std::string master;
  bool isolated = false;
};
// Bridge ports per interface name.
Result<std::map<std::string, BridgePort>> ParseBridgeLink(std::string_view json);
// Network namespace names (`ip -j netns list`; empty output when there are none).
Result<std::set<std::string>> ParseNetnsList(std::string_view json);
// `ip -j -d addr show`: the links with their details and addresses (the probe's one listing).
Argv LinuxLinkProbe();
// The permanent neighbour entries (where pinned peers are checked) and their parser.
Argv LinuxNeighbourProbe();
Result<std::vector<plan::ObservedNeighbour>> ParseIpNeigh(std::string_view json);

}  // namespace vpcctl::platform
