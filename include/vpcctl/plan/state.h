// Desired and observed interface state of one node. Both are plain values: the desired state is
// computed from the fabric (pure), the observed state is parsed from probe output by a platform
// driver (pure); plan/diff.h turns the pair into steps.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/model/fabric.h"
#include "vpcctl/net/ip.h"

namespace vpcctl::plan {

// Interfaces vpcctl creates carry this marker (FreeBSD description, Linux ifalias) followed by
// the VPC name: "vpcctl:vpc1".
inline constexpr std::string_view kOwnerPrefix = "vpcctl:";
std::string OwnerTag(std::string_view vpc);
// The VPC named by an owner tag, or empty when the tag is not ours.
std::string_view OwnerVpc(std::string_view tag);

struct DesiredTunnel {
  std::string ifname;  // vx<VNI>
  uint32_t vni = 0;
  net::IpAddress local;
  net::IpAddress remote;
  int port = model::kDefaultVxlanPort;
  std::string peer;  // the node at the other end
};

struct DesiredVpc {
  std::string vpc;     // VPC name = bridge name
  uint32_t vpc_id = 0;
  int mtu = 0;
  net::IfAddress address;  // this node's overlay address, on the bridge
  std::vector<DesiredTunnel> tunnels;
  std::vector<net::IpAddress> keep_addresses;  // addresses others manage on the bridge (VIPs)
};

struct Desired {
  std::string node;
  model::Platform platform = model::Platform::kLinux;
  std::vector<DesiredVpc> vpcs;
};

// The node's part of the fabric: every VPC it is a member of (or just `only_vpc`).
Result<Desired> DesiredFor(const model::Fabric& fabric, std::string_view node,
                           std::string_view only_vpc = {});

enum class IfKind { kOther, kVxlan, kBridge };

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
  // bridge membership of this interface
  std::string master;
  bool isolated = false;  // Linux isolated / FreeBSD private
  std::vector<net::IfAddress> addresses;
};

struct Observed {
  std::vector<ObservedInterface> interfaces;
  const ObservedInterface* Find(std::string_view name) const;
  ObservedInterface* Find(std::string_view name);
};

}  // namespace vpcctl::plan
