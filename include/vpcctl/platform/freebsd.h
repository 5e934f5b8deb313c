// FreeBSD driver: ifconfig(8) with vxlan(4), if_bridge(4); rc.conf(5) rendering. The grammar it
// follows: clones are created by cloner name (vxlanN, bridgeN) and renamed in a separate call,
// create-time vxlan parameters come right after `create`, per-member bridge flags name the member,
// addresses go on the bridge, never on a member.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vpcctl/platform/driver.h"

namespace vpcctl::platform {

class FreeBsdDriver : public Driver {
 public:
  model::Platform platform() const override { return model::Platform::kFreeBSD; }
  std::vector<Argv> Render(const plan::Step& step) const override;
  std::vector<Argv> ProbeCommands() const override;
  Result<plan::Observed> ParseProbe(const std::vector<std::string>& outputs) const override;
  Argv PingCommand(const std::string& bridge, const net::IpAddress& from, const net::IpAddress& to,
                   int count) const override;
  // CARP addresses on the bridge (diffed like interfaces), a devd rule that reports state changes
  // to `vpcctl vip-event`, and `vpcctl vip-watch`, which demotes CARP without a quorum; if_wg
  // for WireGuard; a pf anchor as the underlay firewall.
  void AddNodeSetup(plan::Desired& d, const NodeEnv& env) const override;
  std::string DefaultStateDir() const override { return "/var/db/vpcctl"; }
  std::vector<Argv> FirewallProbe() const override;

 private:
  void AddVipSetup(plan::Desired& d, const NodeEnv& env) const;
};

inline constexpr const char* kDevdConf = "/usr/local/etc/devd/vpcctl.conf";
// The pf anchor vpcctl loads its rules into; pf.conf must call it: anchor "vpcctl".
inline constexpr const char* kPfAnchor = "vpcctl";

// The devd rule for the node's VPC bridges; empty when the node has no VIP.
std::string RenderDevdConf(const plan::Desired& d, const NodeEnv& env);

// The rules of the pf anchor "vpcctl" (for `pfctl -a vpcctl -f`): only blocks, so that pf.conf's
// own rules keep deciding everything else. VXLAN to each local tunnel socket only from the
// member underlay addresses (plain) or through WireGuard from the peers' transport addresses
// (encrypted), WireGuard only from the fabric's nodes, CARP claiming a VPC's addresses only on its
// bridge. Empty when the node has no VPC.
std::string RenderPfAnchor(const plan::Desired& d);

// Clone unit of the WireGuard interface before it is renamed to wg-vpcctl.
inline constexpr uint32_t kFreeBsdWgUnit = 10000;

// Clone unit of a VPC's bridge before it is renamed to the VPC name: 10000 + VPC id, away from the
// bridge0, bridge1, ... that people and other tools create.
uint32_t FreeBsdBridgeUnit(uint32_t vpc_id);

// Parses `ifconfig -a` text (FreeBSD 13-15 formats).
Result<plan::Observed> ParseIfconfig(std::string_view text);

// rc.conf lines that recreate the node's VPC interfaces (and CARP VIPs) at boot, for
// `vpcctl render rc.conf`. VIP secrets are written only with `show_secrets`.
std::string RenderRcConf(const plan::Desired& desired, bool show_secrets = false);

}  // namespace vpcctl::platform
