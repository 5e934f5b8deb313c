// `vpcctl state backup FILE` and `vpcctl state restore FILE`: the controller's state (its SQLite
// database, its key pair, known_hosts) saved in one file, and brought back on any node of the
// fabric, which becomes the controller one epoch on.
#pragma once

#include <string>

#include "vpcctl/base/result.h"
#include "vpcctl/fabric/context.h"

namespace vpcctl::fabric {

struct StateBackupOptions {
  std::string file;
  std::string timeout = "5";  // logging in to this node over SSH, to pin its own host key
  bool json = false;
};
// A consistent online backup (SQLite's backup API, while deploys may run), written 0600 and
// renamed into place. First makes sure a restored controller can reach this node too: our key
// in its authorized_keys, its host key pinned (a login to its own address).
Status StateBackup(Context& ctx, const StateBackupOptions& o);

struct StateRestoreOptions {
  std::string file;
  std::string node;  // which node of the fabric this one is (default: the node of its map)
  bool force = false;
  bool json = false;
};
// Makes this node the controller of the backup's fabric, one epoch on and one generation past
// both the backup and the map it holds; every other node (the old controller included) is
// reached over SSH with the restored key. Refused, with nothing changed: a file that is not a
// whole vpcctl backup, one of another fabric than this node's map, and a node that already is a
// controller (unless --force).
Status StateRestore(Context& ctx, const StateRestoreOptions& o);

}  // namespace vpcctl::fabric
