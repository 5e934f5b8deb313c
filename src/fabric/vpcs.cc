// vpcctl vpc init/list/show/member add/member remove/delete on the controller's database.
#include "vpcctl/fabric/vpcs.h"

#include <ostream>
#include <set>

#include "vpcctl/alloc/alloc.h"
#include "vpcctl/base/text.h"
#include "vpcctl/fabric/format.h"
#include "vpcctl/model/map.h"
#include "vpcctl/model/names.h"

namespace vpcctl::fabric {

namespace {

using model::Overlaps;

// A VPC's peer network must not overlap another VPC on a shared node (both bridges would claim
// the same route), nor the transport network (routed to WireGuard on every node), nor hold a
// member's underlay address.
Status CheckNetworks(const model::Fabric& f, const model::Vpc& v) {
  Problems problems;
  if (Overlaps(v.peer_network, f.transport.network)) {
    problems.Add(UsageError("peer network " + v.peer_network.ToString() + " of VPC " +
                            Quoted(v.name) + " overlaps the fabric's transport network " +
                            f.transport.network.ToString() +
                            " (set at `vpcctl init "
                            "--transport-network`); choose another peer network"));
  }
  for (const auto& other : f.vpcs) {
    if (other.name == v.name || !Overlaps(other.peer_network, v.peer_network)) continue;
    for (const auto& m : v.members) {
      if (other.HasMember(m.node)) {
        problems.Add(UsageError("peer network " + v.peer_network.ToString() + " of VPC " +
                                Quoted(v.name) + " overlaps " + other.peer_network.ToString() +
                                " of VPC " + Quoted(other.name) + " on node " + Quoted(m.node)));
        break;
      }
    }
  }
  for (const auto& m : v.members) {
    const model::Node* n = f.FindNode(m.node);
    if (!n) continue;
    for (const auto* a : {&n->underlay4, &n->underlay6}) {
      if (*a && v.peer_network.Contains(**a)) {
        problems.Add(UsageError("peer network " + v.peer_network.ToString() + " of VPC " +
                                Quoted(v.name) + " contains the underlay address " +
                                (*a)->ToString() + " of node " + Quoted(n->name)));
      }
    }
  }
  return problems.ToStatus();
}

std::optional<int> ParseCount(const std::string& text, const char* what, Problems& problems) {
  if (text.empty()) return std::nullopt;
  auto v = ParseUint(text, 1000000);
  if (!v) {
    problems.Add(
        UsageError(std::string("invalid ") + what + " " + Quoted(text) + ": must be 0-1000000"));
    return std::nullopt;
  }
  return static_cast<int>(*v);
}

// Nodes whose record the allocation changed (a transport address given), saved with the VPC.
Status SaveChangedNodes(Session& s, const model::Fabric& next) {
  for (const auto& n : next.nodes) {
    const model::Node* old = s.fabric.FindNode(n.name);
    if (!old || old->transport != n.transport) VPC_TRY(s.store().SaveNode(n));
  }
  return {};
}

void PrintVpc(std::ostream& out, const model::Fabric& f, const model::Vpc& v) {
  auto quota = [](const std::optional<int>& q) {
    return q ? std::to_string(*q) : std::string("unlimited");
  };
  out << v.name << ": " << (v.encrypted ? "encrypted (WireGuard)" : "plain (not encrypted)")
      << ", peer network " << v.peer_network.ToString() << ", mtu " << v.mtu
      << (v.mtu_fixed ? " (set)" : " (derived)") << ", port " << v.port << ", family "
      << model::FamilyPrefName(v.family) << ", bridge " << v.name << "\n";
  if (v.encrypted) {
    out << "transport: " << f.transport.network.ToString() << " inside WireGuard, UDP port "
        << f.transport.port << " between underlay addresses\n";
  }
  out << "quotas: jails " << quota(v.max_jails) << ", vms " << quota(v.max_vms) << "\n\n";
  std::vector<std::string> header = {"MEMBER", "PLATFORM", "OVERLAY"};
  if (v.encrypted) header.insert(header.end(), {"TRANSPORT", "WIREGUARD KEY"});
  Table members(header);
  for (const auto& m : v.members) {
    const model::Node* n = f.FindNode(m.node);
    std::vector<std::string> row = {
        m.node, n ? std::string(model::PlatformName(n->platform)) : "?",
        m.overlay.ToString() + "/" + std::to_string(v.peer_network.prefix())};
    if (v.encrypted) {
      row.push_back(n && n->transport ? n->transport->ToString() : "-");
      row.push_back(n && !n->wg_public_key.empty() ? n->wg_public_key : "(at first deploy)");
    }
    members.Row(row);
  }
  members.Print(out);
  out << "\n";
  Table tunnels({"VNI", "A", "IF-A", "B", "IF-B", "FAMILY", "UNDERLAY", "OVER"});
  for (const auto& t : v.tunnels) {
    const model::Node* a = f.FindNode(t.a);
    const model::Node* b = f.FindNode(t.b);
    std::string underlay = "?";
    if (a && b && a->Underlay(t.family) && b->Underlay(t.family)) {
      underlay = a->Underlay(t.family)->ToString() + " <-> " + b->Underlay(t.family)->ToString();
    }
    std::string over = "underlay";
    if (v.encrypted) {
      over = "wireguard";
      if (a && b && a->transport && b->transport) {
        over += " " + a->transport->ToString() + " <-> " + b->transport->ToString();
      }
    }
    tunnels.Row({std::to_string(t.vni), t.a, t.InterfaceName(), t.b, t.InterfaceName(),
                 std::string(net::FamilyName(t.family)), underlay, over});
  }
  if (v.tunnels.empty()) {
    out << "no tunnels (a VPC needs two members for a tunnel)\n";
  } else {
    tunnels.Print(out);
  }
}

}  // namespace

Status VpcInit(Context& ctx, const VpcInitOptions& o) {
  Problems problems;
  problems.Add(model::ValidateVpcName(o.name));
  alloc::VpcSpec spec;
  spec.name = o.name;
  auto cidr = net::Cidr::Parse(o.peer_network);
  problems.Add(cidr);
  if (cidr) spec.peer_network = *cidr;
  auto family = model::ParseFamilyPref(o.family);
  problems.Add(family);
  if (family) spec.family = *family;
  if (!o.mtu.empty()) {
    auto v = ParseUint(o.mtu, 65535);
    if (!v) {
      problems.Add(UsageError("invalid MTU " + Quoted(o.mtu) + ": must be 576-9216"));
    } else {
      spec.mtu = static_cast<int>(*v);
      if (cidr) {
        problems.Add(alloc::CheckMtu(*spec.mtu, cidr->family(), "VPC " + Quoted(o.name)));
      }
    }
  }
  problems.Add(model::ValidatePortText(o.port));
  spec.port = static_cast<int>(ParseUint(o.port, 65535).value_or(0));
  spec.max_jails = ParseCount(o.max_jails, "--max-jails", problems);
  spec.max_vms = ParseCount(o.max_vms, "--max-vms", problems);
  if (o.plain && o.encrypted) {
    problems.Add(
        UsageError("--plain and --encrypted contradict each other: a VPC is encrypted "
                   "(the default) or plain"));
  }
  spec.encrypted = !o.plain;
  bool all = o.members == "all";
  std::set<std::string> seen;
  if (o.members.empty()) problems.Add(UsageError("--members needs `all` or a list of nodes"));
  if (!all && !o.members.empty()) {
    for (const auto& m : Split(o.members, ',')) {
      auto st = model::ValidateNodeName(m);
      problems.Add(st);
      if (!st.ok()) continue;
      if (!seen.insert(m).second) {
        problems.Add(UsageError("member " + Quoted(m) + " is given twice"));
        continue;
      }
      spec.members.push_back(m);
    }
  }
  VPC_TRY(problems.ToStatus());

  VPC_ASSIGN_OR_RETURN(auto s, Session::Write(ctx));
  if (all) {
    for (const auto& n : s->fabric.nodes) spec.members.push_back(n.name);
  }
  VPC_ASSIGN_OR_RETURN(uint32_t id, s->store().NextVpcId());
  model::Fabric next = s->fabric;
  VPC_TRY(alloc::CreateVpc(next, spec, id));
  const model::Vpc& v = *next.FindVpc(spec.name);
  VPC_TRY(CheckNetworks(next, v));
  if (spec.mtu && *spec.mtu > alloc::DerivedMtu(next, v)) {
    ctx.io.Warn("MTU " + std::to_string(*spec.mtu) + " is above the " +
                std::to_string(alloc::DerivedMtu(next, v)) +
                " that the members' underlay carries without fragmentation");
  }
  VPC_TRY(SaveChangedNodes(*s, next));
  VPC_TRY(s->store().SaveVpc(v));
  VPC_TRY(s->Commit());
  if (o.json) {
    next.generation = s->fabric.generation;
    auto j = VpcJson(next, v);
    j["generation"] = next.generation;
    PrintJson(ctx.io.out, j);
    return {};
  }
  PrintVpc(ctx.io.out, next, v);
  return {};
}

Status VpcList(Context& ctx, bool json) {
  VPC_ASSIGN_OR_RETURN(auto s, Session::Read(ctx));
  if (json) {
    nlohmann::json vpcs = nlohmann::json::array();
    for (const auto& v : s->fabric.vpcs) vpcs.push_back(VpcSummaryJson(v));
    PrintJson(ctx.io.out, {{"vpcs", vpcs}, {"generation", s->fabric.generation}});
    return {};
  }
  Table t({"NAME", "MODE", "PEER NETWORK", "MTU", "PORT", "MEMBERS", "TUNNELS"});
  for (const auto& v : s->fabric.vpcs) {
    std::vector<std::string> names;
    for (const auto& m : v.members) names.push_back(m.node);
    t.Row({v.name, v.encrypted ? "encrypted" : "plain", v.peer_network.ToString(),
           std::to_string(v.mtu), std::to_string(v.port), names.empty() ? "-" : Join(names, ","),
           std::to_string(v.tunnels.size())});
  }
  t.Print(ctx.io.out);
  return {};
}

Status VpcShow(Context& ctx, const std::string& name, bool json) {
  VPC_TRY(model::ValidateVpcName(name));
  VPC_ASSIGN_OR_RETURN(auto s, Session::Read(ctx));
  const model::Vpc* v = s->fabric.FindVpc(name);
  if (!v) return UsageError("unknown VPC " + Quoted(name) + " (see `vpcctl vpc list`)");
  if (json) {
    auto j = VpcJson(s->fabric, *v);
    j["generation"] = s->fabric.generation;
    PrintJson(ctx.io.out, j);
  } else {
    PrintVpc(ctx.io.out, s->fabric, *v);
  }
  return {};
}

namespace {

// The member commands' first stages: both names valid, the state lock and the command's
// transaction, then the fabric as `change` (the allocator's AddMember or RemoveMember) leaves it.
struct MemberChange {
  std::unique_ptr<Session> session;
  model::Fabric next;
};
using MemberChangeFn = Status (*)(model::Fabric&, const std::string&, const std::string&);
Result<MemberChange> ChangeMember(Context& ctx, const std::string& vpc, const std::string& node,
                                  MemberChangeFn change) {
  Problems problems;
  problems.Add(model::ValidateVpcName(vpc));
  problems.Add(model::ValidateNodeName(node));
  VPC_TRY(problems.ToStatus());
  VPC_ASSIGN_OR_RETURN(auto s, Session::Write(ctx));
  model::Fabric next = s->fabric;
  VPC_TRY(change(next, vpc, node));
  return MemberChange{std::move(s), std::move(next)};
}

}  // namespace

Status VpcMemberAdd(Context& ctx, const std::string& vpc, const std::string& node, bool json) {
  VPC_ASSIGN_OR_RETURN(MemberChange c, ChangeMember(ctx, vpc, node, alloc::AddMember));
  auto& s = c.session;
  const model::Fabric& next = c.next;
  const model::Vpc& v = *next.FindVpc(vpc);
  VPC_TRY(CheckNetworks(next, v));
  VPC_TRY(SaveChangedNodes(*s, next));
  VPC_TRY(s->store().SaveVpc(v));
  VPC_TRY(s->Commit());
  const model::Member* m = v.FindMember(node);
  size_t tunnels = 0;
  for (const auto& t : v.tunnels) tunnels += t.Has(node) ? 1 : 0;
  if (json) {
    PrintJson(ctx.io.out, {{"vpc", vpc},
                           {"node", node},
                           {"overlay", m->overlay.ToString()},
                           {"new_tunnels", tunnels},
                           {"mtu", v.mtu},
                           {"generation", s->fabric.generation}});
    return {};
  }
  ctx.io.out << "added " << node << " to " << vpc << ": overlay " << m->overlay.ToString() << ", "
             << tunnels << " new tunnel" << (tunnels == 1 ? "" : "s") << ", mtu " << v.mtu << "\n";
  return {};
}

Status VpcMemberRemove(Context& ctx, const std::string& vpc, const std::string& node, bool json) {
  VPC_ASSIGN_OR_RETURN(MemberChange c, ChangeMember(ctx, vpc, node, alloc::RemoveMember));
  auto& s = c.session;
  const model::Vpc& v = *c.next.FindVpc(vpc);
  VPC_TRY(s->store().SaveVpc(v));
  // The next deploy of the VPC also reaches the departed node, to remove its tunnels there.
  VPC_TRY(s->store().AddCleanup(vpc, node));
  VPC_TRY(s->Commit());
  if (json) {
    PrintJson(ctx.io.out,
              {{"vpc", vpc}, {"node", node}, {"mtu", v.mtu}, {"generation", s->fabric.generation}});
    return {};
  }
  ctx.io.out << "removed " << node << " from " << vpc << " (mtu " << v.mtu
             << "); `vpcctl vpc deploy " << vpc << "` removes its tunnels on every node\n";
  return {};
}

Status VpcDelete(Context& ctx, const std::string& name, bool json) {
  VPC_TRY(model::ValidateVpcName(name));
  VPC_ASSIGN_OR_RETURN(auto s, Session::Write(ctx));
  const model::Vpc* v = s->fabric.FindVpc(name);
  if (!v) return UsageError("unknown VPC " + Quoted(name) + " (see `vpcctl vpc list`)");
  // Hosts keep the VPC's interfaces; the next `vpcctl deploy` removes them.
  std::vector<std::string> cleanups;  // nodes the next deploy removes the VPC from
  for (const auto& m : v->members) cleanups.push_back(m.node);
  for (const auto& vip : v->vips)  // a witness drops the VIP's lease
    if (!vip.witness.empty()) cleanups.push_back(vip.witness);
  for (const auto& node : cleanups) VPC_TRY(s->store().AddCleanup(name, node));
  VPC_TRY(s->store().DeleteVpc(name));
  VPC_TRY(s->Commit());
  if (json) {
    PrintJson(ctx.io.out,
              {{"vpc", name}, {"cleanups", cleanups}, {"generation", s->fabric.generation}});
    return {};
  }
  ctx.io.out << "deleted VPC " << name << " from the local database; its interfaces stay on the "
             << "hosts until `vpcctl deploy` (or use `vpcctl vpc destroy`)\n";
  return {};
}

namespace {

std::string QuotaText(const std::optional<int>& q) {
  return q ? std::to_string(*q) : std::string("none");
}

// What changed, as "what old -> new" for each field.
std::vector<std::string> VpcChanges(const model::Vpc& a, const model::Vpc& b) {
  std::vector<std::string> out;
  auto mtu = [](const model::Vpc& v) {
    return std::to_string(v.mtu) + (v.mtu_fixed ? " (fixed)" : " (derived)");
  };
  AddChange(out, "mtu", mtu(a), mtu(b));
  AddChange(out, "port", std::to_string(a.port), std::to_string(b.port));
  AddChange(out, "max-jails", QuotaText(a.max_jails), QuotaText(b.max_jails));
  AddChange(out, "max-vms", QuotaText(a.max_vms), QuotaText(b.max_vms));
  return out;
}

// The options as a change, every bad value named.
alloc::VpcChange ChangeOf(const VpcSetOptions& o, Problems& problems) {
  alloc::VpcChange c;
  problems.Add(model::ValidateVpcName(o.name));
  if (o.mtu == "auto") {
    c.mtu = 0;
  } else if (!o.mtu.empty()) {
    auto v = ParseUint(o.mtu, 65535);
    if (!v) {
      problems.Add(UsageError("invalid MTU " + Quoted(o.mtu) + ": must be 576-9216, or auto"));
    } else {
      c.mtu = static_cast<int>(*v);
    }
  }
  if (!o.port.empty()) {
    problems.Add(model::ValidatePortText(o.port));
    if (auto p = ParseUint(o.port, 65535)) c.port = static_cast<int>(*p);
  }
  c.max_jails = ParseCount(o.max_jails, "--max-jails", problems);
  c.max_vms = ParseCount(o.max_vms, "--max-vms", problems);
  if (o.mtu.empty() && o.port.empty() && o.max_jails.empty() && o.max_vms.empty()) {
    problems.Add(UsageError("nothing to set: give --mtu, --port, --max-jails or --max-vms"));
  }
  return c;
}

}  // namespace

// Pipeline: the options as a change (pure), applied to a copy of the fabric by alloc::SetVpc
// (the MTU checked against the peer network), saved in one transaction, rendered.
Status VpcSet(Context& ctx, const VpcSetOptions& o) {
  Problems problems;
  alloc::VpcChange change = ChangeOf(o, problems);
  VPC_TRY(problems.ToStatus());
  VPC_ASSIGN_OR_RETURN(auto s, Session::Write(ctx));
  model::Fabric next = s->fabric;
  VPC_TRY(alloc::SetVpc(next, o.name, change));
  const model::Vpc& after = *next.FindVpc(o.name);
  std::vector<std::string> changes = VpcChanges(*s->fabric.FindVpc(o.name), after);
  VPC_TRY(s->store().SaveVpc(after));
  VPC_TRY(s->Commit(!changes.empty()));
  PrintUpdated(ctx.io.out, o.json, VpcJson(next, after), "VPC " + o.name, changes,
               s->fabric.generation);
  if (!o.json && !changes.empty()) {
    ctx.io.Info("nothing was renumbered; `vpcctl vpc deploy " + o.name +
                "` applies it (the tunnels are made again where the port or MTU changed)");
  }
  return {};
}

}  // namespace vpcctl::fabric
