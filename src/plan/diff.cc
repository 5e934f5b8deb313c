#include "vpcctl/plan/diff.h"

#include <algorithm>
#include <set>

#include "vpcctl/base/text.h"

namespace vpcctl::plan {

std::string_view ActionName(Action a) {
  switch (a) {
    case Action::kDestroy:
      return "destroy";
    case Action::kCreateTunnel:
      return "create-tunnel";
    case Action::kCreateBridge:
      return "create-bridge";
    case Action::kSetOwner:
      return "set-owner";
    case Action::kSetMtu:
      return "set-mtu";
    case Action::kAddMember:
      return "add-member";
    case Action::kSetIsolated:
      return "set-isolated";
    case Action::kAddAddress:
      return "add-address";
    case Action::kRemoveAddress:
      return "remove-address";
    case Action::kUp:
      return "up";
    case Action::kAddVip:
      return "add-vip";
    case Action::kRemoveVip:
      return "remove-vip";
    case Action::kWriteFile:
      return "write-file";
    case Action::kRemoveFile:
      return "remove-file";
    case Action::kStartDaemon:
      return "start-daemon";
    case Action::kReloadDaemon:
      return "reload-daemon";
    case Action::kStopDaemon:
      return "stop-daemon";
    case Action::kAttachGuest:
      return "attach-guest";
    case Action::kDetachGuest:
      return "detach-guest";
    case Action::kRejoinGuest:
      return "rejoin-guest";
    case Action::kCreateWireguard:
      return "create-wireguard";
    case Action::kSetWireguard:
      return "set-wireguard";
    case Action::kSetWgPeer:
      return "set-wireguard-peer";
    case Action::kRemoveWgPeer:
      return "remove-wireguard-peer";
    case Action::kLoadFirewall:
      return "load-firewall";
    case Action::kRemoveFirewall:
      return "remove-firewall";
    case Action::kSetMac:
      return "set-mac";
    case Action::kPinNeighbour:
      return "pin-neighbour";
    case Action::kUnpinNeighbour:
      return "unpin-neighbour";
  }
  return "?";
}

std::vector<Step> Redacted(std::vector<Step> steps) {
  for (auto& s : steps) {
    if (!s.vip.secret.empty()) s.vip.secret = "(redacted)";
    for (const auto& secret : s.file.secrets) {
      if (secret.empty()) continue;
      for (size_t at = s.file.content.find(secret); at != std::string::npos;
           at = s.file.content.find(secret, at)) {
        s.file.content.replace(at, secret.size(), "(redacted)");
      }
    }
  }
  return steps;
}

// Over 80 lines on purpose: one sentence per action, side by side in one switch, so that a new
// action's description is written where all the others can be read (and -Wswitch names a missing
// one). Split per action, the wording would drift apart.
std::string Describe(const Step& s) {
  std::string out;
  switch (s.action) {
    case Action::kDestroy:
      out = "destroy " + s.ifname;
      break;
    case Action::kCreateTunnel:
      out = "create tunnel " + s.ifname + " to " + s.tunnel.peer + " (vni " +
            std::to_string(s.tunnel.vni) + ", " + s.tunnel.local.ToString() + " -> " +
            s.tunnel.remote.ToString() + " port " + std::to_string(s.tunnel.port) + ", mtu " +
            std::to_string(s.mtu) + ")";
      break;
    case Action::kCreateBridge:
      out = "create bridge " + s.ifname + " (mtu " + std::to_string(s.mtu) + ")";
      break;
    case Action::kSetOwner:
      out = "mark " + s.ifname + " as " + OwnerTag(s.vpc);
      break;
    case Action::kSetMtu:
      out = "set mtu " + std::to_string(s.mtu) + " on " + s.ifname;
      break;
    case Action::kAddMember:
      out = "add " + s.ifname + " to bridge " + s.bridge + ", isolated";
      if (!s.from_bridge.empty()) out += " (leaving " + s.from_bridge + ")";
      break;
    case Action::kSetIsolated:
      out = "isolate " + s.ifname + " on bridge " + s.bridge;
      break;
    case Action::kAddAddress:
      out = "add address " + s.address.ToString() + " to " + s.ifname;
      break;
    case Action::kRemoveAddress:
      out = "remove address " + s.address.ToString() + " from " + s.ifname;
      break;
    case Action::kUp:
      out = "bring " + s.ifname + " up";
      break;
    case Action::kAddVip:
      out = "add VIP " + s.vip.address.ToString() + " (vhid " + std::to_string(s.vip.vhid) +
            ", advskew " + std::to_string(kCarpBackupSkew) + ") to " + s.ifname;
      break;
    case Action::kRemoveVip:
      out = "remove VIP " + s.address.address.ToString() + " from " + s.ifname;
      break;
    case Action::kWriteFile:
      out = "write " + s.file.path;
      break;
    case Action::kRemoveFile:
      out = "remove " + s.file.path;
      break;
    case Action::kStartDaemon:
      out = "start " + s.daemon.name;
      break;
    case Action::kReloadDaemon:
      out = "reload " + s.daemon.name;
      break;
    case Action::kStopDaemon:
      out = "stop " + s.daemon.name;
      break;
    case Action::kAttachGuest:
      out = "attach " + std::string(model::GuestKindName(s.guest.kind)) + " " + s.guest.guest +
            " to " + s.guest.vpc + " through " + s.guest.ifname;
      break;
    case Action::kDetachGuest:
      out = "detach " + std::string(model::GuestKindName(s.guest.kind)) + " " + s.guest.guest +
            " (" + s.guest.ifname + ")";
      break;
    case Action::kRejoinGuest:
      out = "put " + s.ifname + " (" + std::string(model::GuestKindName(s.guest.kind)) + " " +
            s.guest.guest + ") back on bridge " + s.guest.vpc;
      break;
    case Action::kCreateWireguard:
      out = "create WireGuard interface " + s.ifname + " (mtu " + std::to_string(s.mtu) + ")";
      break;
    case Action::kSetWireguard:
      out = "set " + s.ifname + "'s private key (" + s.wireguard.key_file + ") and port " +
            std::to_string(s.wireguard.port);
      break;
    case Action::kSetWgPeer:
      out = "WireGuard peer " + s.wg_peer.node + " on " + s.ifname + ": endpoint " +
            s.wg_peer.endpoint.ToString() + " port " + std::to_string(s.wg_peer.port) +
            ", allowed " + s.wg_peer.transport.ToString();
      break;
    case Action::kRemoveWgPeer:
      out = "remove WireGuard peer " + s.wg_peer.public_key + " from " + s.ifname;
      break;
    case Action::kLoadFirewall:
      out = "load the underlay firewall (" + s.firewall.rules_path + ")";
      break;
    case Action::kRemoveFirewall:
      out = "remove the underlay firewall";
      break;
    case Action::kSetMac:
      out = "set " + s.ifname + "'s MAC to " + s.mac.ToString();
      break;
    case Action::kPinNeighbour:
      out = "pin " + s.peer + "'s " + s.address.address.ToString() + " to " + s.mac.ToString() +
            " on " + s.ifname;
      break;
    case Action::kUnpinNeighbour:
      out = "unpin " + s.address.address.ToString() + " on " + s.ifname;
      break;
  }
  if (!s.reason.empty()) out += " [" + s.reason + "]";
  return out;
}

namespace {

bool Ours(const ObservedInterface& o) { return !OwnerVpc(o.owner).empty(); }

bool TunnelMatches(const ObservedInterface& o, const DesiredTunnel& t, std::string* why) {
  if (o.kind != IfKind::kVxlan) {
    *why = "not a vxlan interface";
    return false;
  }
  if (o.vni != t.vni) {
    *why = "vni " + (o.vni ? std::to_string(*o.vni) : std::string("none")) + ", want " +
           std::to_string(t.vni);
    return false;
  }
  if (o.local != t.local) {
    *why = "local " + (o.local ? o.local->ToString() : std::string("none")) + ", want " +
           t.local.ToString();
    return false;
  }
  if (o.remote != t.remote) {
    *why = "remote " + (o.remote ? o.remote->ToString() : std::string("none")) + ", want " +
           t.remote.ToString();
    return false;
  }
  if (o.port != t.port) {
    *why = "port " + std::to_string(o.port) + ", want " + std::to_string(t.port);
    return false;
  }
  if (o.learning.value_or(false)) {
    *why = "learns remote addresses, want nolearning";
    return false;
  }
  return true;
}

bool IsLinkLocal(const net::IpAddress& a) {
  return a.is_v6() && a.bytes()[0] == 0xfe && (a.bytes()[1] & 0xc0) == 0x80;
}

struct Builder {
  const Observed& observed;
  std::vector<Step> destroys, firewall, transport, creates, members, addresses, ups, pins,
      late_transport, vips, files, daemons, guests;
  std::vector<std::string> problems;

