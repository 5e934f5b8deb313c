// WireGuard keys: Curve25519 (X25519) key pairs in WireGuard's text form, 32 bytes in base64
// (44 characters ending in '='), as wg(8) reads and prints them. Pure apart from the randomness
// of a new private key.
#pragma once

#include <string>
#include <string_view>

#include "vpcctl/base/result.h"

namespace vpcctl::crypto {

// True when `text` is exactly a base64 WireGuard key (what `wg genkey` / `wg pubkey` print).
bool IsWgKey(std::string_view text);

// A new private key (clamped as X25519 requires), in base64.
Result<std::string> NewWgPrivateKey();

// The public key of a base64 private key.
Result<std::string> WgPublicKey(std::string_view private_key);

}  // namespace vpcctl::crypto
