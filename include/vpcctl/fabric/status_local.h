// `vpcctl status --local`: this node's drift, its peers' overlay health, VIPs and guests.
#pragma once

#include <cstdint>
#include <string>

#include "vpcctl/base/result.h"
#include "vpcctl/fabric/context.h"

namespace vpcctl::fabric {

// WireGuard drops a session this long after its last handshake (Reject-After-Time); with
// keepalives every 25 s a live pair handshakes at least every two minutes.
inline constexpr int64_t kStaleHandshakeSeconds = 180;

struct StatusLocalOptions {
  std::string vpc;  // empty: every VPC of the node
  bool json = false;
};
// Drift (steps still needed) and a ping of every peer's overlay address through the bridge.
Status StatusLocal(Context& ctx, const StatusLocalOptions& o);

}  // namespace vpcctl::fabric
