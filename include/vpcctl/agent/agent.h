// `vpcctl agent`: the node agent. It answers `status --local` from a process that is already
// running, so a `vpc status` costs the node no sshd child, no shell, no vpcctl start-up, and no
// `ip` or `nft` process while the kernel reports no change (listing_cache.h). The controller
// reaches it through the node's sshd as a direct-streamlocal channel to its socket
// (ssh::Connection::Stream), which starts no process on the node either; when the agent cannot be
// reached, the controller runs `vpcctl status --local` over SSH as before. `apply --local` starts
// it on Linux nodes that have a VPC and stops it when they have none, as it does vipd. Its
// socket and protocol: agent/protocol.h.
#pragma once

#include "vpcctl/base/result.h"
#include "vpcctl/fabric/context.h"

namespace vpcctl::agent {

// Serves on SocketPath(ctx.paths.dir) until SIGTERM or SIGINT.
Status RunAgent(fabric::Context& ctx);

}  // namespace vpcctl::agent