  // Without a probe of the node's programs (plans made on the controller), assume they are there.
  bool Has(const std::string& tool) const {
    return !observed.tools || observed.tools->count(tool) > 0;
  }

  Step Make(Action a, const std::string& vpc, const std::string& ifname, std::string reason) {
    Step s;
    s.action = a;
    s.vpc = vpc;
    s.ifname = ifname;
    s.reason = std::move(reason);
    return s;
  }

  // `who` needs the name: "VPC vpc1", "the WireGuard transport".
  void Foreign(const ObservedInterface& o, const std::string& who) {
    std::string owner = o.owner.empty() ? "no vpcctl marker" : "marked " + Quoted(o.owner);
    problems.push_back("interface " + o.name + " exists and is not managed by vpcctl (" + owner +
                       "); " + who + " needs that name. Remove or rename it.");
  }

  bool BridgeIsEmpty(const ObservedInterface& br) const {
    for (const auto& o : observed.interfaces)
      if (o.master == br.name) return false;
    for (const auto& a : br.addresses)
      if (!IsLinkLocal(a.address)) return false;
    return true;
  }

  // Returns true when the tunnel exists (after the steps planned so far) and was not just made.
  void Tunnel(const DesiredVpc& dv, const DesiredTunnel& t) {
    const ObservedInterface* o = observed.Find(t.ifname);
    bool fresh = false;
    std::string why;
    if (!o) {
      fresh = true;
      why = "missing";
    } else if (!Ours(*o)) {
      if (o->owner.empty() && TunnelMatches(*o, t, &why)) {
        Step s = Make(Action::kSetOwner, dv.vpc, t.ifname, "identical, unmarked");
        creates.push_back(s);
      } else {
        Foreign(*o, "VPC " + dv.vpc);
        return;
      }
    } else if (OwnerVpc(o->owner) != dv.vpc) {
      destroys.push_back(Make(Action::kDestroy, dv.vpc, t.ifname,
                              "belongs to " + std::string(OwnerVpc(o->owner))));
      fresh = true;
      why = "was in another VPC";
    } else if (!TunnelMatches(*o, t, &why)) {
      destroys.push_back(Make(Action::kDestroy, dv.vpc, t.ifname, why));
      fresh = true;
    }
    if (fresh) {
      Step s = Make(Action::kCreateTunnel, dv.vpc, t.ifname, why);
      s.tunnel = t;
      s.mtu = dv.mtu;
      creates.push_back(s);
    } else if (o->mtu != dv.mtu) {
      Step s = Make(Action::kSetMtu, dv.vpc, t.ifname,
                    "mtu " + std::to_string(o->mtu) + ", want " + std::to_string(dv.mtu));
      s.mtu = dv.mtu;
      creates.push_back(s);
    }
    if (fresh || o->master != dv.vpc) {
      Step s = Make(Action::kAddMember, dv.vpc, t.ifname, fresh ? "new" : "not on the bridge");
      s.bridge = dv.vpc;
      if (!fresh && !o->master.empty()) s.from_bridge = o->master;
      members.push_back(s);
    } else if (!o->isolated) {
      Step s = Make(Action::kSetIsolated, dv.vpc, t.ifname, "forwards to other tunnels");
      s.bridge = dv.vpc;
      members.push_back(s);
    }
    if (fresh || !o->up) ups.push_back(Make(Action::kUp, dv.vpc, t.ifname, fresh ? "new" : "down"));
  }

