// `vpcctl plan` and `vpcctl render rc.conf`: what a node would run, rendered by its platform
// driver.
#pragma once

#include <string>

#include "vpcctl/base/result.h"
#include "vpcctl/fabric/context.h"

namespace vpcctl::fabric {

struct PlanOptions {
  std::string vpc;
  std::string node;  // empty: the local node
  bool json = false;
  bool show_secrets = false;
};
// The commands that build the node's part of the VPC from nothing.
Status Plan(Context& ctx, const PlanOptions& o);
// FreeBSD rc.conf lines for every VPC of the node.
Status RenderRcConf(Context& ctx, const std::string& node, bool show_secrets);

}  // namespace vpcctl::fabric
