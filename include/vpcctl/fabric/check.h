// `vpcctl node check`: each node's reachability, host key, authentication and remote vpcctl.
#pragma once

#include <string>

#include "vpcctl/base/result.h"
#include "vpcctl/fabric/context.h"

namespace vpcctl::fabric {

struct NodeCheckOptions {
  std::vector<std::string> names;  // empty: every node
  std::string timeout = "5";
  bool json = false;
};
// Reachability, host key, authentication, remote vpcctl and round trip of each node, in parallel.
Status NodeCheck(Context& ctx, const NodeCheckOptions& o);

}  // namespace vpcctl::fabric
