#include "vpcctl/exec/pidfile.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#if defined(__FreeBSD__)
#include <sys/types.h>
#include <sys/sysctl.h>
#include <sys/user.h>
#endif

#include "vpcctl/base/text.h"
#include "vpcctl/exec/runner.h"

namespace vpcctl::exec {

namespace {

constexpr uint64_t kMaxPid = 1 << 30;
constexpr char kDeleted[] = " (deleted)";

std::string BaseName(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// An executable replaced while it runs (a package upgrade) reads "/usr/sbin/x (deleted)".
std::string Undeleted(std::string exe) {
  size_t n = sizeof kDeleted - 1;
  if (exe.size() > n && exe.compare(exe.size() - n, n, kDeleted) == 0) exe.resize(exe.size() - n);
  return exe;
}

std::string Slurp(const std::string& path, bool* ok = nullptr) {
  std::ifstream in(path, std::ios::binary);
  if (ok) *ok = static_cast<bool>(in);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::optional<PidRecord> ParsePidRecord(const std::string& text) {
  std::vector<std::string> lines = Split(text, '\n');
  if (lines.empty()) return std::nullopt;
  auto pid = ParseUint(Trim(lines[0]), kMaxPid);
  if (!pid || *pid <= 1) return std::nullopt;
  PidRecord r;
  r.pid = static_cast<int>(*pid);
  if (lines.size() < 2 || lines[1].empty()) return r;
  std::string_view rest = lines[1];
  if (!StartsWith(rest, "start=")) return std::nullopt;
  rest.remove_prefix(6);
  size_t sp = rest.find(' ');
  auto start = ParseUint(rest.substr(0, sp));
  if (!start) return std::nullopt;
  r.start_time = *start;
  if (sp == std::string_view::npos) return r;
  rest.remove_prefix(sp + 1);
  if (!StartsWith(rest, "exe=")) return std::nullopt;
  r.exe = std::string(rest.substr(4));
  return r;
}

std::string FormatPidRecord(const PidRecord& r) {
  std::string out = std::to_string(r.pid) + "\n";
  if (r.start_time) {
    out += "start=" + std::to_string(*r.start_time);
    if (!r.exe.empty()) out += " exe=" + r.exe;
    out += "\n";
  }
  return out;
}

std::optional<ProcStat> ParseProcStat(const std::string& text) {
  size_t close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  // After ')': field 3 (state) is the first word, field 22 (start time) the twentieth.
  std::vector<std::string> words;
  for (const auto& w : Split(std::string_view(text).substr(close + 1), ' ')) {
    if (!w.empty()) words.push_back(std::string(Trim(w)));
  }
  if (words.size() < 20 || words[0].size() != 1) return std::nullopt;
  auto start = ParseUint(words[19]);
  if (!start) return std::nullopt;
  return ProcStat{words[0][0], *start};
}

std::vector<std::string> ParseCmdline(const std::string& text) {
  std::vector<std::string> argv = Split(text, '\0');
  if (!argv.empty() && argv.back().empty()) argv.pop_back();
  return argv;
}

std::string WhyNotOurs(const PidRecord& record, const ProcessView& view, const DaemonIdentity& who,
                       const std::vector<std::string>& names) {
  std::string pid = "pid " + std::to_string(record.pid);
  if (view.zombie) return pid + " is a zombie";
  if (record.start_time && view.start_time != record.start_time) {
    return pid + " started at " + (view.start_time ? std::to_string(*view.start_time) : "?") +
           ", not at " + std::to_string(*record.start_time) + " as recorded: the pid was reused";
  }
  std::string exe = Undeleted(view.exe);
  bool recorded_exe = !record.exe.empty() && !exe.empty() && exe == record.exe;
  std::string name = BaseName(!exe.empty() ? exe : view.argv.empty() ? "" : view.argv[0]);
  bool named = std::find(names.begin(), names.end(), name) != names.end();
  if (!recorded_exe && !named) {
    std::string runs = !exe.empty() ? exe : view.argv.empty() ? "nothing known" : view.argv[0];
    return pid + " runs " + Quoted(runs) + ", not " + who.program;
  }
  for (const auto& a : who.args) {
    if (std::find(view.argv.begin(), view.argv.end(), a) == view.argv.end()) {
      return pid + " is a " + who.program + " without " + Quoted(a) + " on its command line";
    }
  }
  return {};
}

#if defined(__linux__)
// Linux: /proc. Without /proc mounted there is no way to tell.
ProcessLookup LookUpProcess(int pid) {
  ProcessLookup r;
  std::string dir = "/proc/" + std::to_string(pid);
  bool ok = false;
  std::string stat_text = Slurp(dir + "/stat", &ok);
  if (!ok) {
    if (access("/proc/self/stat", R_OK) != 0) r.what = ProcessLookup::kUnverifiable;
    return r;
  }
  auto stat = ParseProcStat(stat_text);
  if (!stat) return r;
  r.what = ProcessLookup::kSeen;
  r.view.zombie = stat->state == 'Z' || stat->state == 'X';
  r.view.start_time = stat->start_time;
  char buf[PATH_MAX];
  ssize_t n = readlink((dir + "/exe").c_str(), buf, sizeof buf - 1);
  if (n > 0) r.view.exe.assign(buf, static_cast<size_t>(n));
  r.view.argv = ParseCmdline(Slurp(dir + "/cmdline"));
  return r;
}
#elif defined(__FreeBSD__)
// FreeBSD: the kern.proc sysctls (procfs is rarely mounted). Start time in microseconds.
ProcessLookup LookUpProcess(int pid) {
  ProcessLookup r;
  int mib[4] = {CTL_KERN, KERN_PROC, KERN_PROC_PID, pid};
  kinfo_proc kp{};
  size_t len = sizeof kp;
  if (sysctl(mib, 4, &kp, &len, nullptr, 0) != 0 || len < sizeof kp) return r;
  r.what = ProcessLookup::kSeen;
  constexpr char kZombie = 5;  // SZOMB in <sys/proc.h>
  r.view.zombie = kp.ki_stat == kZombie;
  r.view.start_time = static_cast<uint64_t>(kp.ki_start.tv_sec) * 1000000u +
                      static_cast<uint64_t>(kp.ki_start.tv_usec);
  char path[PATH_MAX];
  len = sizeof path;
  mib[2] = KERN_PROC_PATHNAME;
  if (sysctl(mib, 4, path, &len, nullptr, 0) == 0 && len > 0) r.view.exe = path;
  std::string args(ARG_MAX, '\0');
  len = args.size();
  mib[2] = KERN_PROC_ARGS;
  if (sysctl(mib, 4, args.data(), &len, nullptr, 0) == 0) {
    args.resize(len);
    r.view.argv = ParseCmdline(args);
  }
  return r;
}
#else
ProcessLookup LookUpProcess(int) {
  ProcessLookup r;
  r.what = ProcessLookup::kUnverifiable;
  return r;
}
#endif

namespace {

// The file names a daemon's executable may have: the program's, and that of the file its path
// resolves to (a symlink to a versioned binary).
std::vector<std::string> ExeNames(const std::string& program) {
  std::vector<std::string> names = {BaseName(program)};
  std::string found = FindProgram(program);
  if (char* real = found.empty() ? nullptr : realpath(found.c_str(), nullptr)) {
    names.push_back(BaseName(real));
    std::free(real);
  }
  return names;
}

bool Alive(int pid) { return kill(pid, 0) == 0 || errno == EPERM; }

// Empty when the process of `record` is alive and is `who`, else why not.
std::string Check(const PidRecord& record, const DaemonIdentity& who) {
  std::string pid = "pid " + std::to_string(record.pid);
  if (!Alive(record.pid)) return pid + " is not running";
  ProcessLookup p = LookUpProcess(record.pid);
  if (p.what == ProcessLookup::kGone) return pid + " is not running";
  if (p.what == ProcessLookup::kUnverifiable) return {};
  return WhyNotOurs(record, p.view, who, ExeNames(who.program));
}

// Whether the process that had `pid` (started at `started`, when known) has not yet exited: alive,
// not a zombie, and not replaced by another process of the same pid.
bool StillRunning(int pid, std::optional<uint64_t> started) {
  if (!Alive(pid)) return false;
  ProcessLookup p = LookUpProcess(pid);
  if (p.what == ProcessLookup::kGone) return false;
  if (p.what == ProcessLookup::kUnverifiable) return true;
  if (p.view.zombie) return false;
  return !started || p.view.start_time == started;
}

std::optional<PidRecord> ReadRecord(const std::string& pidfile, std::string* why) {
  bool ok = false;
  std::string text = Slurp(pidfile, &ok);
  if (!ok) {
    if (why) *why = "no pid file " + pidfile;
    return std::nullopt;
  }
  auto record = ParsePidRecord(text);
  if (!record && why) *why = "pid file " + pidfile + " holds no pid";
  return record;
}

}  // namespace

Status WritePidfile(const std::string& pidfile, int pid) {
  PidRecord r;
  r.pid = pid;
  ProcessLookup p = LookUpProcess(pid);
  if (p.what == ProcessLookup::kSeen) {
    r.start_time = p.view.start_time;
    r.exe = Undeleted(p.view.exe);
  }
  std::string text = FormatPidRecord(r);
  std::string tmp = pidfile + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool written = fd >= 0 && write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  if (fd >= 0) close(fd);
  if (!written || rename(tmp.c_str(), pidfile.c_str()) != 0) {
    return Failure("cannot write the pid file " + pidfile + ": " + std::strerror(errno));
  }
  return {};
}

int PidFromFile(const std::string& pidfile, const DaemonIdentity& who, std::string* why) {
  auto record = ReadRecord(pidfile, why);
  if (!record) return 0;
  std::string not_ours = Check(*record, who);
  if (why) *why = not_ours;
  return not_ours.empty() ? record->pid : 0;
}

Status SignalPidfile(const std::string& pidfile, const DaemonIdentity& who, int sig,
                     std::chrono::milliseconds wait_exit) {
  auto record = ReadRecord(pidfile, nullptr);
  if (!record) return {};
  if (!Check(*record, who).empty()) {
    std::remove(pidfile.c_str());  // stale: what it names is gone or a stranger
    return {};
  }
  // The start time seen now tells this process from a later one given the same pid.
  std::optional<uint64_t> started = record->start_time;
  if (!started) started = LookUpProcess(record->pid).view.start_time;
  if (kill(record->pid, sig) != 0) {
    return Failure("cannot signal pid " + std::to_string(record->pid) + ": " +
                   std::strerror(errno));
  }
  if (wait_exit.count() <= 0) return {};
  // Waited for until it has exited, not merely until it stops looking like `who`: while a
  // process exits, its executable and command line vanish before it closes its files and
  // sockets, which a successor started next may need.
  auto deadline = std::chrono::steady_clock::now() + wait_exit;
  while (StillRunning(record->pid, started)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(record->pid, SIGKILL);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return {};
}

}  // namespace vpcctl::exec
