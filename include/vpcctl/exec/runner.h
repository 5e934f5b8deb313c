// Running commands. The one place that forks. Abstract so tests replace it with a fake
// (tests/unit/fake_runner.h).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "vpcctl/base/output_cap.h"
#include "vpcctl/base/result.h"

namespace vpcctl::exec {

using Argv = std::vector<std::string>;

struct CommandResult {
  int exit_code = 0;  // 128 + signal when killed
  std::string out;    // at most kMaxStdout bytes
  std::string err;    // at most kMaxStderr bytes
  bool timed_out = false;
  bool overflow = false;  // printed past a cap (base/output_cap.h): stopped, output cut
  bool ok() const { return exit_code == 0 && !timed_out && !overflow; }
};

class Runner {
 public:
  virtual ~Runner() = default;
  // Runs argv (no shell), feeding `input` on stdin. An error only when it could not be started;
  // a non-zero exit is a CommandResult.
  virtual Result<CommandResult> Run(const Argv& argv, const std::string& input,
                                    std::chrono::milliseconds timeout) = 0;
  // Starts a daemon that stays in the foreground, detached: its own session, stdin from
  // /dev/null, stdout and stderr appended to `log` (0600), no inherited descriptors. Once it has
  // been executed, writes its pid with its start time and executable to `pidfile` (see
  // pidfile.h) and returns the pid; the process is not waited for.
  virtual Result<int> Start(const Argv& argv, const std::string& log,
                            const std::string& pidfile) = 0;
};

// fork + execvp in its own process group; on timeout the group gets SIGTERM, then SIGKILL; past an
// output cap, SIGKILL at once.
class LocalRunner : public Runner {
 public:
  Result<CommandResult> Run(const Argv& argv, const std::string& input,
                            std::chrono::milliseconds timeout) override;
  Result<int> Start(const Argv& argv, const std::string& log, const std::string& pidfile) override;
};

// Runs the program at `path` (no PATH search, no shell) with exactly the environment `env`
// ("NAME=value" each), stdin, stdout and stderr on /dev/null, in its own process group. After
// `timeout` the group gets SIGTERM, and SIGKILL `grace` later (timed_out; exit_code 128 + the
// signal that ended it). An error only when it could not be run.
Result<CommandResult> RunProgram(const std::string& path, const std::vector<std::string>& env,
                                 std::chrono::milliseconds timeout,
                                 std::chrono::milliseconds grace);

// Runs `work` in a process of its own session that the caller never waits for (a grandchild,
// adopted by init): stdio on /dev/null, none of the caller's descriptors, working directory /,
// default signal handling. Returns once it is started; `work` must not touch the caller's state.
Status Detach(const std::function<void()>& work);

// Starts the program at argv[0] (no PATH search, no shell) in a session of its own: stdio on
// /dev/null, default signal handling, no signal blocked. No fork (posix_spawn: no page tables
// copied, which for a large process is most of what fork costs). The caller reaps the pid
// (waitpid with WNOHANG) when it likes; it must, or it stays a zombie.
Result<pid_t> SpawnDetached(const Argv& argv);

// "Linux" / "FreeBSD" of this machine (uname).
std::string LocalSystemName();

// The path of the running executable (to run this same vpcctl as a child).
std::string SelfPath();

// The full path of `program` found on PATH (executable), or empty.
std::string FindProgram(const std::string& program);

}  // namespace vpcctl::exec
