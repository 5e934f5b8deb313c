#include "vpcctl/alloc/vip.h"

#include <algorithm>
#include <set>

#include "vpcctl/base/text.h"
#include "vpcctl/model/map.h"
#include "vpcctl/model/names.h"

namespace vpcctl::alloc {

using model::Platform;

namespace {

Status Joined(const std::vector<Error>& problems) {
  if (problems.empty()) return {};
  std::vector<std::string> lines;
  for (const auto& e : problems) lines.push_back(e.message);
  return UsageError(Join(lines, "\n"));
}

std::string Where(const model::Vpc& vpc, const model::Vip& vip) {
  return "VIP " + vip.address.ToString() + " (vhid " + std::to_string(vip.vhid) + ") of " +
         vpc.name;
}

}  // namespace

std::vector<Error> VipGroupProblems(const model::Fabric& fabric, const model::Vpc& vpc,
                                    const model::Vip& vip, bool unsafe_asked) {
  std::vector<Error> problems;
  auto bad = [&](std::string m) { problems.push_back(UsageError(std::move(m))); };
  std::set<std::string> seen;
  std::set<Platform> platforms;
  for (const auto& n : vip.nodes) {
    if (!seen.insert(n).second) {
      bad("node " + Quoted(n) + " is listed twice in --nodes");
      continue;
    }
    const model::Node* node = fabric.FindNode(n);
    if (!node) {
      bad("unknown node " + Quoted(n) + " in --nodes (see `vpcctl node list`)");
    } else if (!vpc.HasMember(n)) {
      bad("node " + Quoted(n) + " is not a member of VPC " + Quoted(vpc.name));
    } else {
      platforms.insert(node->platform);
    }
  }
  if (vip.nodes.size() < 2) bad("a VIP needs at least two nodes to fail over between");
  if (vip.nodes.size() > model::kMaxVipNodes) {
    bad("a VIP group holds at most " + std::to_string(model::kMaxVipNodes) + " nodes");
  }
  if (platforms.size() > 1) {
    bad("the VIP group mixes FreeBSD and Linux nodes; CARP carries a VIP on FreeBSD and the "
        "kernel address on Linux, so a group is all FreeBSD or all Linux");
  }
  bool freebsd = platforms.count(Platform::kFreeBSD) > 0;
  int advert = vip.advert_ms;
  if (freebsd) {
    if (advert < 1000 || advert > 255000 || advert % 1000 != 0) {
      bad("invalid --advert " + std::to_string(advert) +
          " for a FreeBSD group: CARP advertises in whole seconds (1000-255000 ms)");
    }
    // CARP's preempt switch is a sysctl of the whole host.
    for (const auto& other : fabric.vpcs) {
      for (const auto& v : other.vips) {
        if (other.name == vpc.name && v.vhid == vip.vhid) continue;  // this VIP itself
        for (const auto& n : v.nodes) {
          if (v.preempt != vip.preempt && seen.count(n)) {
            bad("node " + Quoted(n) + " already holds VIP " + v.address.ToString() +
                (v.preempt ? " with" : " without") +
                " preemption; CARP's preempt setting is host-wide on FreeBSD");
          }
        }
      }
    }
  } else if (advert < 10 || advert > 40950 || advert % 10 != 0) {
    bad("invalid --advert " + std::to_string(advert) + ": must be 10-40950 ms, in steps of 10");
  }
  if (auto st = model::ValidateLease(vip.lease_ms); !st.ok()) problems.push_back(st.error());
  if (!vip.check.empty()) {
    if (auto st = model::ValidateCheck(vip.check); !st.ok()) problems.push_back(st.error());
  }
  bool witness_ok = true;
  if (!vip.witness.empty()) {
    if (!fabric.FindNode(vip.witness)) {
      witness_ok = false;
      bad("unknown witness " + Quoted(vip.witness) +
          ": not a node of the fabric (see `vpcctl node list`)");
    } else if (auto st = model::ValidateWitness(fabric, vpc, vip.witness); !st.ok()) {
      witness_ok = false;
      problems.push_back(st.error());
    }
  }
  size_t acceptors = vpc.members.size() + (vip.witness.empty() ? 0 : 1);
  if (witness_ok && acceptors == 2 && !vip.unsafe_two_node) {
    bad(Where(vpc, vip) + " would have two acceptors only (the members of " + vpc.name +
        "): under a partition neither side holds a majority, so no node could hold it. Name a "
        "third node outside the VPC with --witness NODE, or accept that each node may hold it "
        "alone (two holders under a partition) with --unsafe-two-node");
  }
  if (witness_ok && unsafe_asked && vip.unsafe_two_node && acceptors != 2) {
    bad("--unsafe-two-node is for a lease of two acceptors; " + Where(vpc, vip) + " has " +
        std::to_string(acceptors) + " (" + std::to_string(vpc.members.size()) + " members" +
        (vip.witness.empty() ? "" : " and witness " + vip.witness) + ")");
  }
  return problems;
}

Status AddVip(model::Fabric& fabric, const VipSpec& spec) {
  model::Vpc* vpc = fabric.FindVpc(spec.vpc);
  if (!vpc) return UsageError("unknown VPC " + Quoted(spec.vpc) + " (see `vpcctl vpc list`)");
  std::vector<Error> problems;
  auto bad = [&](std::string m) { problems.push_back(UsageError(std::move(m))); };
  if (spec.vhid < 1 || spec.vhid > 255) {
    bad("invalid vhid " + std::to_string(spec.vhid) + ": must be 1-255");
  } else if (vpc->FindVip(spec.vhid)) {
    bad("vhid " + std::to_string(spec.vhid) + " is already used in VPC " + Quoted(vpc->name) +
        " (by " + vpc->FindVip(spec.vhid)->address.ToString() + ")");
  }
  auto addr = net::IpAddress::Parse(spec.address);
  if (!addr) {
    bad("invalid VIP address " + Quoted(spec.address));
  } else if (addr->family() != vpc->peer_network.family()) {
    bad("VIP " + addr->ToString() + " is " + std::string(net::FamilyName(addr->family())) +
        ", but VPC " + Quoted(vpc->name) + "'s peer network " + vpc->peer_network.ToString() +
        " is " + std::string(net::FamilyName(vpc->peer_network.family())));
  } else if (addr->IsMulticast() || addr->IsUnspecified()) {
    bad("VIP " + addr->ToString() + " is not a unicast address");
  } else {
    const auto& net = vpc->peer_network;
    if (net.Contains(*addr) && (*addr == net.network() ||
                                (addr->is_v4() && net.prefix() < 31 && *addr == net.Broadcast()))) {
      bad("VIP " + addr->ToString() + " is the network or broadcast address of " + net.ToString());
    }
    for (const auto& m : vpc->members) {
      if (m.overlay == *addr) {
        bad("VIP " + addr->ToString() + " is node " + Quoted(m.node) + "'s overlay address in " +
            vpc->name);
      }
    }
    for (const auto& v : vpc->vips) {
      if (v.address == *addr) {
        bad("VIP " + addr->ToString() + " already exists in " + vpc->name + " (vhid " +
            std::to_string(v.vhid) + ")");
      }
    }
  }
  if (auto st = model::ValidateSecret(spec.secret); !st.ok()) problems.push_back(st.error());
  model::Vip vip;
  if (addr) vip.address = *addr;
  vip.vhid = spec.vhid;
  vip.nodes = spec.nodes;
  vip.secret = spec.secret;
  vip.preempt = spec.preempt;
  vip.lease_ms = spec.lease_ms.value_or(model::kDefaultLeaseMs);
  vip.check = spec.check;
  vip.witness = spec.witness;
  vip.unsafe_two_node = spec.unsafe_two_node;
  // The advert default depends on the group's platform (that of its first known node).
  bool freebsd = false;
  for (const auto& n : spec.nodes) {
    const model::Node* node = fabric.FindNode(n);
    if (node) {
      freebsd = node->platform == Platform::kFreeBSD;
      break;
    }
  }
  vip.advert_ms = spec.advert_ms.value_or(freebsd ? 1000 : model::kDefaultAdvertMs);
  for (auto& e : VipGroupProblems(fabric, *vpc, vip, spec.unsafe_two_node)) {
    problems.push_back(std::move(e));
  }
  VPC_TRY(Joined(problems));
  vpc->vips.push_back(std::move(vip));
  std::sort(vpc->vips.begin(), vpc->vips.end(),
            [](const model::Vip& a, const model::Vip& b) { return a.vhid < b.vhid; });
  return {};
}

Status SetVip(model::Fabric& fabric, const std::string& vpc_name, int vhid,
              const VipChange& change) {
  model::Vpc* vpc = fabric.FindVpc(vpc_name);
  if (!vpc) return UsageError("unknown VPC " + Quoted(vpc_name) + " (see `vpcctl vpc list`)");
  const model::Vip* cur = vpc->FindVip(vhid);
  if (!cur) {
    return UsageError("VPC " + Quoted(vpc_name) + " has no VIP with vhid " + std::to_string(vhid));
  }
  if (change.empty()) return UsageError("nothing to change: give at least one setting");
  model::Vip vip = *cur;
  if (change.nodes) vip.nodes = *change.nodes;
  if (change.advert_ms) vip.advert_ms = *change.advert_ms;
  if (change.preempt) vip.preempt = *change.preempt;
  if (change.lease_ms) vip.lease_ms = *change.lease_ms;
  if (change.check) vip.check = *change.check;
  if (change.witness) {
    vip.witness = *change.witness;
    if (!vip.witness.empty() && !change.unsafe_two_node) vip.unsafe_two_node = false;
  }
  if (change.unsafe_two_node) vip.unsafe_two_node = *change.unsafe_two_node;
  VPC_TRY(Joined(VipGroupProblems(fabric, *vpc, vip, change.unsafe_two_node.value_or(false))));
  for (auto& v : vpc->vips)
    if (v.vhid == vhid) v = std::move(vip);
  return {};
}

Status RemoveVip(model::Fabric& fabric, const std::string& vpc_name, int vhid) {
  model::Vpc* vpc = fabric.FindVpc(vpc_name);
  if (!vpc) return UsageError("unknown VPC " + Quoted(vpc_name));
  if (!vpc->FindVip(vhid)) {
    return UsageError("VPC " + Quoted(vpc_name) + " has no VIP with vhid " + std::to_string(vhid));
  }
  std::erase_if(vpc->vips, [&](const model::Vip& v) { return v.vhid == vhid; });
  return {};
}

}  // namespace vpcctl::alloc
