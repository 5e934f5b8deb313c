// A VIP's lease as the controller shows it (`vip show`, `vpc status`), from what the nodes'
// status reports say: each node's view, and the lease they agree on. Pure.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "vpcctl/model/fabric.h"
#include "vpcctl/model/reports.h"

namespace vpcctl::fabric {

// One node's view of the VIP.
struct VipNodeView {
  std::string node;
  int rank = -1;                             // candidate rank in the map; -1: acceptor only
  const model::VipHealth* health = nullptr;  // from its report; null: none (see error)
  std::string error;
};

// The lease the reports tell of: the newest epoch any node saw and its holder, and the nodes
// whose bridge carries the address (more than one: two holders).
struct LeaseSummary {
  std::optional<std::string> holder;
  std::optional<uint64_t> epoch;
  std::optional<int64_t> remaining_ms;  // as the node that reported that epoch saw it
  std::vector<std::string> holding;
};
LeaseSummary SummarizeLease(const std::vector<VipNodeView>& views);

// vipd renews a held lease every fifth of it; a lease round (the round trip to a majority of
// acceptors) that takes longer than that leaves the holder little or no margin. A warning naming
// the slowest node's round and a lease that would fit, or nothing.
std::optional<std::string> ShortLeaseWarning(const std::string& vpc, const model::Vip& v,
                                             const std::vector<VipNodeView>& views);

// "h1 (epoch 42, 1180 ms left)", or "-" when no node's vipd told of a holder.
std::string LeaseText(const LeaseSummary& s);
// The last transition a node recorded: "MASTER at 2026-11-22T01:02:03.456Z", or "-".
std::string LastTransitionText(const model::VipHealth* h);
// The VIP's settings in one line: "lease 1400 ms, check '/usr/bin/true', witness h4, preempt".
std::string VipSettingsText(const model::Vip& v);

nlohmann::json LeaseJson(const LeaseSummary& s);
// A node's view: node, rank (null: acceptor only), holds, lease fields (null when its vipd did not
// answer), last transition, events, error.
nlohmann::json NodeViewJson(const VipNodeView& v);
// One row of the views table: NODE RANK HOLDS LEASE HOLDER EPOCH REMAINING ROUND LAST.
std::vector<std::string> NodeViewHeader();
std::vector<std::string> NodeViewRow(const VipNodeView& v);

}  // namespace vpcctl::fabric
