// vipd's datagrams: encoding, strict decoding, HMAC-SHA256 and the replay window (wire.h).
#include "vpcctl/vipd/wire.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <vector>

#include "vpcctl/base/text.h"
#include "vpcctl/model/names.h"

namespace vpcctl::vipd {

namespace {

constexpr std::string_view kMagic = "VIPD1";
constexpr size_t kFields = 18;
constexpr size_t kMacHex = 64;
constexpr uint64_t kMaxRemaining = 3'600'000;

const Kind kKinds[] = {Kind::kPrepare, Kind::kPromise, Kind::kPropose, Kind::kAccept, Kind::kReject,
                       Kind::kRelease, Kind::kPreempt, Kind::kMove,    Kind::kHandover,
                       Kind::kTransfer};

Error Bad(const std::string& why) { return Failure("bad vipd message: " + why); }

}  // namespace

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &len);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

std::string Encode(const Envelope& e, std::string_view secret) {
  const Msg& m = e.msg;
  std::string body = std::string(kMagic) + " " + KindName(m.kind) + " " + e.vpc + " " +
                     std::to_string(e.vhid) + " " + m.from + " " + m.to + " " +
                     std::to_string(e.incarnation) + " " + std::to_string(e.seq) + " " +
                     std::to_string(m.ballot.n) + " " + std::to_string(m.ballot.id) + " " +
                     std::to_string(m.nonce) + " " + (m.holder.empty() ? "-" : m.holder) + " " +
                     std::to_string(m.held.n) + " " + std::to_string(m.held.id) + " " +
                     std::to_string(m.remaining < 0 ? 0 : m.remaining) + " " +
                     std::to_string(m.promised.n) + " " + std::to_string(m.promised.id);
  return body + " " + HmacSha256Hex(secret, body);
}

Result<Envelope> Decode(std::string_view datagram) {
  if (datagram.size() > kMaxDatagram) return Bad("longer than " + std::to_string(kMaxDatagram) + " bytes");
  for (char c : datagram) {
    if (c < 0x20 || c > 0x7e) return Bad("a byte that is not printable ASCII");
  }
  std::vector<std::string> f = Split(datagram, ' ');
  if (f.size() != kFields) return Bad(std::to_string(f.size()) + " fields, not " + std::to_string(kFields));
  if (f[0] != kMagic) return Bad("not " + std::string(kMagic));
  Envelope e;
  bool known = false;
  for (Kind k : kKinds) {
    if (f[1] == KindName(k)) {
      e.msg.kind = k;
      known = true;
    }
  }
  if (!known) return Bad("unknown kind " + Quoted(f[1]));
  if (!model::ValidateVpcName(f[2]).ok()) return Bad("bad VPC name");
  e.vpc = f[2];
  auto vhid = ParseUint(f[3], 255);
  if (!vhid || *vhid < 1) return Bad("bad vhid");
  e.vhid = static_cast<int>(*vhid);
  if (!model::ValidateNodeName(f[4]).ok() || !model::ValidateNodeName(f[5]).ok()) {
    return Bad("bad node name");
  }
  e.msg.from = f[4];
  e.msg.to = f[5];
  uint64_t* numbers[] = {&e.incarnation, &e.seq, &e.msg.ballot.n, nullptr, &e.msg.nonce};
  for (size_t i = 0; i < 5; ++i) {
    auto v = ParseUint(f[6 + i], i == 3 ? UINT32_MAX : UINT64_MAX);
    if (!v) return Bad("bad number in field " + std::to_string(7 + i));
    if (numbers[i]) {
      *numbers[i] = *v;
    } else {
      e.msg.ballot.id = static_cast<uint32_t>(*v);
    }
  }
  if (f[11] != "-") {
    if (!model::ValidateNodeName(f[11]).ok()) return Bad("bad holder name");
    e.msg.holder = f[11];
  }
  auto hn = ParseUint(f[12]);
  auto hid = ParseUint(f[13], UINT32_MAX);
  auto rem = ParseUint(f[14], kMaxRemaining);
  auto pn = ParseUint(f[15]);
  auto pid = ParseUint(f[16], UINT32_MAX);
  if (!hn || !hid || !rem || !pn || !pid) return Bad("bad number");
  e.msg.held = Ballot{*hn, static_cast<uint32_t>(*hid)};
  e.msg.remaining = static_cast<Ms>(*rem);
  e.msg.promised = Ballot{*pn, static_cast<uint32_t>(*pid)};
  const std::string& mac = f[17];
  if (mac.size() != kMacHex || mac.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return Bad("bad MAC");
  }
  return e;
}

bool Verify(std::string_view datagram, std::string_view secret) {
  size_t sp = datagram.rfind(' ');
  if (sp == std::string_view::npos || datagram.size() - sp - 1 != kMacHex) return false;
  std::string want = HmacSha256Hex(secret, datagram.substr(0, sp));
  return CRYPTO_memcmp(want.data(), datagram.data() + sp + 1, kMacHex) == 0;
}

bool ReplayGuard::Accept(const std::string& sender, uint64_t incarnation, uint64_t seq) {
  Window& w = windows_[sender];
  if (incarnation < w.incarnation) return false;
  if (incarnation > w.incarnation) {
    w = Window{incarnation, seq, 1};
    return true;
  }
  if (seq > w.top) {
    uint64_t shift = seq - w.top;
    w.bits = shift >= 64 ? 1 : (w.bits << shift) | 1;
    w.top = seq;
    return true;
  }
  uint64_t back = w.top - seq;
  if (back >= 64) return false;
  uint64_t bit = uint64_t{1} << back;
  if (w.bits & bit) return false;
  w.bits |= bit;
  return true;
}

}  // namespace vpcctl::vipd
