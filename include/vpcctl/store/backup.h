// Controller backups: one SQLite file holding a consistent online copy of the state database
// (SQLite's backup API), plus, in its table vpcctl_backup, the files that go with it (the
// controller's key pair, known_hosts) and what the backup is (fabric, generation, epoch,
// controller, time).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "vpcctl/base/result.h"
#include "vpcctl/store/store.h"

namespace vpcctl::store {

// name -> content: "fabric", "generation", "epoch", "controller", "made_at", "vpcctl",
// "id_ed25519", "id_ed25519.pub", "known_hosts", ...
using BackupEntries = std::map<std::string, std::string>;

// The entries every backup has; a file without one of them is not a vpcctl backup.
inline constexpr const char* kBackupRequired[] = {
    "fabric", "generation", "epoch", "controller", "made_at", "id_ed25519", "id_ed25519.pub"};

// Writes the backup of `src` to `path`, 0600: into a temporary file beside it, synced, then
// renamed over it (an existing backup is replaced whole or not at all). `src` may be in use:
// the copy is of one consistent moment.
Status WriteBackup(Store& src, const std::string& path, const BackupEntries& entries);

// A backup file, opened for a restore: checked (SQLite integrity, vpcctl's application id, a
// schema no newer than this build, every required entry) and migrated to this build's schema in
// a private copy under `scratch_dir`, removed with the object. The file itself is only read.
class Backup {
 public:
  static Result<std::unique_ptr<Backup>> Open(const std::string& path,
                                              const std::string& scratch_dir);
  ~Backup();
  Backup(const Backup&) = delete;
  Backup& operator=(const Backup&) = delete;

  const BackupEntries& entries() const { return entries_; }
  // Replaces the controller's tables of `dst` (settings, nodes, VPCs, members, tunnels, VIPs,
  // clean-ups, and the VPC id sequence) with the backup's, then runs `then`, all in one
  // transaction of dst's (committed only when `then` succeeds). The node's own tables (its map,
  // guests, VIP events) stay as they are.
  Status CopyControllerTablesInto(Store& dst, const std::function<Status()>& then);

 private:
  Backup() = default;
  std::string copy_;  // the private, migrated copy
  BackupEntries entries_;
};

}  // namespace vpcctl::store