  void Bridge(const DesiredVpc& dv) {
    const ObservedInterface* o = observed.Find(dv.vpc);
    bool fresh = false;
    if (!o) {
      fresh = true;
    } else if (!Ours(*o)) {
      if (o->owner.empty() && o->kind == IfKind::kBridge && BridgeIsEmpty(*o)) {
        creates.push_back(Make(Action::kSetOwner, dv.vpc, dv.vpc, "empty, unmarked"));
      } else {
        Foreign(*o, "VPC " + dv.vpc);
        return;
      }
    } else if (o->kind != IfKind::kBridge || OwnerVpc(o->owner) != dv.vpc) {
      destroys.push_back(Make(Action::kDestroy, dv.vpc, dv.vpc, "not this VPC's bridge"));
      fresh = true;
    }
    if (fresh) {
      Step s = Make(Action::kCreateBridge, dv.vpc, dv.vpc, "missing");
      s.mtu = dv.mtu;
      s.vpc_id = dv.vpc_id;
      creates.push_back(s);
    } else if (o->mtu != dv.mtu) {
      Step s = Make(Action::kSetMtu, dv.vpc, dv.vpc,
                    "mtu " + std::to_string(o->mtu) + ", want " + std::to_string(dv.mtu));
      s.mtu = dv.mtu;
      creates.push_back(s);
    }
    if (!dv.mac.IsZero() && (fresh || (o->mac && *o->mac != dv.mac))) {
      Step s = Make(Action::kSetMac, dv.vpc, dv.vpc,
                    fresh ? "new" : o->mac->ToString() + ", want " + dv.mac.ToString());
      s.mac = dv.mac;
      creates.push_back(s);
    }
    bool have = false;
    if (!fresh) {
      for (const auto& a : o->addresses) {
        if (a == dv.address) {
          have = true;
          continue;
        }
        bool in_peer_net = a.address.family() == dv.address.address.family() &&
                           dv.address.Network().Contains(a.address);
        bool kept = false;
        for (const auto& k : dv.keep_addresses) kept = kept || k == a.address;
        if ((in_peer_net || a.address == dv.address.address) && !kept) {
          Step s = Make(Action::kRemoveAddress, dv.vpc, dv.vpc, "not this node's overlay address");
          s.address = a;
          addresses.push_back(s);
        }
      }
    }
    if (!have) {
      Step s = Make(Action::kAddAddress, dv.vpc, dv.vpc, "missing");
      s.address = dv.address;
      addresses.push_back(s);
    }
    if (fresh || !o->up) ups.push_back(Make(Action::kUp, dv.vpc, dv.vpc, fresh ? "new" : "down"));
  }

