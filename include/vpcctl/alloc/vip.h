// Virtual IPs: validation of a new VIP against its VPC, and their removal. Pure, like alloc.h:
// the fabric is changed completely or not at all.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/model/fabric.h"

namespace vpcctl::alloc {

struct VipSpec {
  std::string vpc;
  std::string address;
  int vhid = 0;
  std::vector<std::string> nodes;
  std::string secret;
  std::optional<int> advert_ms;  // default: 100 ms (Linux), 1 s (FreeBSD: CARP counts in seconds)
  bool preempt = true;
};

// Every rule at once: vhid 1-255 and unused in the VPC; an address of the peer network's family,
// not an overlay address or another VIP; two or more member nodes, all FreeBSD or all Linux; a
// valid secret; an advert interval the platform supports; on FreeBSD, one preempt setting per node
// (CARP's is host-wide).
Status AddVip(model::Fabric& fabric, const VipSpec& spec);
Status RemoveVip(model::Fabric& fabric, const std::string& vpc, int vhid);

}  // namespace vpcctl::alloc
