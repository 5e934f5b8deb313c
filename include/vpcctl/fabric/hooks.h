// hooks.d: programs a node's administrator has run on every VIP transition (vip-event), so that
// services can follow a VIP. They run as root, so only trusted files run: owned by root (or by
// the user vpcctl runs as) and writable by no one else, in a directory that is the same.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/fabric/context.h"
#include "vpcctl/store/state_dir.h"

namespace vpcctl::fabric {

// How long a hook may run before SIGTERM (its process group), and then before SIGKILL. A hook
// that hangs must not hold the ones after it for long: they follow the same transition.
constexpr std::chrono::seconds kHookTimeout{10};
constexpr std::chrono::seconds kHookGrace{2};
struct HookLimits {
  std::chrono::milliseconds timeout = kHookTimeout;
  std::chrono::milliseconds grace = kHookGrace;
};

// The transition hooks are told about.
struct HookEvent {
  std::string vpc;
  std::string vip;  // its address; empty when this node's map does not know the vhid
  int vhid = 0;
  std::string state;
  std::string at;  // when it was recorded (UTC, ms)
};

// A hook's whole environment: PATH (the system's directories), VPC, VIP, VHID, STATE and
// VPCCTL_STATE_DIR; nothing of the caller's (keepalived's, devd's).
std::vector<std::string> HookEnvironment(const HookEvent& e, const std::string& state_dir);

// What stat(2) says of hooks.d or of a file in it.
struct FileFacts {
  std::string path;
  bool exists = false;
  bool directory = false;
  bool regular = false;
  unsigned uid = 0;
  unsigned mode = 0;  // permission bits
};
// Empty when the owner and mode may be trusted by a vpcctl running as `euid`, else why not.
std::string Untrusted(const FileFacts& f, unsigned euid);

// Which hooks run, in name order, and which are skipped, with why. Files that are not executable
// (a README), not regular or hidden are not hooks and are passed over silently.
struct HookSelection {
  std::vector<std::string> run;
  std::vector<std::pair<std::string, std::string>> skipped;  // path, reason
};
HookSelection SelectHooks(const FileFacts& dir, std::vector<FileFacts> entries, unsigned euid);

// Appends `lines` to <state dir>/hooks.log (0600) under an exclusive lock (hooks.lock), so that
// concurrent events never mix their lines; past 1 MiB the log keeps its last half.
Status AppendHookLog(const exec::Host& host, const store::StatePaths& paths,
                     const std::string& lines);

// Reports skipped hooks (stderr and hooks.log) at once, then runs the others, one after the
// other within `limits`, in a detached process: the caller (a VIP daemon's notification) does
// not wait for them. Each result goes to hooks.log.
Status RunHooks(Context& ctx, const HookEvent& e, const HookLimits& limits);

}  // namespace vpcctl::fabric
