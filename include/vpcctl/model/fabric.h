// The fabric: nodes, VPCs, their members and tunnels. This is what the store holds, what
// `map export` serialises, and what the planner reads. Plain values, no behaviour beyond lookups.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/net/ip.h"

namespace vpcctl::model {

enum class Platform { kLinux, kFreeBSD };
std::string_view PlatformName(Platform p);  // "linux" / "freebsd"
// Where vpcctl keeps its state on a platform unless told otherwise: /var/lib/vpcctl on Linux,
// /var/db/vpcctl on FreeBSD.
std::string_view DefaultStateDir(Platform p);
Result<Platform> ParsePlatform(std::string_view text);
// The platform of a system as `uname -s` names it ("Linux", "FreeBSD"); none for any other.
std::optional<Platform> PlatformOfSystem(std::string_view uname_s);

// How a VPC picks the underlay family of each pair: per pair (IPv6 when both ends have one), or
// forced.
enum class FamilyPref { kAuto, kV4, kV6 };
std::string_view FamilyPrefName(FamilyPref f);  // "auto" / "ipv4" / "ipv6"
Result<FamilyPref> ParseFamilyPref(std::string_view text);

inline constexpr int kDefaultVxlanPort = 4789;
inline constexpr uint32_t kMaxVni = 16777215;
// FreeBSD creates a tunnel as the clone vxlan<VNI> and renames it; clone units stop at 32767.
inline constexpr uint32_t kFreeBsdMaxVni = 32767;
inline constexpr uint32_t kDefaultVniLo = 100;
inline constexpr uint32_t kDefaultVniHi = kMaxVni;

// Encrypted VPCs run their tunnels inside WireGuard: one WireGuard interface per node, whose
// peers are the nodes it shares an encrypted VPC with, each holding a transport address from the
// fabric's transport network. VXLAN runs between transport addresses.
inline constexpr int kDefaultWgPort = 51820;
inline constexpr std::string_view kDefaultTransportNetwork = "10.255.0.0/16";
// The WireGuard interface: a name no VPC (hence no bridge) can have.
inline constexpr std::string_view kWgInterface = "wg-vpcctl";
// Seconds between keepalives to each WireGuard peer (also what makes a new peer handshake at once).
inline constexpr int kWgKeepalive = 25;

// The most kept of the version text a node's vpcctl prints.
inline constexpr size_t kMaxVersionText = 128;

struct Node {
  std::string name;
  std::string ssh_host;  // IP address or DNS name that SSH reaches
  int ssh_port = 22;
  std::string ssh_user = "root";
  std::optional<net::IpAddress> underlay4;
  std::optional<net::IpAddress> underlay6;
  // Behind 1:1 NAT the underlay address is the node's public one, on no interface of its own;
  // the local address is the one it has, where its tunnels start (peers send to the public one).
  // Unset: the node has its underlay address (or apply finds the local one itself).
  std::optional<net::IpAddress> local4;
  std::optional<net::IpAddress> local6;
  Platform platform = Platform::kLinux;
  int mtu = 1500;  // underlay MTU
  bool is_local = false;
  bool use_sudo = false;       // remote commands go through `sudo -n`
  std::string remote_vpcctl;   // path of vpcctl on the node; empty: found on PATH
  std::string host_key;        // pinned host key, "ssh-ed25519 AAAA..."; empty until enrolled
  std::string remote_version;  // vpcctl version last seen on the node (printable, bounded)
  std::string last_check;      // ISO 8601 time and outcome of the last `node check`
  std::optional<net::IpAddress> transport;  // address inside WireGuard, from the transport network
  std::string wg_public_key;   // the node's WireGuard public key as it last reported it

  const std::optional<net::IpAddress>& Underlay(net::Family f) const {
    return f == net::Family::kV4 ? underlay4 : underlay6;
  }
  // Where the node's tunnels start in family f: its local address behind NAT, else its underlay.
  const std::optional<net::IpAddress>& Local(net::Family f) const {
    const auto& l = f == net::Family::kV4 ? local4 : local6;
    return l ? l : Underlay(f);
  }
  bool BehindNat() const { return local4 || local6; }
};

struct Member {
  std::string node;
  net::IpAddress overlay;  // the node's address in the VPC, placed on the VPC bridge
};

// One per unordered pair of members; a < b by name.
struct Tunnel {
  std::string a;
  std::string b;
  uint32_t vni = 0;
  net::Family family = net::Family::kV4;  // underlay family of the pair

