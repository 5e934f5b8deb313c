#include "vpcctl/plan/diff.h"

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
  }
  return "?";
}

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
  return true;
}

bool IsLinkLocal(const net::IpAddress& a) {
  return a.is_v6() && a.bytes()[0] == 0xfe && (a.bytes()[1] & 0xc0) == 0x80;
}

struct Builder {
  const Observed& observed;
  std::vector<Step> destroys, creates, members, addresses, ups;
  std::vector<std::string> problems;

  Step Make(Action a, const std::string& vpc, const std::string& ifname, std::string reason) {
    Step s;
    s.action = a;
    s.vpc = vpc;
    s.ifname = ifname;
    s.reason = std::move(reason);
    return s;
  }

  void Foreign(const ObservedInterface& o, const std::string& vpc) {
    std::string owner = o.owner.empty() ? "no vpcctl marker" : "marked " + Quoted(o.owner);
    problems.push_back("interface " + o.name + " exists and is not managed by vpcctl (" + owner +
                       "); VPC " + vpc + " needs that name. Remove or rename it.");
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
        Foreign(*o, dv.vpc);
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
        Foreign(*o, dv.vpc);
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
};

}  // namespace

Result<std::vector<Step>> Diff(const Desired& desired, const Observed& observed) {
  Builder b{observed, {}, {}, {}, {}, {}, {}};
  std::set<std::string> wanted;
  for (const auto& dv : desired.vpcs) {
    wanted.insert(dv.vpc);
    for (const auto& t : dv.tunnels) wanted.insert(t.ifname);
  }
  // Owned interfaces nobody wants any more: tunnels (and stray clones) first, then bridges.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& o : observed.interfaces) {
      if (!Ours(o) || wanted.count(o.name)) continue;
      if ((o.kind == IfKind::kBridge) != (pass == 1)) continue;
      b.destroys.push_back(b.Make(Action::kDestroy, std::string(OwnerVpc(o.owner)), o.name,
                                  "no longer in the map"));
    }
  }
  for (const auto& dv : desired.vpcs) {
    for (const auto& t : dv.tunnels) b.Tunnel(dv, t);
    b.Bridge(dv);
  }
  if (!b.problems.empty()) return Failure(Join(b.problems, "\n"));
  std::vector<Step> out;
  for (auto* group : {&b.destroys, &b.creates, &b.members, &b.addresses, &b.ups})
    out.insert(out.end(), group->begin(), group->end());
  return out;
}

}  // namespace vpcctl::plan
