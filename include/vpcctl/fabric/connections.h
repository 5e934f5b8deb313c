// `vpcctl connections`: the SSH sessions the keeper holds for this controller.
#pragma once

#include <chrono>

#include "vpcctl/base/result.h"
#include "vpcctl/fabric/context.h"

namespace vpcctl::fabric {

// The session keeper of this controller (ssh/keeper.h): serve (what --persist starts), list what
// it holds, close its sessions and stop it.
Status ConnectionsServe(Context& ctx, std::chrono::milliseconds idle);
Status ConnectionsList(Context& ctx, bool json);
Status ConnectionsClose(Context& ctx);

}  // namespace vpcctl::fabric
