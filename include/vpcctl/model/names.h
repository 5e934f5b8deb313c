// The grammars for every name vpcctl accepts. Everything that reaches a command line (local argv or
// a remote command over SSH) has passed one of these first.
#pragma once

#include <string>
#include <string_view>

#include "vpcctl/base/result.h"

namespace vpcctl::model {

// [a-z][a-z0-9-]{0,31}
Status ValidateNodeName(std::string_view name);
// [a-z][a-z0-9]{0,11}, and not a name a kernel interface cloner owns (vx12, bridge0, lo, ...),
// because the VPC's bridge is named after it.
Status ValidateVpcName(std::string_view name);
// [a-z_][a-z0-9_-]{0,31}
Status ValidateUserName(std::string_view name);
// An IP address or a DNS name ([a-z0-9-] labels separated by dots, at most 253 characters).
Status ValidateHost(std::string_view host);
// A VIP secret: 1-19 characters from [A-Za-z0-9._+=@%^,:/-] (it appears in ifconfig arguments and
// in rc.conf, which network.subr evaluates).
Status ValidateSecret(const std::string& secret);
// A VIP's lease: model::kMinLeaseMs-kMaxLeaseMs milliseconds (the kernel's address lifetimes count
// whole seconds: see fabric.h).
Status ValidateLease(int lease_ms);
// A VIP's service check: a program given by its absolute path, then its arguments, separated by
// blanks (run without a shell); printable ASCII only, at most model::kMaxCheck characters.
Status ValidateCheck(std::string_view check);
// The program of a valid check (its first word).
std::string_view CheckProgram(std::string_view check);
// A TCP/UDP port 1-65535 given as text.
Status ValidatePortText(std::string_view text);

// A node's underlay MTU: 576-65535, the range every node accepts in a fabric map.
inline constexpr int kMinNodeMtu = 576;
inline constexpr int kMaxNodeMtu = 65535;
// An --mtu value given as text.
Result<int> ParseNodeMtu(std::string_view text);
// A recorded MTU: an error naming the node and the value when out of range.
Status ValidateNodeMtu(std::string_view node, int mtu);

}  // namespace vpcctl::model
