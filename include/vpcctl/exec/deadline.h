// `vpcctl --deadline SECS`: the process stops itself, and every command it runs, once SECS
// seconds have passed, and exits Exit::kDeadline (124). The controller runs vpcctl on nodes this
// way, so that the one program sudoers must allow is vpcctl (no timeout(1), which runs anything).
//
// When the deadline passes: every running command's process group (LocalRunner::Run gives each
// its own) gets SIGTERM, what is left 5 s later SIGKILL, then the process exits 124 with a
// message. Daemons started with LocalRunner::Start live in sessions of their own and are left
// alone. Our own process group is not changed: it may be a terminal's foreground group, which
// prompts (passwords, confirmations) need.
#pragma once

#include <sys/types.h>

#include "vpcctl/base/result.h"

namespace vpcctl::exec {

inline constexpr int kMaxDeadlineSeconds = 86400;

// Parses a --deadline value: 1-86400 seconds.
Result<int> ParseDeadline(const std::string& text);

// Arms the deadline, `seconds` from now. Call once, before any thread is started.
void ArmDeadline(int seconds);

// True once the deadline has passed: LocalRunner starts nothing more.
bool DeadlinePassed();

// The process groups the deadline stops (LocalRunner::Run registers each command it runs). A
// group registered after the deadline passed is killed at once.
void TrackChildGroup(pid_t pgid);
void UntrackChildGroup(pid_t pgid);

}  // namespace vpcctl::exec
