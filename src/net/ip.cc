#include "vpcctl/net/ip.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

#include "vpcctl/base/text.h"

namespace vpcctl::net {

std::string_view FamilyName(Family f) { return f == Family::kV4 ? "ipv4" : "ipv6"; }

Result<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.empty() || text.size() > 45) {
    return UsageError("invalid IP address " + Quoted(text));
  }
  // inet_pton reads a C string: an embedded NUL would cut the input short and let the rest pass.
  for (char c : text) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
              c == ':' || c == '.';
    if (!ok) return UsageError("invalid IP address " + Quoted(text));
  }
  std::string s(text);
  IpAddress a;
  if (s.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, s.c_str(), a.bytes_.data()) != 1) {
      return UsageError("invalid IPv4 address " + Quoted(text));
    }
    a.family_ = Family::kV4;
  } else {
    if (inet_pton(AF_INET6, s.c_str(), a.bytes_.data()) != 1) {
      return UsageError("invalid IPv6 address " + Quoted(text));
    }
    a.family_ = Family::kV6;
  }
  return a;
}

IpAddress IpAddress::V4(uint32_t v) {
  IpAddress a;
  a.family_ = Family::kV4;
  a.bytes_[0] = static_cast<uint8_t>(v >> 24);
  a.bytes_[1] = static_cast<uint8_t>(v >> 16);
  a.bytes_[2] = static_cast<uint8_t>(v >> 8);
  a.bytes_[3] = static_cast<uint8_t>(v);
  return a;
}

bool IpAddress::IsMulticast() const {
  return is_v4() ? (bytes_[0] & 0xf0) == 0xe0 : bytes_[0] == 0xff;
}

bool IpAddress::IsLinkLocal() const {
  if (is_v4()) return bytes_[0] == 169 && bytes_[1] == 254;
  return bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80;
}

bool IpAddress::IsUnspecified() const {
  for (int i = 0; i < bits() / 8; ++i)
    if (bytes_[i] != 0) return false;
  return true;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof buf);
  return buf;
}

IpAddress IpAddress::Plus(uint64_t n) const {
  IpAddress r = *this;
  int i = bits() / 8 - 1;
  unsigned carry = 0;
  while (i >= 0 && (n != 0 || carry != 0)) {
    unsigned sum = r.bytes_[i] + static_cast<unsigned>(n & 0xff) + carry;
    r.bytes_[i] = static_cast<uint8_t>(sum);
    carry = sum >> 8;
    n >>= 8;
    --i;
  }
  return r;
}

IpAddress IpAddress::Masked(int prefix) const {
  IpAddress r = *this;
  for (int i = 0; i < bits() / 8; ++i) {
    int keep = prefix - i * 8;
    if (keep >= 8) continue;
    r.bytes_[i] = keep <= 0 ? 0 : static_cast<uint8_t>(r.bytes_[i] & (0xff << (8 - keep)));
  }
  return r;
}

IpAddress IpAddress::Filled(int prefix) const {
  IpAddress r = *this;
  for (int i = 0; i < bits() / 8; ++i) {
    int keep = prefix - i * 8;
    if (keep >= 8) continue;
    r.bytes_[i] = keep <= 0 ? 0xff : static_cast<uint8_t>(r.bytes_[i] | (0xff >> keep));
  }
  return r;
}

namespace {

// Splits "A/N" and parses both halves; the caller decides what host bits mean.
Result<IfAddress> ParsePrefixed(std::string_view text, bool allow_bare, std::string_view what) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    if (!allow_bare) {
      return UsageError("invalid " + std::string(what) + " " + Quoted(text) +
                        ": expected ADDRESS/PREFIXLEN");
    }
    auto a = IpAddress::Parse(text);
    if (!a) return UsageError("invalid " + std::string(what) + " " + Quoted(text));
    return IfAddress{*a, a->bits()};
  }
  auto a = IpAddress::Parse(text.substr(0, slash));
  if (!a) return UsageError("invalid " + std::string(what) + " " + Quoted(text));
  auto len = ParseUint(text.substr(slash + 1), static_cast<uint64_t>(a->bits()));
  if (!len) {
    return UsageError("invalid " + std::string(what) + " " + Quoted(text) +
                      ": prefix length must be 0-" + std::to_string(a->bits()));
  }
  return IfAddress{*a, static_cast<int>(*len)};
}

}  // namespace

