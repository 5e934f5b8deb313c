// The fabric map: the JSON document (schema/fabric-map.schema.json) the controller pushes to every
// member. Serialising is pure; parsing validates every field and every invariant, so that a node
// never acts on a map it could not have been sent by a correct controller.
#pragma once

#include <string>
#include <string_view>

#include "vpcctl/base/result.h"
#include "vpcctl/model/fabric.h"

namespace vpcctl::model {

// Format 2 added encrypted VPCs (transport network, transport addresses, WireGuard public keys);
// format 3 VIP leases (lease_ms, check, witness, unsafe_two_node). Older formats are still read,
// with the defaults (a VIP of a two-member VPC in them is read as unsafe_two_node: what it was).
inline constexpr int kMapFormat = 3;

struct Map {
  std::string fabric_id;   // 32 hex digits, set by `vpcctl init` on the controller
  std::string controller;  // the controller's node name
  Fabric fabric;           // nodes (without SSH details) and VPCs; fabric.generation
  // The controller's epoch: 0, then one more at each `state restore` (a new controller). Nodes
  // refuse a map of an earlier epoch, whatever its generation.
  uint64_t epoch = 0;
};

// VIP secrets are written only with `include_secrets` (what deploy sends); otherwise they read
// "(redacted)", which ParseMap refuses. With `for_node`, only the secrets of the VIP groups that
// node is in (see InVipGroup) are written; the others are null (withheld), and ParseMap reads
// them as empty.
std::string MapToJson(const Map& m, bool include_secrets = false, std::string_view for_node = {});
inline constexpr const char* kRedacted = "(redacted)";

// True when `node` takes part in the VIP's lease: every member of its VPC is an acceptor, and so is
// its witness. These nodes hold the VIP's secret.
bool InVipGroup(const Vpc& vpc, const Vip& vip, std::string_view node);
// How many acceptors the VIP's lease has: the VPC's members and its witness.
size_t VipAcceptors(const Vpc& vpc, const Vip& vip);

// Parses and validates a map document; the error names the first bad field.
Result<Map> ParseMap(std::string_view json);

// The fabric's invariants: valid names, unique nodes/VPCs/underlays, members are nodes, overlay
// addresses inside the peer network and unique, one tunnel per pair of members with a
// fabric-unique VNI in its underlay family, MTU and port in range.
Status ValidateFabric(const Fabric& f);

// A VIP's lease settings in its VPC: lease bounds, check grammar, a witness that is a node
// outside the VPC reaching every member in its underlay family, and two acceptors only when
// unsafe_two_node. `where` prefixes the message ("VPC 'vpc1' VIP 10.0.0.9").
Status ValidateVipLease(const Fabric& f, const Vpc& v, const Vip& vip, const std::string& where);
// A witness for a VIP of `v` (UsageError naming it).
Status ValidateWitness(const Fabric& f, const Vpc& v, const std::string& witness);

// A transport network leaves room for nodes (/30 or wider for IPv4, /126 for IPv6).
Status ValidateTransportNetwork(const net::Cidr& network);
// True when the two networks share an address.
bool Overlaps(const net::Cidr& a, const net::Cidr& b);

}  // namespace vpcctl::model
