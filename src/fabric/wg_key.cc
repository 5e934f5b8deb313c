#include "vpcctl/fabric/wg_key.h"

#include <ostream>

#include "vpcctl/base/text.h"
#include "vpcctl/model/reports.h"
#include "vpcctl/crypto/wireguard_key.h"
#include "vpcctl/fabric/format.h"
#include "vpcctl/platform/driver.h"
#include "vpcctl/store/state_dir.h"

namespace vpcctl::fabric {

namespace {

constexpr std::chrono::seconds kLockWait{60};

Status WriteNewKey(const exec::Host& host, const std::string& key_file) {
  VPC_ASSIGN_OR_RETURN(std::string key, crypto::NewWgPrivateKey());
  Status st = host.WriteFile(key_file, key + "\n", 0600);
  key.assign(key.size(), '\0');
  return st;
}

}  // namespace

Result<std::string> NodePublicKey(const exec::Host& host, const std::string& key_file,
                                  bool create) {
  if (!host.Stat(key_file).exists) {
    if (!create) return std::string();
    VPC_TRY(WriteNewKey(host, key_file));
  }
  auto text = host.ReadFile(key_file);
  if (!text) return Failure("cannot read the WireGuard key " + key_file + ": " + text.error().message);
  std::string key(Trim(*text));
  text->assign(text->size(), '\0');
  // Never quote the file: it holds the private key.
  auto pub = crypto::WgPublicKey(key);
  key.assign(key.size(), '\0');
  if (!pub) {
    return Failure("the WireGuard key file " + key_file + " does not hold a WireGuard private key; "
                   "remove it and run `vpcctl node rekey` for this node on the controller");
  }
  return pub;
}

Result<std::string> RotateNodeKey(const exec::Host& host, const std::string& key_file) {
  VPC_TRY(WriteNewKey(host, key_file));
  return NodePublicKey(host, key_file, false);
}

Status WgKey(Context& ctx, const WgKeyOptions& o) {
  VPC_TRY(store::EnsureStateDir(ctx.paths.dir, nullptr));
  VPC_ASSIGN_OR_RETURN(store::StateLock lock, store::StateLock::Acquire(
                                                  ctx.paths.apply_lock(), ctx.command_line,
                                                  kLockWait));
  std::string file = platform::WgKeyPath(platform::NodeEnv{"", ctx.paths.dir});
  const exec::Host& host = ctx.Machine();
  bool existed = host.Stat(file).exists;
  Result<std::string> pub = o.rotate ? RotateNodeKey(host, file) : NodePublicKey(host, file, true);
  if (!pub) return pub.take_error();
  if (o.json) {
    PrintJson(ctx.io.out, model::KeyReport{*pub, o.rotate || !existed, o.rotate}.ToJson());
  } else {
    ctx.io.out << *pub << "\n";
  }
  return {};
}

}  // namespace vpcctl::fabric
