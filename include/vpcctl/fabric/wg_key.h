// This node's WireGuard key. The private key is made on the node, kept 0600 in its state
// directory and read only by wg(8); it is never printed, sent or logged. Only its public key
// leaves the node, in apply's report and in `vpcctl wg-key`'s answer.
#pragma once

#include <string>

#include "vpcctl/base/result.h"
#include "vpcctl/fabric/context.h"

namespace vpcctl::fabric {

// The public key of the private key in `key_file`; with `create`, a new private key is made first
// when the file does not exist. Empty when there is none and `create` is false.
Result<std::string> NodePublicKey(const exec::Host& host, const std::string& key_file, bool create);

// Replaces the private key in `key_file` with a new one (atomically) and returns its public key.
Result<std::string> RotateNodeKey(const exec::Host& host, const std::string& key_file);

struct WgKeyOptions {
  bool rotate = false;
  bool json = false;
};
// `vpcctl wg-key`, run by the controller on a node: prints the node's public key, making the key
// pair if it has none (or a new one with --rotate). Holds the node's apply lock.
Status WgKey(Context& ctx, const WgKeyOptions& o);

}  // namespace vpcctl::fabric
