#include "vpcctl/alloc/vip.h"

#include <algorithm>
#include <set>

#include "vpcctl/base/text.h"
#include "vpcctl/model/names.h"

namespace vpcctl::alloc {

using model::Platform;

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
  std::set<std::string> seen;
  std::set<Platform> platforms;
  for (const auto& n : spec.nodes) {
    if (!seen.insert(n).second) {
      bad("node " + Quoted(n) + " is listed twice in --nodes");
      continue;
    }
    const model::Node* node = fabric.FindNode(n);
    if (!node) {
      bad("unknown node " + Quoted(n));
    } else if (!vpc->HasMember(n)) {
      bad("node " + Quoted(n) + " is not a member of VPC " + Quoted(vpc->name));
    } else {
      platforms.insert(node->platform);
    }
  }
  if (spec.nodes.size() < 2) bad("a VIP needs at least two nodes to fail over between");
  if (spec.nodes.size() > model::kMaxVipNodes) {
    bad("a VIP group holds at most " + std::to_string(model::kMaxVipNodes) + " nodes");
  }
  if (platforms.size() > 1) {
    bad("the VIP group mixes FreeBSD and Linux nodes; CARP and VRRP cannot share a VIP, so a "
        "group is all FreeBSD or all Linux");
  }
  if (auto st = model::ValidateSecret(spec.secret); !st.ok()) problems.push_back(st.error());
  bool freebsd = platforms.count(Platform::kFreeBSD) > 0;
  int advert = spec.advert_ms.value_or(freebsd ? 1000 : model::kDefaultAdvertMs);
  if (freebsd) {
    if (advert < 1000 || advert > 255000 || advert % 1000 != 0) {
      bad("invalid --advert " + std::to_string(advert) +
          " for a FreeBSD group: CARP advertises in whole seconds (1000-255000 ms)");
    }
    // CARP's preempt switch is a sysctl of the whole host.
    for (const auto& other : fabric.vpcs) {
      for (const auto& v : other.vips) {
        for (const auto& n : v.nodes) {
          if (v.preempt != spec.preempt && seen.count(n)) {
            bad("node " + Quoted(n) + " already holds VIP " + v.address.ToString() +
                (v.preempt ? " with" : " without") +
                " preemption; CARP's preempt setting is host-wide on FreeBSD");
          }
        }
      }
    }
  } else if (advert < 10 || advert > 40950 || advert % 10 != 0) {
    bad("invalid --advert " + std::to_string(advert) +
        ": VRRPv3 advertises every 10-40950 ms, in steps of 10");
  }
  if (!problems.empty()) {
    std::vector<std::string> lines;
    for (const auto& e : problems) lines.push_back(e.message);
    return UsageError(Join(lines, "\n"));
  }
  model::Vip vip;
  vip.address = *addr;
  vip.vhid = spec.vhid;
  vip.nodes = spec.nodes;
  vip.secret = spec.secret;
  vip.advert_ms = advert;
  vip.preempt = spec.preempt;
  vpc->vips.push_back(std::move(vip));
  std::sort(vpc->vips.begin(), vpc->vips.end(),
            [](const model::Vip& a, const model::Vip& b) { return a.vhid < b.vhid; });
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