  // Every other member's overlay address pinned to its bridge's MAC. A new bridge has no entries;
  // on an existing one, the probed permanent entries (unknown: left alone). Only entries vpcctl
  // made (an overlay MAC of this VPC for that address) are ever removed.
  void Pins(const DesiredVpc& dv) {
    const ObservedInterface* o = observed.Find(dv.vpc);
    bool fresh = !o || std::any_of(creates.begin(), creates.end(), [&](const Step& s) {
      return s.action == Action::kCreateBridge && s.ifname == dv.vpc;
    });
    if (!fresh && !observed.neighbours) return;
    auto find = [&](const net::IpAddress& a) -> const ObservedNeighbour* {
      if (fresh) return nullptr;
      for (const auto& n : *observed.neighbours)
        if (n.dev == dv.vpc && n.address == a) return &n;
      return nullptr;
    };
    for (const auto& n : dv.neighbours) {
      const ObservedNeighbour* have = find(n.address);
      if (have && have->mac == n.mac) continue;
      Step s = Make(Action::kPinNeighbour, dv.vpc, dv.vpc,
                    !have ? "missing" : "lladdr " + (have->mac ? have->mac->ToString() : "none") +
                                           ", want " + n.mac.ToString());
      s.address = net::IfAddress{n.address, n.address.is_v4() ? 32 : 128};
      s.mac = n.mac;
      s.peer = n.node;
      pins.push_back(s);
    }
    if (fresh) return;
    for (const auto& have : *observed.neighbours) {
      if (have.dev != dv.vpc || have.mac != OverlayMac(dv.vpc_id, have.address)) continue;
      bool wanted = false;
      for (const auto& n : dv.neighbours) wanted = wanted || n.address == have.address;
      if (wanted) continue;
      Step s = Make(Action::kUnpinNeighbour, dv.vpc, dv.vpc, "not a member any more");
      s.address = net::IfAddress{have.address, have.address.is_v4() ? 32 : 128};
      pins.push_back(s);
    }
  }

