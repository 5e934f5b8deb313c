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
  // The VIP machinery: a CARP address on the bridge for each VIP the node is a candidate of
  // (diffed like interfaces), `vpcctl vipd` under daemon(8) with its configuration, a devd rule
  // that hands CARP's own state changes to `vpcctl vip-event`; if_wg for WireGuard; a pf anchor as
  // the underlay firewall.
  void AddNodeSetup(plan::Desired& d, const NodeEnv& env) const override;
  std::vector<Argv> FirewallProbe() const override;
  Argv RouteProbe(const net::IpAddress& to) const override;
  std::optional<net::IpAddress> ParseRouteSource(std::string_view output,
                                                 const plan::Observed& observed,
                                                 net::Family family) const override;

 private:
  void AddVipSetup(plan::Desired& d, const NodeEnv& env) const;
};

// devd(8)'s rule file for vpcctl, in the configuration directory of the prefix the node's vpcctl
// is installed under (`vpcctl` is its path): /usr/local/etc/devd/vpcctl.conf for the port (devd
// reads /etc/devd and /usr/local/etc/devd), /etc/devd for a prefix of /usr.
std::string DevdConfPath(std::string_view vpcctl);
// The pf anchor vpcctl loads its rules into; pf.conf must call it: anchor "vpcctl".
inline constexpr const char* kPfAnchor = "vpcctl";

// CARP under the lease: the command vipd runs to make its CARP vhid on `bridge` MASTER (this node
// holds the lease: CARP announces the address at once, with an advert and a gratuitous ARP or an
// unsolicited neighbour advertisement, then advertises with plan::kCarpHolderSkew) or BACKUP (it
// does not: it stops advertising and answering for the address, and takes plan::kCarpBackupSkew
// again). The address, secret and advbase stay as apply set them. FreeBSD 13, 14 and 15 alike.
Argv CarpStateCommand(const std::string& bridge, int vhid, bool master);

// vipd runs under daemon(8), which restarts it a second after it dies (and vipd makes every CARP
// vhid of its VIPs BACKUP first thing): `daemon -f -r -S -T vpcctl-vipd -P SUPERVISOR -p PIDFILE
// VIPD...`. PIDFILE is vipd's own: apply verifies it (program, marks) and sends vipd SIGHUP there,
// as daemon(8) passes no SIGHUP on. SUPERVISOR (<state dir>/vipd-daemon.pid) is daemon(8)'s, whose
// command line setproctitle(3) replaces, so it cannot be verified the same way. daemon(8) answers
// a SIGTERM by passing it to vipd and restarting nothing; a SIGTERM to vipd alone is followed by a
// restart, so vipd stopping for good sends SIGTERM to its parent when that is the pid in SUPERVISOR.
std::string VipdSupervisorPidfile(std::string_view state_dir);
Argv SupervisedVipd(const Argv& vipd, const std::string& pidfile, std::string_view state_dir);

// The devd rule for the bridges that carry the node's CARP addresses (the VPCs it is a candidate
// in): every CARP state change, including the ones CARP makes by itself (a BACKUP that hears no
// advert for three intervals becomes MASTER), goes to `vpcctl vip-event carp VHID@BRIDGE STATE`,
// which hands it to vipd so that it puts CARP back where the lease says at once. Empty when the
// node carries no CARP address.
std::string RenderDevdConf(const plan::Desired& d, const NodeEnv& env);

// The rules of the pf anchor "vpcctl" (for `pfctl -a vpcctl -f`): only blocks, so that pf.conf's
// own rules keep deciding everything else. VXLAN to each local tunnel socket only from the
// member underlay addresses (plain) or through WireGuard from the peers' transport addresses
// (encrypted), WireGuard only from the fabric's nodes, CARP claiming a VPC's addresses only on its
// bridge; when the node runs vipd, the lease port (model::kVipdPort) to a VPC's addresses only on
// its bridge and to any other address only from the fabric's nodes (a witness speaks from its
// underlay). Empty when the node has no VPC and is no witness.
std::string RenderPfAnchor(const plan::Desired& d);

// Clone unit of the WireGuard interface before it is renamed to wg-vpcctl.
inline constexpr uint32_t kFreeBsdWgUnit = 10000;

// Clone unit of a VPC's bridge before it is renamed to the VPC name: 10000 + VPC id, away from the
// bridge0, bridge1, ... that people and other tools create.
uint32_t FreeBsdBridgeUnit(uint32_t vpc_id);

// Parses `ifconfig -a` text (FreeBSD 13-15 formats).
Result<plan::Observed> ParseIfconfig(std::string_view text);

// rc.conf lines that recreate the node's VPC interfaces (and CARP VIPs, as BACKUP with
// plan::kCarpBackupSkew) at boot, for `vpcctl render rc.conf`. VIP secrets are written only with
// `show_secrets`.
std::string RenderRcConf(const plan::Desired& desired, bool show_secrets = false);

}  // namespace vpcctl::platform
