// What vipd does to a VIP's address on each platform, as argv lists, and the frames that announce
// a newly held address. Pure: daemon.cc runs and sends them.
//
// Linux: the holder adds the address to the bridge with a kernel lifetime of whole seconds
// (`ip addr replace ... valid_lft S preferred_lft S`, IPv6 with nodad) and renews it with the
// lease, so a dead vipd's address expires by itself. FreeBSD: CARP carries the address and its
// virtual MAC; vipd forces the vhid's state (master while it holds the lease, backup otherwise).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "vpcctl/model/fabric.h"
#include "vpcctl/vipd/config.h"
#include "vpcctl/vipd/lease.h"

namespace vpcctl::vipd {

using Argv = std::vector<std::string>;

// The commands of one lease effect for `v` (none for a VIP without a bridge: a witness's).
std::vector<Argv> FenceCommands(model::Platform platform, const VipConfig& v, Action action,
                                int lifetime_s);
// What vipd runs for each of its VIPs when it starts (and when it stops): it holds no lease yet,
// so no address of a VIP may stay held.
std::vector<Argv> ReleaseCommands(model::Platform platform, const VipConfig& v);

using Mac = std::array<uint8_t, 6>;
// A gratuitous ARP request for `ip` from `mac`: the whole Ethernet frame (42 bytes).
std::string GratuitousArp(const Mac& mac, const net::IpAddress& ip);
// An unsolicited neighbour advertisement for `ip` (override flag, target link-layer address
// option): the ICMPv6 message, checksum left to the kernel.
std::string UnsolicitedNa(const Mac& mac, const net::IpAddress& ip);

}  // namespace vpcctl::vipd
