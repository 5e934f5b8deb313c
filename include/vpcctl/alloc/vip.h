// Virtual IPs: validation of a new or changed VIP against its VPC, and their removal. Pure, like
// alloc.h: the fabric is changed completely or not at all.
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
  std::vector<std::string> nodes;  // the candidates, preferred first
  std::string secret;
  std::optional<int> advert_ms;  // default: 100 ms (Linux), 1 s (FreeBSD: CARP counts in seconds)
  bool preempt = true;
  std::optional<int> lease_ms;  // default: model::kDefaultLeaseMs
  std::string check;            // empty: none
  std::string witness;          // empty: none
  bool unsafe_two_node = false;
};

// What `vip set` changes; what is not set stays as it is.
struct VipChange {
  std::optional<std::vector<std::string>> nodes;
  std::optional<int> advert_ms;
  std::optional<bool> preempt;
  std::optional<int> lease_ms;
  std::optional<std::string> check;    // "": no check
  std::optional<std::string> witness;  // "": no witness
  // A new witness makes a third acceptor, so it clears unsafe_two_node unless this sets it.
  std::optional<bool> unsafe_two_node;
  bool empty() const {
    return !nodes && !advert_ms && !preempt && !lease_ms && !check && !witness && !unsafe_two_node;
  }
};

// Every rule at once: vhid 1-255 and unused in the VPC; an address of the peer network's family,
// not an overlay address or another VIP; the rules of VipGroupProblems; a valid secret.
Status AddVip(model::Fabric& fabric, const VipSpec& spec);
// Changes the VIP in place under the same rules; nothing changes on error.
Status SetVip(model::Fabric& fabric, const std::string& vpc, int vhid, const VipChange& change);
Status RemoveVip(model::Fabric& fabric, const std::string& vpc, int vhid);

// The rules on a VIP's group, each problem naming the bad value: two or more candidates, all
// members, all FreeBSD or all Linux; an advert interval the platform supports; on FreeBSD, one
// preempt setting per node (CARP's is host-wide); the lease within its bounds; a check of the
// right grammar; a witness that is a fabric node outside the VPC; two acceptors only with
// unsafe_two_node (and unsafe_two_node, when `unsafe_asked`, only with two acceptors).
std::vector<Error> VipGroupProblems(const model::Fabric& fabric, const model::Vpc& vpc,
                                    const model::Vip& vip, bool unsafe_asked);

}  // namespace vpcctl::alloc