  // The WireGuard interface: made by the kernel, or by wireguard-go where the kernel has no
  // WireGuard; then its address, key, port and peers, as a delta (wg's sync_conf).
  // The WireGuard interface itself: made (in the kernel, or by starting wireguard-go), replaced
  // when it is not ours, or its MTU set. Sets `fresh` (made now) and `userspace`; false when the
  // node cannot have it (a problem recorded, or another's interface by that name).
  bool WireguardInterface(const Desired& d, const ObservedInterface* o, bool& fresh,
                          bool& userspace, std::vector<Step>& out) {
    const DesiredWireguard& w = *d.wireguard;
    const std::string& i = w.ifname;
    const std::string owner(kWgOwner);
    userspace = o && o->userspace;
    if (!o) {
      fresh = true;
    } else if (!Ours(*o)) {
      Foreign(*o, "the WireGuard transport");
      return false;
    } else if (o->kind != IfKind::kWireguard || OwnerVpc(o->owner) != owner) {
      destroys.push_back(Make(Action::kDestroy, owner, i, "not vpcctl's WireGuard interface"));
      fresh = true;
    }
    if (fresh) {
      userspace =
          d.platform == model::Platform::kLinux && !observed.wireguard_kernel.value_or(true);
      if (!userspace) {
        Step s = Make(Action::kCreateWireguard, owner, i, "missing");
        s.mtu = w.mtu;
        s.wireguard = w;
        out.push_back(s);
      } else if (d.wireguard_go.start.empty() || !Has("wireguard-go")) {
        problems.push_back("this node runs WireGuard for its encrypted VPCs, but its kernel has no "
                           "WireGuard and wireguard-go is not installed: install the wireguard-go "
                           "package (or a kernel with WireGuard)");
        return false;
      } else {
        auto running = observed.daemons.find(d.wireguard_go.name);
        if (running != observed.daemons.end() && running->second) {
          Step stop = Make(Action::kStopDaemon, "", d.wireguard_go.name, "its interface vanished");
          stop.daemon = d.wireguard_go;
          out.push_back(stop);
        }
        Step start = Make(Action::kStartDaemon, "", d.wireguard_go.name, "no WireGuard in the kernel");
        start.daemon = d.wireguard_go;
        out.push_back(start);
        out.push_back(Make(Action::kSetOwner, owner, i, "new"));
        Step mtu = Make(Action::kSetMtu, owner, i, "new");
        mtu.mtu = w.mtu;
        out.push_back(mtu);
      }
    } else if (o->mtu != w.mtu) {
      Step s = Make(Action::kSetMtu, owner, i,
                    "mtu " + std::to_string(o->mtu) + ", want " + std::to_string(w.mtu));
      s.mtu = w.mtu;
      out.push_back(s);
    }
    return true;
  }

  // The transport address on the interface, and no other of its family.
  void WireguardAddress(const DesiredWireguard& w, const ObservedInterface* o, bool fresh,
                        std::vector<Step>& out) {
    const std::string& i = w.ifname;
    const std::string owner(kWgOwner);
    bool have = false;
    if (!fresh) {
      for (const auto& a : o->addresses) {
        if (a == w.address) {
          have = true;
        } else if (a.address.family() == w.address.address.family() &&
                   !(a.address.is_v6() && IsLinkLocal(a.address))) {
          Step s = Make(Action::kRemoveAddress, owner, i, "not this node's transport address");
          s.address = a;
          out.push_back(s);
        }
      }
    }
    if (!have) {
      Step s = Make(Action::kAddAddress, owner, i, "missing");
      s.address = w.address;
      out.push_back(s);
    }
  }

