#include "vpcctl/alloc/alloc.h"

#include <algorithm>
#include <limits>
#include <set>

#include "vpcctl/base/text.h"
#include "vpcctl/model/map.h"

namespace vpcctl::alloc {

using model::Fabric;
using model::FamilyPref;
using model::Node;
using model::Platform;
using model::Tunnel;
using model::Vpc;
using net::Family;

Result<Family> PairFamily(const Node& a, const Node& b, FamilyPref pref) {
  auto has = [](const Node& n, Family f) { return n.Underlay(f).has_value(); };
  if (pref == FamilyPref::kAuto) {
    if (has(a, Family::kV6) && has(b, Family::kV6)) return Family::kV6;
    if (has(a, Family::kV4) && has(b, Family::kV4)) return Family::kV4;
    return UsageError("nodes " + Quoted(a.name) + " and " + Quoted(b.name) +
                      " have no underlay address family in common (" + a.name + ": " +
                      (has(a, Family::kV4) ? "ipv4" : "ipv6") + " only, " + b.name + ": " +
                      (has(b, Family::kV4) ? "ipv4" : "ipv6") + " only)");
  }
  Family f = pref == FamilyPref::kV4 ? Family::kV4 : Family::kV6;
  for (const Node* n : {&a, &b}) {
    if (!has(*n, f)) {
      return UsageError("node " + Quoted(n->name) + " has no " + std::string(net::FamilyName(f)) +
                        " underlay address, but the VPC forces --family " +
                        std::string(net::FamilyName(f)));
    }
  }
  return f;
}

namespace {

Family LoneFamily(const Node& n, FamilyPref pref) {
  if (pref == FamilyPref::kV4) return Family::kV4;
  if (pref == FamilyPref::kV6) return Family::kV6;
  return n.underlay6 ? Family::kV6 : Family::kV4;
}

// Hands out the lowest free VNI of the fabric's range, in increasing order.
class VniPool {
 public:
  explicit VniPool(const Fabric& f)
      : next_(f.vni_range.lo), lo_(f.vni_range.lo), hi_(f.vni_range.hi) {
    for (const auto& v : f.vpcs)
      for (const auto& t : v.tunnels) used_.push_back(t.vni);
    std::sort(used_.begin(), used_.end());
  }

  Result<uint32_t> Take(uint32_t max, const std::string& pair) {
    while (idx_ < used_.size() && used_[idx_] < next_) ++idx_;
    while (idx_ < used_.size() && used_[idx_] == next_) {
      ++next_;
      ++idx_;
    }
    uint32_t limit = std::min(max, hi_);
    if (next_ > limit) {
      std::string why = "the VNI range " + std::to_string(lo_) + "-" + std::to_string(hi_) +
                        " is exhausted";
      if (max < hi_) {
        why += " below " + std::to_string(max + 1) +
               " (a tunnel with a FreeBSD end needs a VNI of at most 32767)";
      }
      return Failure("cannot allocate a VNI for tunnel " + pair + ": " + why +
                     "; widen it with `vpcctl init --vni-range` or remove unused VPCs");
    }
    return next_++;
  }

