#include "vpcctl/model/names.h"

#include <string>

#include "vpcctl/base/text.h"
#include "vpcctl/model/fabric.h"
#include "vpcctl/net/ip.h"

namespace vpcctl::model {
namespace {

bool Lower(char c) { return c >= 'a' && c <= 'z'; }
bool Digit(char c) { return c >= '0' && c <= '9'; }

// Checks `name` against first-char / rest-char predicates and a maximum length; returns a message
// fragment explaining the first violation, or empty.
template <class First, class Rest>
std::string Check(std::string_view name, size_t max_len, First first, Rest rest) {
  if (name.empty()) return "must not be empty";
  if (name.size() > max_len) return "longer than " + std::to_string(max_len) + " characters";
  if (!first(name[0])) return "must start with a lowercase letter";
  for (char c : name.substr(1)) {
    if (!rest(c)) {
      if (c == ' ' || c == '\t') return "contains a space";
      if (c == '\n' || c == '\r') return "contains a newline";
      if (c >= 'A' && c <= 'Z') return "contains an uppercase letter";
      return "contains the character " + Quoted(std::string_view(&c, 1));
    }
  }
  return {};
}

}  // namespace

Status ValidateNodeName(std::string_view name) {
  std::string why = Check(name, 32, Lower, [](char c) { return Lower(c) || Digit(c) || c == '-'; });
  if (!why.empty()) {
    return UsageError("invalid node name " + Quoted(name) + ": " + why +
                      " (allowed: [a-z][a-z0-9-]{0,31})");
  }
  return {};
}

Status ValidateVpcName(std::string_view name) {
  std::string why = Check(name, 12, Lower, [](char c) { return Lower(c) || Digit(c); });
  if (!why.empty()) {
    return UsageError("invalid VPC name " + Quoted(name) + ": " + why +
                      " (allowed: [a-z][a-z0-9]{0,11}; it becomes the bridge's interface name)");
  }
  static constexpr std::string_view kCloners[] = {
      "vx",  "vxlan", "bridge", "epair", "tap", "tun",  "lo",   "carp", "gif", "gre",
      "vlan", "lagg", "wg",    "vnet",  "eth", "ens",  "enp",  "em",   "igb", "ix"};
  for (std::string_view prefix : kCloners) {
    if (!StartsWith(name, prefix)) continue;
    std::string_view rest = name.substr(prefix.size());
    bool digits = true;
    for (char c : rest) digits = digits && Digit(c);
    if (digits) {
      return UsageError("invalid VPC name " + Quoted(name) +
                        ": it looks like a kernel interface name (" + std::string(prefix) +
                        "N), which a VPC's bridge must not take");
    }
  }
  return {};
}

Status ValidateUserName(std::string_view name) {
  std::string why = Check(
      name, 32, [](char c) { return Lower(c) || c == '_'; },
      [](char c) { return Lower(c) || Digit(c) || c == '_' || c == '-'; });
  if (!why.empty()) {
    return UsageError("invalid user name " + Quoted(name) + ": " + why +
                      " (allowed: [a-z_][a-z0-9_-]{0,31})");
  }
  return {};
}

Status ValidateHost(std::string_view host) {
  if (net::IpAddress::Parse(host).ok()) return {};
  auto bad = [&](const std::string& why) {
    return UsageError("invalid address " + Quoted(host) + ": " + why +
                      " (expected an IP address or a DNS name)");
  };
  if (host.empty()) return bad("must not be empty");
  if (host.size() > 253) return bad("longer than 253 characters");
  for (const std::string& label : Split(host, '.')) {
    if (label.empty() || label.size() > 63) return bad("has an empty or over-long label");
    if (label.front() == '-' || label.back() == '-') return bad("a label starts or ends with '-'");
    for (char c : label) {
      if (!(Lower(c) || Digit(c) || c == '-' || (c >= 'A' && c <= 'Z'))) {
        return bad("contains the character " + Quoted(std::string_view(&c, 1)));
      }
    }
  }
  bool all_digits_or_dots = true;
  for (char c : host) all_digits_or_dots = all_digits_or_dots && (Digit(c) || c == '.');
  if (all_digits_or_dots) return bad("is neither a valid IPv4 address nor a name");
  return {};
}

Status ValidatePortText(std::string_view text) {
  if (!ParseUint(text, 65535) || *ParseUint(text, 65535) == 0) {
    return UsageError("invalid port " + Quoted(text) + ": must be 1-65535");
  }
  return {};
}

Result<int> ParseNodeMtu(std::string_view text) {
  auto v = ParseUint(text, kMaxNodeMtu);
  if (!v || *v < kMinNodeMtu) {
    return UsageError("invalid MTU " + Quoted(text) + ": must be " + std::to_string(kMinNodeMtu) +
                      "-" + std::to_string(kMaxNodeMtu));
  }
  return static_cast<int>(*v);
}

Status ValidateNodeMtu(std::string_view node, int mtu) {
  if (mtu < kMinNodeMtu || mtu > kMaxNodeMtu) {
    return Failure("node " + Quoted(node) + " has underlay MTU " + std::to_string(mtu) +
                   ", outside " + std::to_string(kMinNodeMtu) + "-" +
                   std::to_string(kMaxNodeMtu) + " (every member would refuse the map)");
  }
  return {};
}

Status ValidateSecret(const std::string& secret) {
  if (secret.empty()) return UsageError("the VIP secret is empty");
  if (secret.size() > kMaxSecret) {
    return UsageError("the VIP secret is " + std::to_string(secret.size()) +
                      " characters long; CARP keeps at most 19");
  }
  for (char c : secret) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("._+=@%^,:/-").find(c) != std::string_view::npos;
    if (!ok) {
      return UsageError("the VIP secret holds a character outside [A-Za-z0-9._+=@%^,:/-] "
                        "(it is written into rc.conf and ifconfig arguments)");
    }
  }
  return {};
}

Status ValidateLease(int lease_ms) {
  if (lease_ms < kMinLeaseMs || lease_ms > kMaxLeaseMs) {
    return UsageError("invalid lease " + std::to_string(lease_ms) + " ms: must be " +
                      std::to_string(kMinLeaseMs) + "-" + std::to_string(kMaxLeaseMs) +
                      " ms (the kernel keeps a VIP for whole seconds: a lease under " +
                      std::to_string(kMinLeaseMs) + " ms cannot fence it)");
  }
  return {};
}

std::string_view CheckProgram(std::string_view check) {
  size_t start = check.find_first_not_of(' ');
  if (start == std::string_view::npos) return {};
  size_t end = check.find(' ', start);
  return check.substr(start, end == std::string_view::npos ? end : end - start);
}

Status ValidateCheck(std::string_view check) {
  if (check.size() > kMaxCheck) {
    return UsageError("invalid check " + Quoted(check.substr(0, 64)) + "...: " +
                      std::to_string(check.size()) + " characters, at most " +
                      std::to_string(kMaxCheck));
  }
  for (char c : check) {
    if (c < 0x20 || c > 0x7e) {
      return UsageError("invalid check " + Quoted(check) +
                        ": only printable ASCII characters and blanks");
    }
  }
  std::string_view program = CheckProgram(check);
  if (program.empty() || program.front() != '/') {
    return UsageError("invalid check " + Quoted(check) +
                      ": it must start with the program's absolute path (it runs without a "
                      "shell: `/usr/bin/curl -fs http://127.0.0.1/`)");
  }
  return {};
}

}  // namespace vpcctl::model
