// The controller's fan-out: push the map to members (sync), converge them (deploy), tear a VPC
// down (destroy), and gather drift and the overlay health matrix (status). One SSH connection per
// node, all nodes in parallel with bounded concurrency; a slow or dead node costs at most its
// timeouts and never blocks the others.
#pragma once

#include <string>

#include "vpcctl/base/result.h"
#include "vpcctl/fabric/context.h"
#include "vpcctl/fabric/remote.h"

namespace vpcctl::fabric {

struct FanOutOptions {
  std::string timeout = "5";            // connect timeout, seconds
  std::string command_timeout = "300";  // per remote command, seconds
  std::string parallel = "32";           // nodes at once
  bool json = false;
};

// The fan-out limits the options give (exit 2 naming a bad value).
Result<FanOutLimits> ParseFanOutLimits(const FanOutOptions& o);

struct DeployOptions : FanOutOptions {
  std::string vpc;  // empty: every VPC (`vpcctl deploy`)
  bool dry_run = false;
};
// Pushes the map to every member (and to nodes owed a clean-up) and runs `apply --local` there.
// Exit 0 when all converged, 3 when some failed, 4 when all failed.
Status Deploy(Context& ctx, const DeployOptions& o);

// Pushes the map without applying; reports each node's generation before and after.
Status VpcSync(Context& ctx, const std::string& vpc, const FanOutOptions& o);

// Removes the VPC from the fabric and its interfaces from every member.
Status VpcDestroy(Context& ctx, const std::string& vpc, const FanOutOptions& o);

// Rotates a node's WireGuard key: the node makes a new private key (`vpcctl wg-key --rotate`)
// and answers its public key, which is pushed to the node and to every node sharing an
// encrypted VPC with it, all at once.
Status NodeRekey(Context& ctx, const std::string& node, const FanOutOptions& o);

}  // namespace vpcctl::fabric