Result<Cidr> Cidr::Parse(std::string_view text) {
  VPC_ASSIGN_OR_RETURN(IfAddress ia, ParsePrefixed(text, false, "CIDR"));
  if (ia.address.Masked(ia.prefix) != ia.address) {
    return UsageError("invalid CIDR " + Quoted(text) + ": host bits are set (did you mean " +
                      ia.Network().ToString() + "?)");
  }
  return ia.Network();
}

Result<Cidr> Cidr::Make(const IpAddress& network, int prefix) {
  if (prefix < 0 || prefix > network.bits() || network.Masked(prefix) != network) {
    return UsageError("invalid network " + network.ToString() + "/" + std::to_string(prefix));
  }
  Cidr c;
  c.network_ = network;
  c.prefix_ = prefix;
  return c;
}

bool Cidr::Contains(const IpAddress& a) const {
  return a.family() == family() && a.Masked(prefix_) == network_;
}

uint64_t Cidr::Size() const {
  int host_bits = network_.bits() - prefix_;
  if (host_bits >= 64) return UINT64_MAX;
  return uint64_t{1} << host_bits;
}

uint64_t Cidr::UsableHosts() const {
  uint64_t size = Size();
  if (family() == Family::kV4) {
    if (prefix_ >= 31) return size;
    return size - 2;
  }
  if (prefix_ == 128) return 1;
  return size == UINT64_MAX ? size : size - 1;
}

IpAddress Cidr::Host(uint64_t n) const {
  if (family() == Family::kV4 && prefix_ >= 31) return network_.Plus(n);
  if (family() == Family::kV6 && prefix_ == 128) return network_;
  return network_.Plus(n + 1);
}

std::string Cidr::ToString() const { return network_.ToString() + "/" + std::to_string(prefix_); }

Result<IfAddress> IfAddress::Parse(std::string_view text, bool allow_bare) {
  return ParsePrefixed(text, allow_bare, "address");
}

Cidr IfAddress::Network() const {
  auto c = Cidr::Make(address.Masked(prefix), prefix);
  return *c;
}

std::string IfAddress::ToString() const {
  return address.ToString() + "/" + std::to_string(prefix);
}

Result<MacAddress> MacAddress::Parse(std::string_view text) {
  MacAddress m;
  auto bad = [&] {
    return UsageError("invalid MAC address " + Quoted(text) + ": expected six hex pairs such as " +
                      "02:00:00:00:00:01");
  };
  if (text.size() != 17) return bad();
  for (int i = 0; i < 6; ++i) {
    if (i > 0 && text[i * 3 - 1] != ':') return bad();
    unsigned v = 0;
    for (int j = 0; j < 2; ++j) {
      char c = text[i * 3 + j];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= static_cast<unsigned>(c - 'A' + 10);
      else
        return bad();
    }
    m.bytes_[i] = static_cast<uint8_t>(v);
  }
  return m;
}

bool MacAddress::IsZero() const {
  for (auto b : bytes_)
    if (b) return false;
  return true;
}

std::string MacAddress::ToString() const {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes_[0], bytes_[1], bytes_[2],
                bytes_[3], bytes_[4], bytes_[5]);
  return buf;
}

bool ParseEndpoint(std::string_view text, IpAddress* addr, int* port) {
  std::string_view host, p;
  if (StartsWith(text, "[")) {
    size_t close = text.find("]:");
    if (close == std::string_view::npos) return false;
    host = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return false;
    host = text.substr(0, colon);
    p = text.substr(colon + 1);
  }
  auto a = IpAddress::Parse(host);
  auto n = ParseUint(p, 65535);
  if (!a || !n) return false;
  *addr = *a;
  *port = static_cast<int>(*n);
  return true;
}

}  // namespace vpcctl::net
