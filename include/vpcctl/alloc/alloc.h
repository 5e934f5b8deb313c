// Allocation of VNIs, overlay addresses and MTUs. Pure: every function takes the fabric as a value
// and either changes it completely or returns an error and leaves it untouched. Allocations are
// sticky: adding or removing a member never renumbers existing tunnels or addresses.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/model/fabric.h"

namespace vpcctl::alloc {

// Underlay family of the pair (a, b): IPv6 when both have an IPv6 underlay (auto), else IPv4;
// the preference forces one. An error when the pair has no usable common family.
Result<net::Family> PairFamily(const model::Node& a, const model::Node& b, model::FamilyPref pref);

// What a VPC's tunnels add to a frame over a pair of `pair` family: VXLAN over the underlay
// (plain), or WireGuard over the underlay plus VXLAN over the transport network (encrypted).
int Overhead(const model::Fabric& fabric, const model::Vpc& vpc, net::Family pair);

// The MTU a VPC derives from its pairs: min over pairs of min(underlay MTUs) - overhead.
// A VPC with one member uses that member's underlay MTU minus its own family's overhead.
int DerivedMtu(const model::Fabric& fabric, const model::Vpc& vpc);

// Gives `node` the lowest free address of the transport network, unless it has one (sticky).
Status AssignTransport(model::Fabric& fabric, const std::string& node);

// MTU bounds: 1280 (IPv6 peer network) or 576 (IPv4) up to 9216.
Status CheckMtu(int mtu, net::Family peer_family, const std::string& context);

struct VpcSpec {
  std::string name;
  net::Cidr peer_network;
  model::FamilyPref family = model::FamilyPref::kAuto;
  std::vector<std::string> members;  // node names, in joining order
  std::optional<int> mtu;            // fixed MTU; derived when absent
  int port = model::kDefaultVxlanPort;
  std::optional<int> max_jails;
  std::optional<int> max_vms;
  bool encrypted = true;  // tunnels inside WireGuard; members get transport addresses
};

// Adds a VPC with its members, tunnels and addresses, and the next unused VPC id.
Status CreateVpc(model::Fabric& fabric, const VpcSpec& spec, uint32_t next_vpc_id);
Status AddMember(model::Fabric& fabric, const std::string& vpc, const std::string& node);
Status RemoveMember(model::Fabric& fabric, const std::string& vpc, const std::string& node);
// What `vpc set` changes of a VPC (absent: kept). An MTU of 0 goes back to the derived one.
struct VpcChange {
  std::optional<int> mtu;
  std::optional<int> port;
  std::optional<int> max_jails;
  std::optional<int> max_vms;
};
// Changes a VPC in place: members, tunnels, VNIs and addresses stay.
Status SetVpc(model::Fabric& fabric, const std::string& vpc, const VpcChange& change);
// Recomputes a VPC's MTU after its members or their underlay changed (no-op when fixed).
Status RefreshMtu(model::Fabric& fabric, const std::string& vpc);

}  // namespace vpcctl::alloc