  // The interface's key and port; after a key change, a keepalive to every peer that stays.
  void WireguardKey(const DesiredWireguard& w, const ObservedWireguard* ow,
                    std::vector<Step>& out) {
    const std::string& i = w.ifname;
    const std::string owner(kWgOwner);
    bool key_changed = ow && ow->public_key != w.public_key;
    if (!ow || key_changed || ow->port != w.port || w.public_key.empty()) {
      std::string why = !ow                   ? "new"
                        : w.public_key.empty() ? "no key yet"
                        : key_changed          ? "key changed"
                                               : "port " + std::to_string(ow->port) + ", want " +
                                          std::to_string(w.port);
      Step s = Make(Action::kSetWireguard, owner, i, why);
      s.wireguard = w;
      // Peers that stay as they are must handshake with the new key at once.
      if (key_changed) {
        for (const auto& p : w.peers)
          if (!p.public_key.empty() && ow->Find(p.public_key)) s.poke.push_back(p.public_key);
      }
      out.push_back(s);
    }
  }

  // The peers: each in the map with its endpoint, transport address and keepalive; no others.
  void WireguardPeers(const DesiredWireguard& w, const ObservedWireguard* ow,
                      std::vector<Step>& out) {
    const std::string& i = w.ifname;
    const std::string owner(kWgOwner);
    for (const auto& p : w.peers) {
      if (p.public_key.empty()) continue;  // not known yet: the next deploy brings it
      const ObservedWgPeer* op = ow ? ow->Find(p.public_key) : nullptr;
      std::string why;
      std::string allowed = p.transport.ToString() + "/" + std::to_string(p.transport.bits());
      if (!op) {
        // A peer we know under another key (same transport address) has a new key: it switches
        // to it itself, so there is no handshake to wait for here (see SettleHandshakes).
        bool rekeyed = false;
        for (const auto& known : ow ? ow->peers : std::vector<ObservedWgPeer>{}) {
          rekeyed = rekeyed || known.allowed_ips == std::vector<std::string>{allowed};
        }
        why = rekeyed ? "new key" : "missing";
      } else if (op->endpoint != p.endpoint || op->endpoint_port != p.port) {
        why = "endpoint changed";
      } else if (op->allowed_ips != std::vector<std::string>{allowed}) {
        why = "allowed addresses changed";
      } else if (op->keepalive != model::kWgKeepalive) {
        why = "keepalive changed";
      } else {
        continue;
      }
      Step s = Make(Action::kSetWgPeer, owner, i, why);
      s.wg_peer = p;
      out.push_back(s);
    }
    if (ow) {
      for (const auto& op : ow->peers) {
        bool wanted = false;
        for (const auto& p : w.peers) wanted = wanted || p.public_key == op.public_key;
        if (wanted) continue;
        Step s = Make(Action::kRemoveWgPeer, owner, i, "not a peer in the map");
        s.wg_peer.public_key = op.public_key;
        out.push_back(s);
      }
    }
  }

  void Wireguard(const Desired& d) {
    const DesiredWireguard& w = *d.wireguard;
    if (!Has("wg")) {
      problems.push_back("this node runs WireGuard for its encrypted VPCs and needs wg(8): install "
                         "the wireguard-tools package");
      return;
    }
    const ObservedInterface* o = observed.Find(w.ifname);
    std::vector<Step> out;
    bool fresh = false;
    bool userspace = false;
    if (!WireguardInterface(d, o, fresh, userspace, out)) return;
    WireguardAddress(w, o, fresh, out);
    const ObservedWireguard* ow = fresh || !observed.wireguard ? nullptr : &*observed.wireguard;
    WireguardKey(w, ow, out);
    WireguardPeers(w, ow, out);
    if (fresh || !o->up) {
      out.push_back(Make(Action::kUp, std::string(kWgOwner), w.ifname, fresh ? "new" : "down"));
    }
    // wireguard-go (2022) closes its device when a burst of netlink events overflows its socket:
    // let the burst of creating tunnels and bridges pass before it starts. The kernel's WireGuard
    // and FreeBSD's come first, for the tunnels' sockets to find their transport address.
    auto& group = userspace ? late_transport : transport;
    group.insert(group.end(), out.begin(), out.end());
  }