  std::string InterfaceName() const { return "vx" + std::to_string(vni); }
  bool Has(std::string_view node) const { return a == node || b == node; }
  const std::string& Peer(std::string_view node) const { return a == node ? b : a; }
};

// A virtual IP on a VPC's bridge, held by one node of its group at a time: the one holding an
// unexpired majority lease (see vipd/lease.h).
inline constexpr int kDefaultAdvertMs = 100;
inline constexpr size_t kMaxVipNodes = 16;
inline constexpr size_t kMaxSecret = 19;  // CARP keeps 19 characters of a passphrase
// Lease bounds. The kernel keeps an address with a lifetime of 1 s for up to 1.3 s after its last
// renewal (lifetimes count whole seconds, checked with 250 ms of rounding), and a holder renews
// the address only while its lease outlasts that, so the lease cannot be shorter than 1.3 s plus a
// lease round (50 ms: a round in one site takes a few; longer rounds want a longer lease).
inline constexpr int kDefaultLeaseMs = 1350;
inline constexpr int kMinLeaseMs = 1350;
inline constexpr int kMaxLeaseMs = 60000;
// A service check: a program and its arguments separated by blanks (no shell), at most this long.
inline constexpr size_t kMaxCheck = 1024;
// The UDP port vipd speaks on (overlay addresses; a witness outside the VPC on its underlay).
inline constexpr int kVipdPort = 4797;
struct Vip {
  net::IpAddress address;
  int vhid = 0;                    // 1-255, unique in the VPC (CARP vhid)
  std::vector<std::string> nodes;  // the candidates, in preference order: first = preferred
  std::string secret;              // HMAC key of vipd's messages (and CARP's passphrase)
  int advert_ms = kDefaultAdvertMs;  // CARP's advertisement interval (FreeBSD)
  bool preempt = true;
  int lease_ms = kDefaultLeaseMs;
  std::string check;               // service check run on each candidate; empty: none
  std::string witness;             // a fabric node outside the VPC that is an extra acceptor
  bool unsafe_two_node = false;    // two acceptors, each may hold alone (split brain possible)
  int Rank(std::string_view node) const;  // position in `nodes`, -1 when absent
};

struct Vpc {
  uint32_t id = 0;  // sticky fabric-wide number, never reused
  std::string name;
  net::Cidr peer_network;
  FamilyPref family = FamilyPref::kAuto;
  int mtu = 0;           // effective MTU of tunnels, bridge and guests
  bool mtu_fixed = false;  // set by --mtu rather than derived
  int port = kDefaultVxlanPort;
  std::optional<int> max_jails;
  std::optional<int> max_vms;
  std::vector<Member> members;  // in joining order
  std::vector<Tunnel> tunnels;  // sorted by VNI
  std::vector<Vip> vips;        // sorted by vhid
  bool encrypted = false;       // tunnels run inside WireGuard (vpc init default; --plain: not)

  const Member* FindMember(std::string_view node) const;
  const Vip* FindVip(int vhid) const;
  bool HasMember(std::string_view node) const { return FindMember(node) != nullptr; }
};

struct VniRange {
  uint32_t lo = kDefaultVniLo;
  uint32_t hi = kDefaultVniHi;
  // "LO-HI", 1 <= LO <= HI <= 16777215.
  static Result<VniRange> Parse(std::string_view text);
  std::string ToString() const { return std::to_string(lo) + "-" + std::to_string(hi); }
};

// The default transport network, 10.255.0.0/16.
net::Cidr DefaultTransportNetwork();

// The network WireGuard carries between nodes, and WireGuard's UDP port on every node.
struct Transport {
  net::Cidr network = DefaultTransportNetwork();
  int port = kDefaultWgPort;
  static Transport Default() { return Transport{}; }
};

struct Fabric {
  uint64_t generation = 0;  // bumped by every change; maps carry it
  VniRange vni_range;
  Transport transport = Transport::Default();
  std::vector<Node> nodes;  // in registration order
  std::vector<Vpc> vpcs;    // in creation order

  const Node* FindNode(std::string_view name) const;
  Node* FindNode(std::string_view name);
  const Vpc* FindVpc(std::string_view name) const;
  Vpc* FindVpc(std::string_view name);
  // True when `node` is a member of an encrypted VPC (it runs the WireGuard interface).
  bool NeedsWireguard(std::string_view node) const;
};

// Bytes WireGuard adds to each packet: 60 over an IPv4 underlay, 80 over IPv6.
int WgOverhead(net::Family underlay);
// Bytes VXLAN adds to each frame: 50 over IPv4, 70 over IPv6.
int VxlanOverhead(net::Family outer);
// The MTU of a node's WireGuard interface: its underlay MTU minus WireGuard's overhead over the
// cheapest family it uses (IPv4 when any of its encrypted pairs runs over IPv4), so that the
// largest VXLAN packet of each of its encrypted VPCs fits.
int WireguardMtu(const Fabric& fabric, const Node& node);

}  // namespace vpcctl::model
