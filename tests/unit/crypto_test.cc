// WireGuard keys: the X25519 test vector of RFC 7748 in WireGuard's base64 form, what wg(8) reads,
// and new keys that wg(8) would accept.
#include "vpcctl/crypto/wireguard_key.h"

#include <gtest/gtest.h>

#include <set>

namespace vpcctl::crypto {
namespace {

TEST(WgKey, PublicKeyMatchesRfc7748) {
  // RFC 7748 section 6.1, Alice: the same pair `wg pubkey` gives.
  auto pub = WgPublicKey("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=");
  ASSERT_TRUE(pub.ok()) << pub.error().message;
  EXPECT_EQ(*pub, "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=");
}

TEST(WgKey, OnlyWireGuardsTextFormIsAKey) {
  EXPECT_TRUE(IsWgKey("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="));
  EXPECT_FALSE(IsWgKey(""));
  EXPECT_FALSE(IsWgKey("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo"));    // no padding
  EXPECT_FALSE(IsWgKey("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmp="));   // bits past 256 set
  EXPECT_FALSE(IsWgKey("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTm-="));   // not base64
  EXPECT_FALSE(IsWgKey("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=\n"));
  EXPECT_FALSE(WgPublicKey("not a key").ok());
}

TEST(WgKey, NewKeysAreClampedDistinctAndUsable) {
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    auto k = NewWgPrivateKey();
    ASSERT_TRUE(k.ok());
    EXPECT_TRUE(IsWgKey(*k)) << *k;
    EXPECT_TRUE(WgPublicKey(*k).ok());
    seen.insert(*k);
  }
  EXPECT_EQ(seen.size(), 20u);
}

}  // namespace
}  // namespace vpcctl::crypto
