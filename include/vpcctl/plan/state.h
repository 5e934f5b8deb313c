// Desired and observed interface state of one node. Both are plain values: the desired state is
// computed from the fabric (pure), the observed state is parsed from probe output by a platform
// driver (pure); plan/diff.h turns the pair into steps.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/model/attachment.h"
#include "vpcctl/model/fabric.h"
#include "vpcctl/net/ip.h"

namespace vpcctl::plan {

// Interfaces vpcctl creates carry this marker (FreeBSD description, Linux ifalias) followed by
// the VPC name: "vpcctl:vpc1".
inline constexpr std::string_view kOwnerPrefix = "vpcctl:";
// The owner of the WireGuard interface, which serves every encrypted VPC of the node: a name no
// VPC can have.
inline constexpr std::string_view kWgOwner = "wg-transport";
std::string OwnerTag(std::string_view vpc);
// The VPC named by an owner tag, or empty when the tag is not ours.
std::string_view OwnerVpc(std::string_view tag);

struct DesiredTunnel {
  std::string ifname;  // vx<VNI>
  uint32_t vni = 0;
  net::IpAddress local;   // underlay address (plain) or transport address (encrypted)
  net::IpAddress remote;
  int port = model::kDefaultVxlanPort;
  std::string peer;  // the node at the other end
  bool encrypted = false;  // runs inside WireGuard, between transport addresses
};

// Another node of a VIP's lease group, as vipd on this node sees it.
struct VipPeer {
  std::string node;
  // Where it is reached (first) and the sources its messages may come from: its overlay address
  // on the VPC's bridge; for a witness outside the VPC, or seen from one, underlay addresses.
  std::vector<net::IpAddress> addresses;
  bool acceptor = true;  // grants leases (every member, and the witness)
  int rank = -1;         // candidate rank; -1: not a candidate
};
// A VIP this node takes part in: as a candidate (rank >= 0), or only as an acceptor (a member that
// is not a candidate, or the witness).
struct DesiredVip {
  net::IpAddress address;
  int vhid = 0;
  int rank = 0;  // 0 = preferred holder; -1: acceptor only
  int advert_ms = 0;
  bool preempt = true;
  std::string secret;
  std::vector<net::IpAddress> peers;  // overlay addresses of the other candidates
  int lease_ms = model::kDefaultLeaseMs;
  std::string check;  // service check (candidates only); empty: none
  bool unsafe_two_node = false;
  net::IpAddress local;          // where this node's vipd speaks for this VIP
  std::vector<VipPeer> group;    // every other node of the lease group (candidates, acceptors)
  size_t acceptors = 0;          // how many acceptors the group has, this node included if one
};
// A peer's overlay address pinned to its bridge's MAC (a permanent neighbour entry on the bridge):
// node-to-node traffic never asks ARP/ND, whose broadcasts the mesh copies into every tunnel.
struct DesiredNeighbour {
  net::IpAddress address;
  net::MacAddress mac;
  std::string node;
};

// The MAC vpcctl gives a node's bridge in a VPC: locally administered, from the VPC id and the
// node's overlay address, so every member knows every other's without asking.
net::MacAddress OverlayMac(uint32_t vpc_id, const net::IpAddress& overlay);

struct DesiredVpc {
  std::string vpc;     // VPC name = bridge name
  uint32_t vpc_id = 0;
  int mtu = 0;
  net::IfAddress address;  // this node's overlay address, on the bridge
  std::vector<DesiredTunnel> tunnels;
  std::vector<net::IpAddress> keep_addresses;  // addresses others manage on the bridge (VIPs)
  std::vector<DesiredVip> vips;                // VIPs of the VPC (candidate or acceptor)
  size_t members = 0;                          // for the majority rule of VIP health
  bool encrypted = false;
  net::MacAddress mac;                         // the bridge's (OverlayMac)
  std::vector<DesiredNeighbour> neighbours;    // every other member, pinned (see pin_neighbours)
};

// A file vpcctl maintains (daemon configurations), and what to run when it changes.
struct DesiredFile {
  std::string path;
  std::string content;
  unsigned mode = 0600;
  std::vector<std::string> on_change;  // argv run after rewriting it; empty: nothing
  std::vector<std::string> secrets;    // what its content holds that Redacted() hides
};

// A daemon vpcctl keeps running (keepalived and FreeBSD's VIP watcher while the node has VIPs;
// wireguard-go on Linux without kernel WireGuard).
struct DesiredDaemon {
  std::string name;
  std::string pidfile;
  std::string config;                  // its configuration file (reload when it changes)
  std::vector<std::string> start;      // argv that starts it in the background
  std::vector<std::string> stale;      // files to clear before starting it (dead pid files)
  bool reload_on_hup = true;           // else a changed config restarts it
  // A daemon that stays in the foreground: vpcctl detaches it, writes its pid file and sends its
  // output to `log`, then waits (a few seconds at most) until it accepts connections on the unix
  // socket `ready`.
  bool detach = false;
  std::string log;
  std::string ready;
  // Once it is ready: an interface of the daemon whose received packets the kernel processes on
  // all CPUs (receive packet steering), not in the thread that wrote them (wireguard-go's tun).
  std::string spread_interface;
  // What the pid in `pidfile` must run to count as this daemon (a pid is reused after a restart
  // or a reboot): the file name of its executable and arguments its command line holds.
  std::string program;
  std::vector<std::string> marks;
  std::string unwanted = "no VIP left";  // why it is stopped when `start` is empty
};

// A WireGuard peer of this node: a node it shares an encrypted VPC with.
struct DesiredWgPeer {
  std::string node;
  std::string public_key;    // empty until the peer has reported one (then not configured yet)
  net::IpAddress endpoint;   // its underlay address in the pair's family
  int port = model::kDefaultWgPort;
  net::IpAddress transport;  // the only address it may send from inside the tunnel
};

// The node's WireGuard interface, when it is a member of an encrypted VPC.
struct DesiredWireguard {
  std::string ifname{model::kWgInterface};
  int port = model::kDefaultWgPort;
  int mtu = 0;
  net::IfAddress address;   // transport address, with the transport network's prefix
  std::string key_file;     // the private key: made on this node, never leaves it
  std::string public_key;   // of key_file; empty when the node has none yet
  std::vector<DesiredWgPeer> peers;
};

// The underlay firewall vpcctl owns (nftables table, pf anchor). Empty rules: none wanted.
struct DesiredFirewall {
  std::string rules;         // the ruleset in the platform's own syntax
  std::string rules_path;    // where the loaded rules are kept (loaded from there)
  std::string listing_path;  // what the kernel listed right after loading them
  std::string tool;          // the program that loads it ("nft", "pfctl")
  std::string package;       // what provides it, for the message when it is missing
};

// A guest recorded on this node, on a VPC the node still has.
struct DesiredAttachment {
  model::Attachment record;
  int mtu = 0;
};

struct Desired {
  std::string node;
  model::Platform platform = model::Platform::kLinux;
  std::vector<DesiredVpc> vpcs;
  std::vector<DesiredFile> files;
  std::vector<DesiredDaemon> daemons;
  bool kernel_vips = false;  // VIPs are interface addresses the diff manages (FreeBSD CARP)
  bool pin_neighbours = false;  // peers' overlay addresses are pinned (Linux; FreeBSD asks ARP/ND)
  std::optional<DesiredWireguard> wireguard;   // set when the node is in an encrypted VPC
  DesiredDaemon wireguard_go;  // WireGuard in userspace, where the kernel has none (Linux)
  DesiredFirewall firewall;
  std::vector<net::IpAddress> fabric_underlays;  // every node's: the only WireGuard senders
  int wg_port = model::kDefaultWgPort;
  // VIPs of VPCs this node is not a member of, for which it is the witness (an acceptor only).
  struct WitnessVip {
    std::string vpc;
    DesiredVip vip;
  };
  std::vector<WitnessVip> witness_vips;
  std::vector<DesiredAttachment> attachments;
  // Records of guests on VPCs this node no longer has (their interfaces go, then the records).
  std::vector<model::Attachment> orphans;
};

// The node's part of the fabric: every VPC it is a member of (or just `only_vpc`).
Result<Desired> DesiredFor(const model::Fabric& fabric, std::string_view node,
                           std::string_view only_vpc = {});

enum class IfKind { kOther, kVxlan, kBridge, kWireguard };

struct ObservedVip {
  net::IpAddress address;
  int vhid = 0;
  int advbase = 0;   // seconds (CARP)
  int advskew = -1;
  std::string state;  // MASTER / BACKUP / INIT, when the platform reports it
  bool operator==(const ObservedVip&) const = default;
};

struct ObservedInterface {
  std::string name;
  int ifindex = 0;
  IfKind kind = IfKind::kOther;
  int mtu = 0;
  bool up = false;
  std::string owner;  // ifalias / description
  // vxlan
  std::optional<uint32_t> vni;
  std::optional<net::IpAddress> local;
  std::optional<net::IpAddress> remote;
  int port = 0;
  std::optional<bool> learning;  // unknown when the probe does not say
  bool userspace = false;        // a WireGuard interface that is wireguard-go's tun
  // bridge membership of this interface
  std::string master;
  bool isolated = false;  // Linux isolated / FreeBSD private
  std::vector<net::IfAddress> addresses;
  std::vector<ObservedVip> vips;  // CARP addresses (FreeBSD)
  std::optional<net::MacAddress> mac;  // unknown when the probe does not say
  bool operator==(const ObservedInterface&) const = default;
};

// A permanent neighbour entry (ip neigh ... nud permanent).
struct ObservedNeighbour {
  std::string dev;
  net::IpAddress address;
  std::optional<net::MacAddress> mac;
  bool operator==(const ObservedNeighbour&) const = default;
};

// A peer as `wg show IFACE dump` lists it.
struct ObservedWgPeer {
  std::string public_key;
  std::optional<net::IpAddress> endpoint;
  int endpoint_port = 0;
  std::vector<std::string> allowed_ips;  // as printed: "10.255.0.2/32"
  int64_t latest_handshake = 0;          // UNIX seconds; 0: never
  int keepalive = 0;                     // seconds; 0: off
};

// The WireGuard interface's configuration (never its private key).
struct ObservedWireguard {
  std::string public_key;
  int port = 0;
  std::vector<ObservedWgPeer> peers;
  const ObservedWgPeer* Find(std::string_view key) const;
};

struct Observed {
  std::vector<ObservedInterface> interfaces;
  std::optional<ObservedWireguard> wireguard;  // from wg(8), when the interface exists
  // Linux: whether the kernel has WireGuard; unknown (not probed) counts as yes.
  std::optional<bool> wireguard_kernel;
  // Programs found on the node (wg, wireguard-go, nft, pfctl); not probed: all assumed present.
  std::optional<std::set<std::string>> tools;
  std::optional<std::string> firewall;         // vpcctl's live ruleset listing; none: absent
  std::map<std::string, std::string> files;  // path -> content, for the desired files that exist
  std::map<std::string, bool> daemons;       // name -> running
  std::set<std::string> netns;               // Linux network namespaces that exist
  // Permanent neighbour entries; unset when not probed (then only new bridges get pins).
  std::optional<std::vector<ObservedNeighbour>> neighbours;
  const ObservedInterface* Find(std::string_view name) const;
  ObservedInterface* Find(std::string_view name);
};

}  // namespace vpcctl::plan