  // vpcctl's underlay firewall: reloaded whole when the wanted rules changed, when the kernel's
  // listing differs from the one taken right after the last load (edited or deleted rules), or
  // when it is missing; removed when the node has no VPC left.
  void Firewall(const Desired& d) {
    const DesiredFirewall& fw = d.firewall;
    if (fw.rules.empty()) {
      if (observed.firewall) {
        Step s = Make(Action::kRemoveFirewall, "", "firewall", "no VPC left");
        s.firewall = fw;
        firewall.push_back(s);
      }
      return;
    }
    if (!Has(fw.tool)) {
      problems.push_back("this node's VPCs need vpcctl's underlay firewall, loaded with " +
                         fw.tool + ": install " + fw.package);
      return;
    }
    auto file = [&](const std::string& path) -> const std::string* {
      auto it = observed.files.find(path);
      return it == observed.files.end() ? nullptr : &it->second;
    };
    const std::string* loaded = file(fw.rules_path);
    const std::string* listed = file(fw.listing_path);
    std::string why;
    if (!observed.firewall) {
      why = "missing";
    } else if (!loaded || *loaded != fw.rules) {
      why = "rules changed";
    } else if (!listed || *listed != *observed.firewall) {
      why = "edited outside vpcctl";
    } else {
      return;
    }
    Step s = Make(Action::kLoadFirewall, "", "firewall", why);
    s.firewall = fw;
    firewall.push_back(s);
  }

  // Kernel VIPs (CARP) on the bridge: add the missing, replace the changed, drop the unwanted.
  // Only candidates carry a CARP address; an acceptor-only member takes part in the lease alone.
  void KernelVips(const DesiredVpc& dv) {
    const ObservedInterface* o = observed.Find(dv.vpc);
    std::vector<const ObservedVip*> have;
    if (o && Ours(*o)) {
      for (const auto& v : o->vips) have.push_back(&v);
    }
    for (const auto& want : dv.vips) {
      if (want.rank < 0) continue;
      const ObservedVip* cur = nullptr;
      for (const auto* h : have)
        if (h->vhid == want.vhid) cur = h;
      std::string why = "missing";
      if (cur) {
        int advbase = want.advert_ms / 1000;
        // The skew is vipd's to switch between the two (holder, backup); any other is not ours.
        bool skew = cur->advskew == kCarpBackupSkew || cur->advskew == kCarpHolderSkew;
        if (cur->address == want.address && cur->advbase == advbase && skew) {
          continue;
        }
        why = "changed";
        Step rm = Make(Action::kRemoveVip, dv.vpc, dv.vpc, "changed");
        rm.address = net::IfAddress{cur->address, cur->address.bits()};
        vips.push_back(rm);
      }
      Step s = Make(Action::kAddVip, dv.vpc, dv.vpc, why);
      s.vip = want;
      vips.push_back(s);
    }
    for (const auto* h : have) {
      bool wanted = false;
      for (const auto& want : dv.vips) wanted = wanted || (want.rank >= 0 && want.vhid == h->vhid);
      if (wanted) continue;
      Step rm = Make(Action::kRemoveVip, dv.vpc, dv.vpc, "no longer in the map");
      rm.address = net::IfAddress{h->address, h->address.bits()};
      vips.push_back(rm);
    }
  }

  // Guests: re-create what a Linux host lost while the guest lives on (a namespace whose veth
  // vanished, a VM's tap), put them back on recreated bridges, drop those of departed VPCs.
  void Guests(const Desired& d) {
    std::set<std::string> known;
    for (const auto& da : d.attachments) {
      const auto& a = da.record;
      known.insert(a.ifname);
      const ObservedInterface* o = observed.Find(a.ifname);
      Step s = Make(Action::kAttachGuest, a.vpc, a.ifname, "");
      s.guest = a;
      s.mtu = da.mtu;
      if (!o) {
        bool linux_guest = d.platform == model::Platform::kLinux;
        bool alive = a.kind != model::GuestKind::kNetns || observed.netns.count(a.guest);
        if (linux_guest && alive) {
          s.reason = "vanished";
          guests.push_back(s);
        }
        continue;
      }
      if (o->master != a.vpc) {
        s.action = Action::kRejoinGuest;
        s.reason = "not on the bridge";
        guests.push_back(s);
      }
      if (o->mtu != da.mtu) {
        Step m = Make(Action::kSetMtu, a.vpc, a.ifname,
                      "mtu " + std::to_string(o->mtu) + ", want " + std::to_string(da.mtu));
        m.mtu = da.mtu;
        guests.push_back(m);
      }
      if (!o->up) guests.push_back(Make(Action::kUp, a.vpc, a.ifname, "down"));
    }
    for (const auto& a : d.orphans) {
      Step s = Make(Action::kDetachGuest, a.vpc, a.ifname, "VPC " + a.vpc + " left this node");
      s.guest = a;
      s.drop_record = true;
      if (!observed.Find(a.ifname)) s.reason = "record only";
      guests.push_back(s);
      known.insert(a.ifname);
    }
    // Marked guest interfaces no record explains (a crash between creating and recording).
    for (const auto& o : observed.interfaces) {
      if (!StartsWith(o.owner, model::kGuestPrefix) || known.count(o.name)) continue;
      Step s = Make(Action::kDetachGuest, "", o.name, "no record");
      s.guest.ifname = o.name;
      s.guest.guest = o.owner;
      guests.push_back(s);
    }
  }

