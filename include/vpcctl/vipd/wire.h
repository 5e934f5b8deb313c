// vipd's messages on the wire: one UDP datagram per lease message, a line of text authenticated
// with HMAC-SHA256 under the VIP's secret, and replay protection. Pure, fuzzed.
//
//   VIPD1 KIND VPC VHID FROM TO INCARNATION SEQ B.N B.ID NONCE HOLDER H.N H.ID REMAINING P.N P.ID MAC
//
// KIND is the lease.h Kind's name; HOLDER is "-" for none; MAC is 64 hex digits over everything
// before it (the single space before MAC excluded). Replies are bound to their request by the
// round's nonce; requests carry the sender's incarnation (its start time in microseconds) and a
// sequence number, and a receiver drops what it has seen or what is older than its window.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "vpcctl/base/result.h"
#include "vpcctl/vipd/lease.h"

namespace vpcctl::vipd {

inline constexpr size_t kMaxDatagram = 512;

struct Envelope {
  std::string vpc;
  int vhid = 0;
  uint64_t incarnation = 0;
  uint64_t seq = 0;
  Msg msg;
  bool operator==(const Envelope&) const = default;
};

std::string Encode(const Envelope& e, std::string_view secret);

// The envelope's routing fields, read before the secret is known (which VIP it is for). No field
// is trusted until Verify passes.
Result<Envelope> Decode(std::string_view datagram);
// True when `datagram`'s MAC is right under `secret` (constant-time compare).
bool Verify(std::string_view datagram, std::string_view secret);

// HMAC-SHA256 of `data` under `key`, as 64 lowercase hex digits.
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// Per-sender replay window: a message is fresh when its incarnation is newer than the sender's
// last, or the same and its sequence number is new and within the last 64.
class ReplayGuard {
 public:
  // Records and accepts a fresh (sender, incarnation, seq); refuses anything seen or too old.
  bool Accept(const std::string& sender, uint64_t incarnation, uint64_t seq);

 private:
  struct Window {
    uint64_t incarnation = 0;
    uint64_t top = 0;    // highest sequence number seen
    uint64_t bits = 0;   // bit i: top - i seen
  };
  std::map<std::string, Window> windows_;
};

}  // namespace vpcctl::vipd
