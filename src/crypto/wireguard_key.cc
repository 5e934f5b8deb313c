#include "vpcctl/crypto/wireguard_key.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <memory>

namespace vpcctl::crypto {

namespace {

constexpr size_t kKeyLen = 32;
using Key = std::array<unsigned char, kKeyLen>;

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

std::string Encode(const Key& k) {
  unsigned char out[64] = {};
  int n = EVP_EncodeBlock(out, k.data(), static_cast<int>(k.size()));
  return std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
}

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

bool Decode(std::string_view text, Key* out) {
  if (!IsWgKey(text)) return false;
  unsigned char buf[48] = {};
  int n = EVP_DecodeBlock(buf, reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  // 44 characters decode to 33 bytes, the last one the padding's zero.
  if (n != 33) return false;
  std::copy(buf, buf + kKeyLen, out->begin());
  return true;
}

}  // namespace

bool IsWgKey(std::string_view text) {
  if (text.size() != 44 || text[43] != '=') return false;
  for (size_t i = 0; i < 43; ++i)
    if (!IsBase64Char(text[i])) return false;
  // The 43rd character carries the last 4 bits of the 32nd byte and 2 padding bits, which must
  // be zero (wireguard-tools' key_from_base64 refuses the others).
  const std::string_view last = "AEIMQUYcgkosw048";
  return last.find(text[42]) != std::string_view::npos;
}

Result<std::string> NewWgPrivateKey() {
  Key k{};
  if (RAND_bytes(k.data(), static_cast<int>(k.size())) != 1) {
    return Failure("cannot generate a WireGuard key: no randomness from OpenSSL");
  }
  k[0] &= 248;
  k[31] &= 127;
  k[31] |= 64;
  std::string text = Encode(k);
  k.fill(0);
  return text;
}

Result<std::string> WgPublicKey(std::string_view private_key) {
  Key priv{};
  if (!Decode(private_key, &priv)) return Failure("not a WireGuard private key");
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, priv.data(), priv.size()));
  priv.fill(0);
  if (!pkey) return Failure("cannot load the WireGuard private key (OpenSSL X25519)");
  Key pub{};
  size_t len = pub.size();
  if (EVP_PKEY_get_raw_public_key(pkey.get(), pub.data(), &len) != 1 || len != pub.size()) {
    return Failure("cannot derive the WireGuard public key (OpenSSL X25519)");
  }
  return Encode(pub);
}

}  // namespace vpcctl::crypto
