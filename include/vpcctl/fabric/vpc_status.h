// vpc status: every member's drift and a matrix of loss, latency and path MTU between overlay
// addresses, VIP leases and guests, from the members' own reports (status --local).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/fabric/context.h"
#include "vpcctl/fabric/deploy.h"
#include "vpcctl/fabric/remote.h"
#include "vpcctl/model/fabric.h"

namespace vpcctl::fabric {

// The controller's view of one VPC, made from the members' answers: what both the text and the
// JSON output are rendered from.
struct VpcStatusView {
  std::string vpc;
  uint64_t generation = 0;
  bool healthy = true;
  std::vector<std::string> members;  // in the VPC's order: the matrix's rows and columns
  nlohmann::json nodes = nlohmann::json::array();  // per answer: node, reached, drift, peers, ...
  std::map<std::string, std::map<std::string, std::string>> cells;  // [from][to] "0% 0.21ms"
  nlohmann::json vips = nlohmann::json::array();
  std::vector<std::string> vip_lines;  // the text output's VIP lines
  std::vector<std::string> guests;     // "h2: netns blue (vg3, 10.100.0.9/24)"
  std::vector<std::string> problems;
};

// Builds the view from the answers of the VPC's members (FanOut of `status --local`). Pure.
VpcStatusView BuildVpcStatus(const model::Fabric& fabric, const model::Vpc& vpc,
                             const std::vector<Answer>& answers);
nlohmann::json VpcStatusJson(const VpcStatusView& v);
void PrintVpcStatus(std::ostream& out, const VpcStatusView& v);

// Asks every member for its status and prints the view. Exit 5 when anything is drifted, down,
// stale or unreachable.
Status VpcStatus(Context& ctx, const std::string& vpc, const FanOutOptions& o);

}  // namespace vpcctl::fabric
