#include "vpcctl/plan/state.h"

#include <cstdio>

#include "vpcctl/base/text.h"
#include "vpcctl/model/map.h"

namespace vpcctl::plan {

std::string OwnerTag(std::string_view vpc) { return std::string(kOwnerPrefix) + std::string(vpc); }

std::string_view OwnerVpc(std::string_view tag) {
  if (!StartsWith(tag, kOwnerPrefix)) return {};
  return tag.substr(kOwnerPrefix.size());
}

namespace {

// Adds `peer` to the node's WireGuard peers (once, whatever VPCs the pair shares), creating the
// node's WireGuard interface on first use.
void AddWgPeer(Desired& d, const model::Fabric& fabric, const model::Node& self,
               const model::Node& peer, const net::IpAddress& endpoint) {
  if (!d.wireguard) {
    DesiredWireguard w;
    w.port = fabric.transport.port;
    w.mtu = model::WireguardMtu(fabric, self);
    w.address = net::IfAddress{*self.transport, fabric.transport.network.prefix()};
    w.public_key = self.wg_public_key;
    d.wireguard = std::move(w);
  }
  for (const auto& p : d.wireguard->peers)
    if (p.node == peer.name) return;
  d.wireguard->peers.push_back(
      DesiredWgPeer{peer.name, peer.wg_public_key, endpoint, fabric.transport.port, *peer.transport});
}

// A node's underlay addresses, IPv4 first.
std::vector<net::IpAddress> Underlays(const model::Node& n) {
  std::vector<net::IpAddress> out;
  for (const auto* a : {&n.underlay4, &n.underlay6})
    if (*a) out.push_back(**a);
  return out;
}

// The settings every node of the VIP's lease gets; the secret must be there (the map withholds
// it only from nodes outside the lease).
Result<DesiredVip> VipBase(const model::Vpc& vpc, const model::Vip& vip, std::string_view node) {
  if (vip.secret.empty()) {
    return Failure("VIP " + vip.address.ToString() + " (vhid " + std::to_string(vip.vhid) +
                   ") of " + vpc.name + ": the map withholds its secret from " +
                   std::string(node) + ", which takes part in its lease");
  }
  DesiredVip v;
  v.address = vip.address;
  v.vhid = vip.vhid;
  v.rank = vip.Rank(node);
  v.advert_ms = vip.advert_ms;
  v.preempt = vip.preempt;
  v.secret = vip.secret;
  v.lease_ms = vip.lease_ms;
  v.check = vip.check;
  v.unsafe_two_node = vip.unsafe_two_node;
  v.acceptors = model::VipAcceptors(vpc, vip);
  return v;
}

// The VIP as a member of its VPC sees it: it speaks on its overlay address, to the other members
// on theirs and to the witness on its underlay addresses.
Result<DesiredVip> MemberVipFor(const model::Fabric& fabric, const model::Vpc& vpc,
                             const model::Vip& vip, const model::Member& me) {
  VPC_ASSIGN_OR_RETURN(DesiredVip v, VipBase(vpc, vip, me.node));
  v.local = me.overlay;
  for (const auto& m : vpc.members) {
    if (m.node == me.node) continue;
    int rank = vip.Rank(m.node);
    if (rank >= 0) v.peers.push_back(m.overlay);
    v.group.push_back(VipPeer{m.node, {m.overlay}, true, rank});
  }
  if (!vip.witness.empty()) {
    const model::Node* w = fabric.FindNode(vip.witness);
    if (!w) return Failure("VIP " + vip.address.ToString() + " of " + vpc.name +
                           " names unknown witness " + vip.witness);
    v.group.push_back(VipPeer{w->name, Underlays(*w), true, -1});
  }
  return v;
}

// The VIP as its witness (outside the VPC) sees it: it speaks on its underlay address (IPv4 when
// it has one; behind NAT its local one), to the members on their underlay addresses (IPv4 first),
// then their overlay.
Result<DesiredVip> WitnessVipFor(const model::Fabric& fabric, const model::Vpc& vpc,
                              const model::Vip& vip, const model::Node& self) {
  VPC_ASSIGN_OR_RETURN(DesiredVip v, VipBase(vpc, vip, self.name));
  v.local = *self.Local(self.underlay4 ? net::Family::kV4 : net::Family::kV6);
  for (const auto& m : vpc.members) {
    const model::Node* n = fabric.FindNode(m.node);
    if (!n) return Failure("VPC " + vpc.name + " names unknown member " + m.node);
    VipPeer p{m.node, Underlays(*n), true, vip.Rank(m.node)};
    p.addresses.push_back(m.overlay);
    v.group.push_back(std::move(p));
  }
  return v;
}

}  // namespace

Result<Desired> DesiredFor(const model::Fabric& fabric, std::string_view node,
                           std::string_view only_vpc) {
  const model::Node* self = fabric.FindNode(node);
  if (!self) return UsageError("unknown node " + Quoted(node) + " (see `vpcctl node list`)");
  Desired d;
  d.node = self->name;
  d.platform = self->platform;
  d.pin_neighbours = self->platform == model::Platform::kLinux;
  d.wg_port = fabric.transport.port;
  for (const auto& n : fabric.nodes) {
    for (const auto* a : {&n.underlay4, &n.underlay6})
      if (*a) d.fabric_underlays.push_back(**a);
  }
  for (const auto& vpc : fabric.vpcs) {
    if (!only_vpc.empty() && vpc.name != only_vpc) continue;
    const model::Member* me = vpc.FindMember(node);
    if (!me) {
      // A witness takes part in the VIP's lease from outside the VPC: it needs nothing else.
      for (const auto& vip : vpc.vips) {
        if (vip.witness != self->name) continue;
        VPC_ASSIGN_OR_RETURN(DesiredVip v, WitnessVipFor(fabric, vpc, vip, *self));
        d.witness_vips.push_back(Desired::WitnessVip{vpc.name, std::move(v)});
      }
      continue;
    }
    DesiredVpc dv;
    dv.vpc = vpc.name;
    dv.vpc_id = vpc.id;
    dv.mtu = vpc.mtu;
    dv.address = net::IfAddress{me->overlay, vpc.peer_network.prefix()};
    dv.encrypted = vpc.encrypted;
    for (const auto& t : vpc.tunnels) {
      if (!t.Has(node)) continue;
      const model::Node* peer = fabric.FindNode(t.Peer(node));
      if (!peer) return Failure("tunnel " + t.InterfaceName() + " names unknown node " + t.Peer(node));
      const auto& local = self->Local(t.family);  // behind NAT: the address the node has
      const auto& remote = peer->Underlay(t.family);
      if (!local || !remote) {
        return Failure("tunnel " + t.InterfaceName() + " in VPC " + vpc.name + " needs " +
                       std::string(net::FamilyName(t.family)) + " underlay addresses on " +
                       self->name + " and " + peer->name);
      }
      DesiredTunnel dt{t.InterfaceName(), t.vni, *local, *remote, vpc.port, peer->name, false};
      if (vpc.encrypted) {
        if (!self->transport || !peer->transport) {
          return Failure("tunnel " + t.InterfaceName() + " in encrypted VPC " + vpc.name +
                         " needs transport addresses on " + self->name + " and " + peer->name);
        }
        dt.local = *self->transport;
        dt.remote = *peer->transport;
        dt.encrypted = true;
        AddWgPeer(d, fabric, *self, *peer, *remote);
      }
      dv.tunnels.push_back(dt);
    }
    dv.members = vpc.members.size();
    dv.mac = OverlayMac(vpc.id, me->overlay);
    for (const auto& m : vpc.members) {
      if (m.node != node) dv.neighbours.push_back({m.overlay, OverlayMac(vpc.id, m.overlay), m.node});
    }
    for (const auto& vip : vpc.vips) {
      dv.keep_addresses.push_back(vip.address);
      // Every member is an acceptor of every VIP of its VPC; candidates have a rank >= 0.
      VPC_ASSIGN_OR_RETURN(DesiredVip v, MemberVipFor(fabric, vpc, vip, *me));
      dv.vips.push_back(std::move(v));
    }
    d.vpcs.push_back(std::move(dv));
  }
  if (!only_vpc.empty() && d.vpcs.empty() && d.witness_vips.empty()) {
    if (!fabric.FindVpc(only_vpc)) {
      return UsageError("unknown VPC " + Quoted(only_vpc) + " (see `vpcctl vpc list`)");
    }
    return UsageError("node " + Quoted(node) + " is not a member of VPC " + Quoted(only_vpc));
  }
  return d;
}

net::MacAddress OverlayMac(uint32_t vpc_id, const net::IpAddress& overlay) {
  // 02 (locally administered, unicast), the VPC id's low 16 bits, the overlay address's low 24
  // bits (members' addresses are allocated from the bottom of the peer network: unique there).
  const auto& b = overlay.bytes();
  size_t last = overlay.is_v4() ? 3 : 15;
  char text[18];
  std::snprintf(text, sizeof text, "02:%02x:%02x:%02x:%02x:%02x", (vpc_id >> 8) & 0xff,
                vpc_id & 0xff, b[last - 2], b[last - 1], b[last]);
  return *net::MacAddress::Parse(text);
}

const ObservedWgPeer* ObservedWireguard::Find(std::string_view key) const {
  for (const auto& p : peers)
    if (p.public_key == key) return &p;
  return nullptr;
}

const ObservedInterface* Observed::Find(std::string_view name) const {
  for (const auto& i : interfaces)
    if (i.name == name) return &i;
  return nullptr;
}

ObservedInterface* Observed::Find(std::string_view name) {
  for (auto& i : interfaces)
    if (i.name == name) return &i;
  return nullptr;
}

}  // namespace vpcctl::plan