 private:
  std::vector<uint32_t> used_;
  size_t idx_ = 0;
  uint32_t next_;
  uint32_t lo_;
  uint32_t hi_;
};

Status CheckPeerNetworkFits(const Vpc& vpc, size_t members) {
  uint64_t usable = vpc.peer_network.UsableHosts();
  if (usable < members) {
    return UsageError("peer network " + vpc.peer_network.ToString() + " of VPC " +
                      Quoted(vpc.name) + " has " + std::to_string(usable) +
                      " usable addresses, but it needs one per member (" + std::to_string(members) +
                      ")");
  }
  return {};
}

Result<net::IpAddress> TakeOverlay(const Vpc& vpc) {
  std::set<net::IpAddress> used;
  for (const auto& m : vpc.members) used.insert(m.overlay);
  for (const auto& v : vpc.vips) used.insert(v.address);  // a VIP in the peer network is reserved
  uint64_t usable = vpc.peer_network.UsableHosts();
  for (uint64_t n = 0; n < usable && n <= used.size(); ++n) {
    net::IpAddress a = vpc.peer_network.Host(n);
    if (!used.count(a)) return a;
  }
  return Failure("peer network " + vpc.peer_network.ToString() + " of VPC " + Quoted(vpc.name) +
                 " is exhausted: " + std::to_string(usable) + " usable addresses, " +
                 std::to_string(used.size()) + " in use");
}

// An encrypted pair has one WireGuard endpoint family, whatever VPCs it is in: the family of its
// encrypted tunnels elsewhere, if any.
std::optional<Family> WgFamilyElsewhere(const Fabric& fabric, const Vpc& vpc, const std::string& a,
                                        const std::string& b) {
  for (const auto& other : fabric.vpcs) {
    if (!other.encrypted || other.name == vpc.name) continue;
    for (const auto& t : other.tunnels)
      if (t.Has(a) && t.Has(b)) return t.family;
  }
  return std::nullopt;
}

// Adds `node` to `vpc` (a copy owned by the caller), allocating from `pool`.
Status AddMemberTo(const Fabric& fabric, Vpc& vpc, const std::string& node, VniPool& pool) {
  const Node* n = fabric.FindNode(node);
  if (!n) {
    return UsageError("unknown node " + Quoted(node) + " (see `vpcctl node list`)");
  }
  if (vpc.HasMember(node)) {
    return UsageError("node " + Quoted(node) + " is already a member of VPC " + Quoted(vpc.name));
  }
  for (const auto& v : vpc.vips) {
    if (v.witness == node) {
      return UsageError("node " + Quoted(node) + " is the witness of VIP " + v.address.ToString() +
                        " (vhid " + std::to_string(v.vhid) + ") of " + vpc.name +
                        ", and a witness is outside the VPC; change that first (`vpcctl vip set " +
                        vpc.name + " " + std::to_string(v.vhid) + " --witness OTHER` or " +
                        "--no-witness)");
    }
  }
  VPC_TRY(CheckPeerNetworkFits(vpc, vpc.members.size() + 1));
  std::vector<Tunnel> fresh;
  for (const auto& m : vpc.members) {
    const Node* other = fabric.FindNode(m.node);
    VPC_ASSIGN_OR_RETURN(Family f, PairFamily(*n, *other, vpc.family));
    if (vpc.encrypted) {
      auto elsewhere = WgFamilyElsewhere(fabric, vpc, node, m.node);
      if (elsewhere && *elsewhere != f) {
        return UsageError("nodes " + Quoted(node) + " and " + Quoted(m.node) + " already run " +
                          "WireGuard over " + std::string(net::FamilyName(*elsewhere)) +
                          " for another encrypted VPC; VPC " + Quoted(vpc.name) + " would need " +
                          std::string(net::FamilyName(f)) + " (choose --family " +
                          std::string(net::FamilyName(*elsewhere)) + ")");
      }
    }
    Tunnel t;
    t.a = std::min(node, m.node);
    t.b = std::max(node, m.node);
    t.family = f;
    bool freebsd = n->platform == Platform::kFreeBSD || other->platform == Platform::kFreeBSD;
    VPC_ASSIGN_OR_RETURN(t.vni, pool.Take(freebsd ? model::kFreeBsdMaxVni : model::kMaxVni,
                                          t.a + "-" + t.b + " in VPC " + vpc.name));
    fresh.push_back(std::move(t));
  }
  VPC_ASSIGN_OR_RETURN(net::IpAddress overlay, TakeOverlay(vpc));
  vpc.members.push_back(model::Member{node, overlay});
  // Both runs are sorted by VNI (the pool hands VNIs out in increasing order): merge, don't sort.
  size_t old_size = vpc.tunnels.size();
  vpc.tunnels.insert(vpc.tunnels.end(), fresh.begin(), fresh.end());
  std::inplace_merge(vpc.tunnels.begin(), vpc.tunnels.begin() + static_cast<long>(old_size),
                     vpc.tunnels.end(),
                     [](const Tunnel& x, const Tunnel& y) { return x.vni < y.vni; });
  return {};
}

// Gives every member of an encrypted VPC that has none a transport address (sticky).
Status AssignTransports(Fabric& fabric, const Vpc& vpc) {
  if (!vpc.encrypted) return {};
  for (const auto& m : vpc.members) {
    const Node* n = fabric.FindNode(m.node);
    if (n && !n->transport) VPC_TRY(AssignTransport(fabric, m.node));
  }
  return {};
}

Status UpdateMtu(const Fabric& fabric, Vpc& vpc) {
  if (!vpc.mtu_fixed) vpc.mtu = DerivedMtu(fabric, vpc);
  return CheckMtu(vpc.mtu, vpc.peer_network.family(), "VPC " + Quoted(vpc.name));
}

}  // namespace

int Overhead(const Fabric& fabric, const Vpc& vpc, Family pair) {
  if (!vpc.encrypted) return model::VxlanOverhead(pair);
  return model::WgOverhead(pair) + model::VxlanOverhead(fabric.transport.network.family());
}

int DerivedMtu(const Fabric& fabric, const Vpc& vpc) {
  int mtu = std::numeric_limits<int>::max();
  for (const auto& t : vpc.tunnels) {
    const Node* a = fabric.FindNode(t.a);
    const Node* b = fabric.FindNode(t.b);
    if (!a || !b) continue;
    mtu = std::min(mtu, std::min(a->mtu, b->mtu) - Overhead(fabric, vpc, t.family));
  }
  if (mtu == std::numeric_limits<int>::max()) {
    for (const auto& m : vpc.members) {
      const Node* n = fabric.FindNode(m.node);
      if (n) mtu = std::min(mtu, n->mtu - Overhead(fabric, vpc, LoneFamily(*n, vpc.family)));
    }
  }
  if (mtu == std::numeric_limits<int>::max()) mtu = 1500 - Overhead(fabric, vpc, Family::kV6);
  return mtu;
}

Status AssignTransport(Fabric& fabric, const std::string& node) {
  Node* n = fabric.FindNode(node);
  if (!n) return UsageError("unknown node " + Quoted(node));
  if (n->transport) return {};
  const net::Cidr& net = fabric.transport.network;
  std::set<net::IpAddress> used;
  for (const auto& other : fabric.nodes)
    if (other.transport) used.insert(*other.transport);
  uint64_t usable = net.UsableHosts();
  for (uint64_t i = 0; i < usable && i <= used.size(); ++i) {
    net::IpAddress a = net.Host(i);
    if (!used.count(a)) {
      n->transport = a;
      return {};
    }
  }
  return Failure("the transport network " + net.ToString() + " is exhausted: " +
                 std::to_string(usable) + " usable addresses, " + std::to_string(used.size()) +
                 " in use (a fabric's transport network is set by `vpcctl init "
                 "--transport-network`)");
}

Status CheckMtu(int mtu, Family peer_family, const std::string& context) {
  int lo = peer_family == Family::kV6 ? 1280 : 576;
  if (mtu < lo || mtu > 9216) {
    return UsageError("invalid MTU " + std::to_string(mtu) + " for " + context + ": must be " +
                      std::to_string(lo) + "-9216 for an " +
                      std::string(net::FamilyName(peer_family)) + " peer network");
  }
  return {};
}

namespace {

// A VPC's VXLAN port (1-65535, not the fabric's WireGuard port when encrypted) and quotas (>= 0).
Status CheckPortAndQuotas(const Fabric& fabric, const Vpc& vpc) {
  if (vpc.port < 1 || vpc.port > 65535) {
    return UsageError("invalid port " + std::to_string(vpc.port) + ": must be 1-65535");
  }
  for (const auto& q : {vpc.max_jails, vpc.max_vms}) {
    if (q && *q < 0) return UsageError("invalid quota " + std::to_string(*q) + ": must be >= 0");
  }
  if (vpc.encrypted && vpc.port == fabric.transport.port) {
    return UsageError("port " + std::to_string(vpc.port) + " is the fabric's WireGuard port; " +
                      "give the VPC another --port");
  }
  return {};
}

}  // namespace

Status CreateVpc(Fabric& fabric, const VpcSpec& spec, uint32_t next_vpc_id) {
  if (fabric.FindVpc(spec.name)) {
    return UsageError("VPC " + Quoted(spec.name) + " already exists");
  }
  Vpc vpc;
  vpc.id = next_vpc_id;
  vpc.name = spec.name;
  vpc.encrypted = spec.encrypted;
  vpc.peer_network = spec.peer_network;
  vpc.family = spec.family;
  vpc.port = spec.port;
  vpc.max_jails = spec.max_jails;
  vpc.max_vms = spec.max_vms;
  VPC_TRY(CheckPortAndQuotas(fabric, vpc));
  if (spec.members.empty()) return UsageError("a VPC needs at least one member");
  if (spec.mtu) {
    vpc.mtu = *spec.mtu;
    vpc.mtu_fixed = true;
    VPC_TRY(CheckMtu(vpc.mtu, vpc.peer_network.family(), "VPC " + Quoted(vpc.name)));
  }
  VPC_TRY(CheckPeerNetworkFits(vpc, spec.members.size()));
  VniPool pool(fabric);
  for (const auto& m : spec.members) VPC_TRY(AddMemberTo(fabric, vpc, m, pool));
  Fabric next = fabric;
  VPC_TRY(AssignTransports(next, vpc));
  VPC_TRY(UpdateMtu(next, vpc));
  next.vpcs.push_back(std::move(vpc));
  fabric = std::move(next);
  return {};
}

Status AddMember(Fabric& fabric, const std::string& vpc_name, const std::string& node) {
  Vpc* vpc = fabric.FindVpc(vpc_name);
  if (!vpc) return UsageError("unknown VPC " + Quoted(vpc_name) + " (see `vpcctl vpc list`)");
  Vpc copy = *vpc;
  VniPool pool(fabric);
  VPC_TRY(AddMemberTo(fabric, copy, node, pool));
  // Every witness of the VPC's VIPs must reach the new member too. A third acceptor makes a
  // two-member VIP partition-safe: unsafe_two_node no longer applies.
  for (auto& v : copy.vips) {
    if (model::VipAcceptors(copy, v) > 2) v.unsafe_two_node = false;
    if (v.witness.empty()) continue;
    if (auto st = model::ValidateWitness(fabric, copy, v.witness); !st.ok()) {
      return UsageError("cannot add " + Quoted(node) + " to " + vpc_name + ": VIP " +
                        v.address.ToString() + ": " + st.error().message);
    }
  }
  Fabric next = fabric;
  VPC_TRY(AssignTransports(next, copy));
  VPC_TRY(UpdateMtu(next, copy));
  *next.FindVpc(vpc_name) = std::move(copy);
  fabric = std::move(next);
  return {};
}

Status RemoveMember(Fabric& fabric, const std::string& vpc_name, const std::string& node) {
  Vpc* vpc = fabric.FindVpc(vpc_name);
  if (!vpc) return UsageError("unknown VPC " + Quoted(vpc_name) + " (see `vpcctl vpc list`)");
  if (!vpc->HasMember(node)) {
    return UsageError("node " + Quoted(node) + " is not a member of VPC " + Quoted(vpc_name));
  }
  for (const auto& v : vpc->vips) {
    if (v.Rank(node) >= 0) {
      return UsageError("node " + Quoted(node) + " is in the group of VIP " + v.address.ToString() +
                        " (vhid " + std::to_string(v.vhid) + "); remove it from the VIP first");
    }
  }
  // The lease of each VIP must stay partition-safe (or be marked unsafe) with one acceptor less.
  for (const auto& v : vpc->vips) {
    size_t acceptors = vpc->members.size() - 1 + (v.witness.empty() ? 0 : 1);
    if (acceptors == 2 && !v.unsafe_two_node) {
      return UsageError("removing " + Quoted(node) + " would leave VIP " + v.address.ToString() +
                        " (vhid " + std::to_string(v.vhid) + ") with two acceptors only; give it " +
                        "a witness first (`vpcctl vip set " + vpc_name + " " +
                        std::to_string(v.vhid) + " --witness NODE`) or --unsafe-two-node");
    }
  }
  Vpc copy = *vpc;
  std::erase_if(copy.members, [&](const model::Member& m) { return m.node == node; });
  std::erase_if(copy.tunnels, [&](const Tunnel& t) { return t.Has(node); });
  VPC_TRY(UpdateMtu(fabric, copy));
  *vpc = std::move(copy);
  return {};
}

Status SetVpc(Fabric& fabric, const std::string& vpc_name, const VpcChange& change) {
  Vpc* vpc = fabric.FindVpc(vpc_name);
  if (!vpc) return UsageError("unknown VPC " + Quoted(vpc_name) + " (see `vpcctl vpc list`)");
  Vpc copy = *vpc;
  if (change.port) copy.port = *change.port;
  if (change.max_jails) copy.max_jails = *change.max_jails;
  if (change.max_vms) copy.max_vms = *change.max_vms;
  VPC_TRY(CheckPortAndQuotas(fabric, copy));
  if (change.mtu) {
    copy.mtu_fixed = *change.mtu != 0;
    if (copy.mtu_fixed) copy.mtu = *change.mtu;
  }
  VPC_TRY(UpdateMtu(fabric, copy));
  *vpc = std::move(copy);
  return {};
}

Status RefreshMtu(Fabric& fabric, const std::string& vpc_name) {
  Vpc* vpc = fabric.FindVpc(vpc_name);
  if (!vpc) return UsageError("unknown VPC " + Quoted(vpc_name));
  Vpc copy = *vpc;
  VPC_TRY(UpdateMtu(fabric, copy));
  *vpc = std::move(copy);
  return {};
}

}  // namespace vpcctl::alloc
