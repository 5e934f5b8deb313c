// Guests on VPC bridges: a FreeBSD vnet jail (epair), a bhyve or QEMU VM (tap), a Linux network
// namespace (veth), or a named tap. Recorded on the node that hosts them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vpcctl/base/result.h"
#include "vpcctl/model/fabric.h"
#include "vpcctl/net/ip.h"

namespace vpcctl::model {

enum class GuestKind { kJail, kVm, kNetns, kTap };
std::string_view GuestKindName(GuestKind k);  // "jail", "vm", "netns", "tap"
Result<GuestKind> ParseGuestKind(std::string_view text);
// Jails and namespaces count against --max-jails, VMs and taps against --max-vms.
bool CountsAsJail(GuestKind k);
// Which platforms can host the kind: jail FreeBSD, netns Linux, vm and tap both.
bool Supported(GuestKind k, Platform p);

// jail/vm/netns: [A-Za-z0-9_][A-Za-z0-9_.-]{0,63}; tap: an interface name, [a-z][a-z0-9_.]{0,14}
// (on FreeBSD tapN).
Status ValidateGuestName(GuestKind k, std::string_view name, Platform p);

struct Attachment {
  int64_t id = 0;
  std::string vpc;
  GuestKind kind = GuestKind::kNetns;
  std::string guest;
  std::string ifname;  // host side, on the bridge
  std::string inside;  // guest side
  std::optional<net::MacAddress> mac;
  std::optional<net::IfAddress> address;
  std::string created;
};

// The marker on a guest's host-side interface: "vpcctl-guest:vpc1:netns:blue".
std::string GuestTag(const Attachment& a);
inline constexpr std::string_view kGuestPrefix = "vpcctl-guest:";

}  // namespace vpcctl::model
