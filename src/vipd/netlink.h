// vipd's own address changes on Linux, through rtnetlink: what `ip addr replace ... valid_lft S
// preferred_lft S` and `ip addr del` do (fence.h gives those commands), without a fork and exec
// (20-35 ms each, measured) on the lease's clock.
#pragma once

#include <string>

#include "vpcctl/base/result.h"
#include "vpcctl/net/ip.h"

namespace vpcctl::vipd {

// lifetime_s 0: permanent.
Status NetlinkReplaceAddress(const std::string& ifname, const net::IpAddress& a, int prefix,
                             int lifetime_s);
// Succeeds when the address is not there (any more).
Status NetlinkDeleteAddress(const std::string& ifname, const net::IpAddress& a, int prefix);

}  // namespace vpcctl::vipd
