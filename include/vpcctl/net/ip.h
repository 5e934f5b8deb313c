// IPv4 / IPv6 addresses, CIDR networks and interface addresses: parsing, formatting, arithmetic.
// Pure value types; parsing is strict (no zone ids, no leading zeros, no host bits in a network).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "vpcctl/base/result.h"

namespace vpcctl::net {

enum class Family { kV4, kV6 };
std::string_view FamilyName(Family f);  // "ipv4" / "ipv6"

class IpAddress {
 public:
  IpAddress() = default;
  static Result<IpAddress> Parse(std::string_view text);
  static IpAddress V4(uint32_t host_order);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::kV4; }
  bool is_v6() const { return family_ == Family::kV6; }
  int bits() const { return is_v4() ? 32 : 128; }
  bool IsMulticast() const;
  bool IsUnspecified() const;
  bool IsLinkLocal() const;  // 169.254.0.0/16, fe80::/10
  std::string ToString() const;
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }

  // Adds n to the address (wrapping inside the family's width); Cidr uses it for the n-th host.
  IpAddress Plus(uint64_t n) const;
  // Keeps the first `prefix` bits and clears the rest.
  IpAddress Masked(int prefix) const;
  // Sets every bit after the first `prefix` bits.
  IpAddress Filled(int prefix) const;

  auto operator<=>(const IpAddress&) const = default;

 private:
  Family family_ = Family::kV4;
  std::array<uint8_t, 16> bytes_{};  // IPv4 uses the first 4 bytes
};

// A network: address with all host bits clear, plus a prefix length.
class Cidr {
 public:
  Cidr() = default;
  // "10.0.0.0/24", "2001:db8::/64". Host bits set is an error.
  static Result<Cidr> Parse(std::string_view text);
  static Result<Cidr> Make(const IpAddress& network, int prefix);

  const IpAddress& network() const { return network_; }
  int prefix() const { return prefix_; }
  Family family() const { return network_.family(); }
  bool Contains(const IpAddress& a) const;
  // Number of addresses in the network, saturating at UINT64_MAX.
  uint64_t Size() const;
  // Addresses usable by hosts: IPv4 excludes the network and broadcast addresses (except /31, /32);
  // IPv6 excludes the subnet-router anycast address (offset 0).
  uint64_t UsableHosts() const;
  // The n-th usable host, n = 0, 1, ... (n < UsableHosts()).
  IpAddress Host(uint64_t n) const;
  IpAddress Broadcast() const { return network_.Filled(prefix_); }
  std::string ToString() const;
  auto operator<=>(const Cidr&) const = default;

 private:
  IpAddress network_;
  int prefix_ = 0;
};

// An interface address: host address plus the prefix length of its network ("10.0.0.5/24").
struct IfAddress {
  IpAddress address;
  int prefix = 0;
  // Accepts "A/N"; host bits may be set. A bare address is refused unless allow_bare is true,
  // in which case the prefix is the full width.
  static Result<IfAddress> Parse(std::string_view text, bool allow_bare = false);
  Cidr Network() const;
  std::string ToString() const;
  auto operator<=>(const IfAddress&) const = default;
};

class MacAddress {
 public:
  // "02:00:5e:10:00:01" (six colon-separated hex pairs).
  static Result<MacAddress> Parse(std::string_view text);
  bool IsMulticast() const { return (bytes_[0] & 1) != 0; }
  bool IsZero() const;
  std::string ToString() const;
  const std::array<uint8_t, 6>& bytes() const { return bytes_; }
  auto operator<=>(const MacAddress&) const = default;

 private:
  std::array<uint8_t, 6> bytes_{};
};

// An address and port as ifconfig and wg print them: "192.0.2.1:4789" or "[2001:db8::1]:4789".
// False for anything else ("(none)").
bool ParseEndpoint(std::string_view text, IpAddress* addr, int* port);

}  // namespace vpcctl::net
