// `vpcctl vipd`: the per-node VIP daemon. It runs the lease (lease.h) of every VIP in
// <state>/vipd.json over UDP (wire.h), fences the addresses (fence.h), runs service checks,
// records transitions (vip-event hooks) and answers on a control socket. Started, reloaded
// (SIGHUP) and stopped by `apply --local`; SIGTERM hands every held lease over before it exits.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "vpcctl/base/result.h"
#include "vpcctl/fabric/context.h"
#include "vpcctl/vipd/config.h"

namespace vpcctl::vipd {

// Runs until SIGTERM or SIGINT.
Status RunDaemon(fabric::Context& ctx);

// One request to the running vipd over its control socket, and its answer.
Result<nlohmann::json> Ask(const std::string& state_dir, const nlohmann::json& request,
                           std::chrono::milliseconds timeout);

// `vip-take VPC VHID`: asks this node's vipd to take the VIP's lease from its holder now, and
// waits until it holds it (exit 5 when it does not within `timeout`).
Status VipTake(fabric::Context& ctx, const std::string& vpc, int vhid, bool json,
               std::chrono::milliseconds timeout);

}  // namespace vpcctl::vipd
