// vpcctl node add/list/show/remove on the controller's database.
#include <ostream>

#include "vpcctl/base/text.h"
#include "vpcctl/fabric/format.h"
#include "vpcctl/fabric/ops.h"
#include "vpcctl/model/names.h"

namespace vpcctl::fabric {

namespace {

// Parses --underlay values (at most one per family); with none, ADDRESS itself when it is an IP.
void ParseUnderlay(const NodeAddOptions& o, model::Node& node, Problems& problems) {
  std::vector<std::string> given = o.underlay;
  if (given.empty()) {
    if (!net::IpAddress::Parse(o.address).ok()) {
      problems.Add(UsageError("address " + Quoted(o.address) +
                              " is a name, not an IP address; give the node's underlay addresses "
                              "with --underlay"));
      return;
    }
    given.push_back(o.address);
  }
  for (const auto& text : given) {
    auto a = net::IpAddress::Parse(text);
    if (!a) {
      problems.Add(UsageError("invalid underlay address " + Quoted(text)));
      continue;
    }
    if (a->IsMulticast() || a->IsUnspecified()) {
      problems.Add(UsageError("invalid underlay address " + Quoted(text) +
                              ": must be a unicast address"));
      continue;
    }
    auto& slot = a->is_v4() ? node.underlay4 : node.underlay6;
    if (slot) {
      problems.Add(UsageError("two " + std::string(net::FamilyName(a->family())) +
                              " underlay addresses given (" + slot->ToString() + ", " +
                              a->ToString() + "): a node has at most one of each family"));
      continue;
    }
    slot = *a;
  }
}

// Refuses a node whose name, SSH endpoint or underlay address another node already has.
void CheckUnique(const model::Fabric& f, const model::Node& node, Problems& problems) {
  for (const auto& other : f.nodes) {
    if (other.name == node.name) {
      problems.Add(UsageError("node " + Quoted(node.name) + " already exists"));
      continue;
    }
    if (other.ssh_host == node.ssh_host && other.ssh_port == node.ssh_port) {
      problems.Add(UsageError("address " + node.ssh_host + " port " +
                              std::to_string(node.ssh_port) + " is already node " +
                              Quoted(other.name)));
    }
    for (const auto* a : {&node.underlay4, &node.underlay6}) {
      if (*a && (*a == other.underlay4 || *a == other.underlay6)) {
        problems.Add(UsageError("underlay address " + (*a)->ToString() +
                                " already belongs to node " + Quoted(other.name)));
      }
    }
  }
}

}  // namespace

Status NodeAdd(Context& ctx, const NodeAddOptions& o) {
  Problems problems;
  problems.Add(model::ValidateNodeName(o.name));
  problems.Add(model::ValidateHost(o.address));
  problems.Add(model::ValidatePortText(o.port));
  problems.Add(model::ValidateUserName(o.user));
  model::Node node;
  node.name = o.name;
  node.ssh_host = o.address;
  if (auto a = net::IpAddress::Parse(o.address)) node.ssh_host = a->ToString();
  node.ssh_port = static_cast<int>(ParseUint(o.port, 65535).value_or(22));
  node.ssh_user = o.user;
  node.use_sudo = o.user != "root";
  ParseUnderlay(o, node, problems);
  if (!o.mtu.empty()) {
    auto v = ParseUint(o.mtu, 65535);
    if (!v || *v < 576) {
      problems.Add(UsageError("invalid MTU " + Quoted(o.mtu) + ": must be 576-65535"));
    } else {
      node.mtu = static_cast<int>(*v);
    }
  }
  if (!o.no_connect) {
    problems.Add(UsageError("node add without --no-connect needs SSH enrolment; give --no-connect "
                            "--platform linux|freebsd to register the node without contacting it"));
  } else if (o.platform.empty()) {
    problems.Add(UsageError("--no-connect needs --platform linux|freebsd (it cannot be detected "
                            "without connecting)"));
  } else {
    auto p = model::ParsePlatform(o.platform);
    problems.Add(p);
    if (p) node.platform = *p;
  }
  VPC_TRY(problems.ToStatus());

  VPC_ASSIGN_OR_RETURN(auto s, Session::Write(ctx));
  CheckUnique(s->fabric, node, problems);
  VPC_TRY(problems.ToStatus());
  VPC_TRY(s->store().SaveNode(node));
  VPC_TRY(s->Commit());
  ctx.io.out << "added node " << node.name << " (" << model::PlatformName(node.platform)
             << ", ssh " << SshText(node) << ", underlay " << UnderlayText(node) << ", mtu " << node.mtu << ")\n";
  return {};
}

Status NodeList(Context& ctx, bool json) {
  VPC_ASSIGN_OR_RETURN(auto s, Session::Read(ctx));
  if (json) {
    nlohmann::json nodes = nlohmann::json::array();
    for (const auto& n : s->fabric.nodes) nodes.push_back(NodeJson(n));
    PrintJson(ctx.io.out, {{"nodes", nodes}, {"generation", s->fabric.generation}});
    return {};
  }
  Table t({"NAME", "PLATFORM", "SSH", "UNDERLAY", "MTU", "HOST KEY", "LAST CHECK"});
  for (const auto& n : s->fabric.nodes) {
    t.Row({n.name + (n.is_local ? " (local)" : ""), std::string(model::PlatformName(n.platform)),
           SshText(n), UnderlayText(n), std::to_string(n.mtu), FingerprintText(n),
           n.last_check.empty() ? "-" : n.last_check});
  }
  t.Print(ctx.io.out);
  return {};
}

Status NodeShow(Context& ctx, const std::string& name, bool json) {
  VPC_TRY(model::ValidateNodeName(name));
  VPC_ASSIGN_OR_RETURN(auto s, Session::Read(ctx));
  const model::Node* n = s->fabric.FindNode(name);
  if (!n) return UsageError("unknown node " + Quoted(name) + " (see `vpcctl node list`)");
  std::vector<std::string> vpcs;
  for (const auto& v : s->fabric.vpcs)
    if (v.HasMember(name)) vpcs.push_back(v.name);
  if (json) {
    auto j = NodeJson(*n);
    j["vpcs"] = vpcs;
    PrintJson(ctx.io.out, j);
    return {};
  }
  auto& out = ctx.io.out;
  out << "name:         " << n->name << (n->is_local ? " (local)" : "") << "\n"
      << "platform:     " << model::PlatformName(n->platform) << "\n"
      << "ssh:          " << SshText(*n) << (n->use_sudo ? " (commands through sudo -n)" : "") << "\n"
      << "underlay:     " << UnderlayText(*n) << "\n"
      << "mtu:          " << n->mtu << "\n"
      << "host key:     " << FingerprintText(*n) << "\n"
      << "vpcctl:       " << (n->remote_version.empty() ? "-" : n->remote_version)
      << (n->remote_vpcctl.empty() ? "" : " at " + n->remote_vpcctl) << "\n"
      << "last check:   " << (n->last_check.empty() ? "-" : n->last_check) << "\n"
      << "vpcs:         " << (vpcs.empty() ? "-" : Join(vpcs, ", ")) << "\n";
  return {};
}

Status NodeRemove(Context& ctx, const std::string& name, bool /*force*/) {
  VPC_TRY(model::ValidateNodeName(name));
  VPC_ASSIGN_OR_RETURN(auto s, Session::Write(ctx));
  const model::Node* n = s->fabric.FindNode(name);
  if (!n) return UsageError("unknown node " + Quoted(name) + " (see `vpcctl node list`)");
  if (n->is_local) {
    return UsageError("node " + Quoted(name) + " is this node; it cannot be removed");
  }
  Problems problems;
  for (const auto& v : s->fabric.vpcs) {
    if (v.HasMember(name)) {
      problems.Add(UsageError("node " + Quoted(name) + " is a member of VPC " + Quoted(v.name) +
                              "; run `vpcctl vpc member remove " + v.name + " " + name +
                              "` first"));
    }
  }
  VPC_TRY(problems.ToStatus());
  VPC_TRY(s->store().DeleteNode(name));
  VPC_TRY(s->Commit());
  ctx.io.out << "removed node " << name << "\n";
  return {};
}

}  // namespace vpcctl::fabric
