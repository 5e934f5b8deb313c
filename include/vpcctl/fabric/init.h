// `vpcctl init`: this machine as the fabric's first node (its key, VNI range, transport), and
// what it shares with enrolment: the local platform and the underlay MTU found on an interface.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/fabric/context.h"
#include "vpcctl/plan/state.h"

namespace vpcctl::fabric {

struct InitOptions {
  std::string name;
  std::vector<std::string> addresses;
  std::string vni_range;          // "LO-HI"; empty: default
  std::string mtu;                // empty: detected from the interface holding the first address
  std::string transport_network;  // empty: model::kDefaultTransportNetwork
  std::string wireguard_port;     // empty: model::kDefaultWgPort
  bool json = false;
};
Status Init(Context& ctx, const InitOptions& o);

// linux or freebsd, from uname.
Result<model::Platform> LocalPlatform(const Context& ctx);

// The MTU of the interface holding `address` in probe output, if any.
std::optional<int> MtuOfAddress(const plan::Observed& observed, const net::IpAddress& address);

// The underlay MTU to record for one detected on the interface holding `where` ("ADDRESS on
// NODE"): above 65535 (Linux `lo` reports 65536) it is clamped to 65535 with a warning naming
// the value; below 576 it is refused.
Result<int> UsableDetectedMtu(Context& ctx, int detected, const std::string& where);

}  // namespace vpcctl::fabric
