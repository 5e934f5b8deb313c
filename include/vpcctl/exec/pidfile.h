// Pid files of the daemons vpcctl keeps running, and whether the pid in one is still that daemon.
// After a restart or a reboot the pid may belong to an unrelated process: it must never pass for
// the daemon, nor be signalled.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vpcctl/base/result.h"

namespace vpcctl::exec {

// The daemon a pid file should name.
struct DaemonIdentity {
  std::string program;            // file name of its executable ("keepalived")
  std::vector<std::string> args;  // arguments its command line holds (its configuration file)
};

// What a pid file says. vpcctl writes, for a daemon it starts itself (wireguard-go), the pid and
// then the process's start time and executable:
//   12345
//   start=987654 exe=/usr/bin/wireguard-go
// A daemon that writes its own pid file (keepalived, daemon(8)) leaves the pid alone.
struct PidRecord {
  int pid = 0;
  std::optional<uint64_t> start_time;
  std::string exe;
};
std::optional<PidRecord> ParsePidRecord(const std::string& text);
std::string FormatPidRecord(const PidRecord& r);

// What the system tells about a live process.
struct ProcessView {
  bool zombie = false;
  std::optional<uint64_t> start_time;  // since boot, in the system's unit (Linux: clock ticks)
  std::string exe;                     // empty when unreadable
  std::vector<std::string> argv;       // empty when unreadable (kernel threads have none)
};

// /proc/PID/stat: the state (field 3) and start time (field 22). Fields are counted after the
// last ')', since the command name (field 2) may hold spaces and parentheses.
struct ProcStat {
  char state = 0;
  uint64_t start_time = 0;
};
std::optional<ProcStat> ParseProcStat(const std::string& text);
// /proc/PID/cmdline: arguments, each ended by a NUL.
std::vector<std::string> ParseCmdline(const std::string& text);

// Empty when `view` is the daemon: alive, started when `record` says (when it says), running the
// recorded executable or one whose file name is among `names` (the program, and the file its
// path resolves to), with every argument of `who`. Else why not, to report.
std::string WhyNotOurs(const PidRecord& record, const ProcessView& view, const DaemonIdentity& who,
                       const std::vector<std::string>& names);

// Looks a process up. kUnverifiable: this system offers no way to (neither /proc nor FreeBSD's
// kern.proc sysctl); there a live pid is trusted, as nothing better is possible.
struct ProcessLookup {
  enum { kGone, kSeen, kUnverifiable } what = kGone;
  ProcessView view;
};
ProcessLookup LookUpProcess(int pid);

// Writes `pid`, with its start time and executable, to `pidfile` (0600, atomically).
Status WritePidfile(const std::string& pidfile, int pid);

// The pid in `pidfile` when that process is alive and is the daemon `who`, else 0 (and, when
// `why` is given, the reason: no file, not running, or whose process the pid now is).
int PidFromFile(const std::string& pidfile, const DaemonIdentity& who, std::string* why = nullptr);
// Sends `sig` to the daemon in `pidfile`; with `wait_exit`, waits up to that long for it to go,
// then kills it. A pid that is not the daemon is never signalled: the stale file is removed.
Status SignalPidfile(const std::string& pidfile, const DaemonIdentity& who, int sig,
                     std::chrono::milliseconds wait_exit = {});

}  // namespace vpcctl::exec