  // Daemon files and daemons: rewrite what differs, reload what read a rewritten file.
  void FilesAndDaemons(const Desired& d) {
    std::set<std::string> rewritten;
    for (const auto& f : d.files) {
      auto it = observed.files.find(f.path);
      bool exists = it != observed.files.end();
      if (!f.content.empty() && (!exists || it->second != f.content)) {
        Step s = Make(Action::kWriteFile, "", f.path, exists ? "changed" : "missing");
        s.file = f;
        files.push_back(s);
        rewritten.insert(f.path);
      } else if (f.content.empty() && exists) {
        Step s = Make(Action::kRemoveFile, "", f.path, "no VIP left");
        s.file = f;
        files.push_back(s);
      }
    }
    for (const auto& dm : d.daemons) {
      auto it = observed.daemons.find(dm.name);
      bool running = it != observed.daemons.end() && it->second;
      bool wanted = !dm.start.empty();
      Step s;
      if (wanted && !running) {
        s = Make(Action::kStartDaemon, "", dm.name, "not running");
      } else if (wanted && rewritten.count(dm.config)) {
        s = Make(Action::kReloadDaemon, "", dm.name, "configuration changed");
      } else if (!wanted && running) {
        s = Make(Action::kStopDaemon, "", dm.name, dm.unwanted);
      } else {
        continue;
      }
      s.daemon = dm;
      daemons.push_back(s);
    }
  }
};

}  // namespace

Result<std::vector<Step>> Diff(const Desired& desired, const Observed& observed) {
  Builder b{observed, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}};
  std::set<std::string> wanted;
  for (const auto& dv : desired.vpcs) {
    wanted.insert(dv.vpc);
    for (const auto& t : dv.tunnels) wanted.insert(t.ifname);
  }
  if (desired.wireguard) wanted.insert(desired.wireguard->ifname);
  // Owned interfaces nobody wants any more: tunnels (and stray clones) first, then bridges.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& o : observed.interfaces) {
      if (!Ours(o) || wanted.count(o.name)) continue;
      if ((o.kind == IfKind::kBridge) != (pass == 1)) continue;
      b.destroys.push_back(b.Make(Action::kDestroy, std::string(OwnerVpc(o.owner)), o.name,
                                  "no longer in the map"));
    }
  }
  b.Firewall(desired);
  if (desired.wireguard) b.Wireguard(desired);
  for (const auto& dv : desired.vpcs) {
    for (const auto& t : dv.tunnels) b.Tunnel(dv, t);
    b.Bridge(dv);
    if (desired.pin_neighbours) b.Pins(dv);
    if (desired.kernel_vips) b.KernelVips(dv);
  }
  b.FilesAndDaemons(desired);
  b.Guests(desired);
  if (!b.problems.empty()) return Failure(Join(b.problems, "\n"));
  std::vector<Step> out;
  for (auto* group : {&b.destroys, &b.firewall, &b.transport, &b.creates, &b.members, &b.addresses,
                      &b.ups, &b.pins, &b.late_transport, &b.vips, &b.files, &b.daemons, &b.guests})
    out.insert(out.end(), group->begin(), group->end());
  return out;
}

}  // namespace vpcctl::plan
