// The state directory: where it is, creating it 0700, and the per-node lock that keeps two
// vpcctl processes from changing state at the same time.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "vpcctl/base/result.h"

namespace vpcctl::store {

// This build's platform's default (model::DefaultStateDir): FreeBSD's on FreeBSD, else Linux's.
std::string DefaultStateDir();
// --state-dir wins, then VPCCTL_STATE_DIR, then the default.
std::string ResolveStateDir(const std::string& flag, const char* env);

struct StatePaths {
  std::string dir;
  std::string db() const { return dir + "/vpcctl.db"; }
  std::string private_key() const { return dir + "/id_ed25519"; }
  std::string public_key() const { return dir + "/id_ed25519.pub"; }
  std::string known_hosts() const { return dir + "/known_hosts"; }
  std::string lock() const { return dir + "/lock"; }              // controller state changes
  std::string apply_lock() const { return dir + "/apply.lock"; }  // map import and apply
};

// Creates the directory (and parents) with mode 0700, or adopts an existing one: it must be owned
// by the running user and be empty or a vpcctl state directory (see ClassifyStateDir); anything
// else is refused, untouched. Tightens a wider mode of an adopted one, with a warning.
Status EnsureStateDir(const std::string& dir, std::vector<std::string>* warnings);

// What an existing directory is, from the names in it (without "." and ".."): a vpcctl state
// directory holds vpcctl.db, or (a node before its first map, an interrupted init) only files
// vpcctl makes there; anything else is someone else's.
enum class DirKind { kEmpty, kStateDir, kForeign };
DirKind ClassifyStateDir(const std::vector<std::string>& names);
// A name vpcctl gives a file in its state directory (or a temporary file on its way there).
bool IsStateFileName(const std::string& name);

// An exclusive advisory lock on a file in the state directory, held for the life of the object.
// The file holds the holder's pid and command so that a refusal can say who has it.
class StateLock {
 public:
  // Waits up to `wait` for the lock (zero: refuse at once), then refuses with Exit::kLocked.
  static Result<StateLock> Acquire(const std::string& lock_path, const std::string& what,
                                   std::chrono::milliseconds wait = {});
  StateLock(StateLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  StateLock& operator=(StateLock&&) = delete;
  StateLock(const StateLock&) = delete;
  ~StateLock();

 private:
  explicit StateLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Tightens `path` to `mode` when it is wider (and exists), with a warning naming both modes.
Status TightenMode(const std::string& path, unsigned mode, std::vector<std::string>* warnings);
// Every secret-bearing or private file of the state directory back to 0600 (key, known_hosts,
// daemon configurations, logs, locks); the database is checked when opened.
Status TightenStateFiles(const StatePaths& paths, std::vector<std::string>* warnings);

}  // namespace vpcctl::store
