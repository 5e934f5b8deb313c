// The node's WireGuard key (`vpcctl wg-key`, run by deploy on each node of an encrypted VPC), on a
// fake host: made once, 0600, in the state directory; the same public key every time after; a new
// one on --rotate; a file that holds no key is refused without its content being printed.
#include "vpcctl/fabric/wg_key.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "fake_host.h"
#include "fake_node.h"

namespace vpcctl::fabric {
namespace {

using json = nlohmann::json;

class WgKeyTest : public FakeNode {
 protected:
  Result<json> Run(bool rotate) {
    Context ctx = Ctx("wg-key");
    ctx.host = &host_;
    out_.str("");
    WgKeyOptions o;
    o.rotate = rotate;
    o.json = true;
    VPC_TRY(WgKey(ctx, o));
    return json::parse(out_.str());
  }
  std::string KeyFile() const { return dir_ + "/state/wg.key"; }

  testing::FakeHost host_{"Linux", {}};
};

TEST_F(WgKeyTest, TheKeyIsMadeOnceAndItsPublicKeyIsTheSameEveryTimeAfter) {
  auto first = Run(false);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE((*first)["created"].get<bool>());
  EXPECT_FALSE((*first)["rotated"].get<bool>());
  std::string pub = (*first)["public_key"];
  EXPECT_EQ(pub.size(), 44u);
  auto files = host_.files();
  ASSERT_TRUE(files.count(KeyFile()));
  EXPECT_EQ(files[KeyFile()].mode, 0600u);
  EXPECT_EQ(files[KeyFile()].content.find(pub), std::string::npos)
      << "the file holds the private key";

  auto again = Run(false);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE((*again)["created"].get<bool>());
  EXPECT_EQ((*again)["public_key"], pub);
  EXPECT_EQ(host_.files()[KeyFile()].content, files[KeyFile()].content);
}

TEST_F(WgKeyTest, RotateReplacesTheKey) {
  auto first = Run(false);
  ASSERT_TRUE(first.ok());
  auto rotated = Run(true);
  ASSERT_TRUE(rotated.ok()) << rotated.error().message;
  EXPECT_TRUE((*rotated)["rotated"].get<bool>());
  EXPECT_NE((*rotated)["public_key"], (*first)["public_key"]);
  EXPECT_EQ(host_.files()[KeyFile()].mode, 0600u);
}

TEST_F(WgKeyTest, AFileThatHoldsNoKeyIsRefusedWithoutPrintingIt) {
  host_.Put(KeyFile(), "not-a-key-but-maybe-a-secret\n", 0600);
  auto r = Run(false);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("does not hold a WireGuard private key"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(r.error().message.find("maybe-a-secret"), std::string::npos) << r.error().message;
  EXPECT_EQ(host_.files()[KeyFile()].content, "not-a-key-but-maybe-a-secret\n")
      << "the file is left for the operator";
}

}  // namespace
}  // namespace vpcctl::fabric
