// Reconcile as a diff: the steps that take a node from what it has to what its map wants.
// Pure. Steps are platform-neutral; a platform driver renders each one to argv lists.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/plan/state.h"

namespace vpcctl::plan {

enum class Action {
  kDestroy,        // remove an owned interface that is no longer wanted (or wrong)
  kCreateTunnel,   // vxlan to one peer, with MTU and owner tag
  kCreateBridge,   // the VPC bridge, with MTU and owner tag
  kSetOwner,       // adopt an interface identical to the one we would create
  kSetMtu,
  kAddMember,      // put a tunnel on the bridge, isolated (FreeBSD: private)
  kSetIsolated,
  kAddAddress,     // overlay address on the bridge
  kRemoveAddress,
  kUp,
  kAddVip,        // a kernel VIP (FreeBSD CARP) on the bridge
  kRemoveVip,
  kWriteFile,     // a daemon configuration; then its on_change command
  kRemoveFile,
  kStartDaemon,
  kReloadDaemon,  // SIGHUP (or a restart when the daemon cannot reload)
  kStopDaemon,
  kAttachGuest,   // create a guest's interfaces and put the host side on the bridge
  kDetachGuest,   // destroy a guest's host-side interface
  kRejoinGuest,   // put an existing guest interface back on its bridge
  kCreateWireguard,  // the WireGuard interface (kernel), with MTU and owner tag
  kSetWireguard,     // its private key file and listen port (then a handshake with every peer)
  kSetWgPeer,        // add or correct one peer: endpoint, allowed address, keepalive
  kRemoveWgPeer,
  kLoadFirewall,     // replace vpcctl's underlay firewall atomically
  kRemoveFirewall,
  kSetMac,           // the bridge's MAC (OverlayMac), which every peer pins
  kPinNeighbour,     // a peer's overlay address as a permanent neighbour entry on the bridge
  kUnpinNeighbour,
};
std::string_view ActionName(Action a);

struct Step {
  Action action = Action::kUp;
  std::string vpc;      // the VPC the step belongs to
  std::string ifname;   // the interface acted on (member for kAddMember / kSetIsolated)
  std::string bridge;   // kAddMember, kSetIsolated: the bridge; kAddMember: see from_bridge
  std::string from_bridge;  // kAddMember: the bridge it leaves, when it was elsewhere
  DesiredTunnel tunnel;     // kCreateTunnel
  int mtu = 0;              // kCreateTunnel, kCreateBridge, kSetMtu
  uint32_t vpc_id = 0;      // kCreateBridge (FreeBSD derives the clone unit from it)
  net::IfAddress address;   // kAddAddress, kRemoveAddress, kRemoveVip
  DesiredVip vip;           // kAddVip
  DesiredFile file;         // kWriteFile, kRemoveFile
  DesiredDaemon daemon;     // daemon actions
  model::Attachment guest;  // guest actions
  bool drop_record = false;  // kDetachGuest: the record goes too (its VPC left the node)
  DesiredWireguard wireguard;  // kCreateWireguard, kSetWireguard
  DesiredWgPeer wg_peer;       // kSetWgPeer, kRemoveWgPeer (public_key only)
  // kSetWireguard: peers to send a keepalive to at once, so that a new key is in use within an
  // RTT instead of after WireGuard's 5 s handshake retry.
  std::vector<std::string> poke;
  DesiredFirewall firewall;  // kLoadFirewall, kRemoveFirewall
  net::MacAddress mac;       // kSetMac, kPinNeighbour
  std::string peer;          // kPinNeighbour: the member whose address it is
  std::string reason;       // why the step is needed ("missing", "mtu 1500, want 1450")
};

// CARP under the lease (FreeBSD). Every candidate's vhid is added with kCarpBackupSkew, CARP's
// largest effective skew (CARP_MAXSKEW: no demotion counter makes a node worse), so that CARP
// prefers no node by itself; vipd sets kCarpHolderSkew with `state master` on the node that holds
// the lease, so a node whose CARP went MASTER on its own yields to the holder's first advert, and
// kCarpBackupSkew again with `state backup` when it loses the lease. Both are vpcctl's.
inline constexpr int kCarpBackupSkew = 240;
inline constexpr int kCarpHolderSkew = 0;
// The same steps with VIP secrets replaced by "(redacted)", for display.
std::vector<Step> Redacted(std::vector<Step> steps);

// One line for humans: "create tunnel vx101 to h2 (vni 101, 192.0.2.1 -> 192.0.2.2:4789)".
std::string Describe(const Step& s);

// The steps, in dependency order: removals, firewall, WireGuard, tunnels, bridges, members,
// addresses, up, pinned neighbours, VIPs, daemon files, daemons, guests.
// Refuses (listing every one) interfaces in the way that vpcctl does not own.
Result<std::vector<Step>> Diff(const Desired& desired, const Observed& observed);

}  // namespace vpcctl::plan
