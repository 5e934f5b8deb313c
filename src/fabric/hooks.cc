#include "vpcctl/fabric/hooks.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "vpcctl/base/text.h"
#include "vpcctl/exec/runner.h"
#include "vpcctl/version.h"

namespace vpcctl::fabric {

namespace {

constexpr char kHookPath[] = "PATH=" VPCCTL_DEFAULT_PATH;
constexpr size_t kLogMax = 1 << 20;

std::string Absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[4096];
  return getcwd(cwd, sizeof cwd) ? std::string(cwd) + "/" + path : path;
}

std::string ModeText(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

FileFacts Facts(const exec::Host& host, const std::string& path) {
  exec::FileInfo i = host.Stat(path);
  return FileFacts{path, i.exists, i.directory, i.regular, i.uid, i.mode};
}

std::vector<FileFacts> Entries(const exec::Host& host, const std::string& dir) {
  std::vector<FileFacts> out;
  for (const auto& name : host.ListDir(dir)) out.push_back(Facts(host, dir + "/" + name));
  return out;
}

std::string Duration(std::chrono::milliseconds d) {
  return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + " s"
                               : std::to_string(d.count()) + " ms";
}

std::string Outcome(const Result<exec::CommandResult>& r, const HookLimits& limits) {
  if (!r) return r.error().message;
  if (!r->timed_out) return "exit " + std::to_string(r->exit_code);
  return "timed out after " + Duration(limits.timeout) + ": " +
         (r->exit_code == 128 + SIGKILL ? "killed (SIGKILL)" : "stopped (SIGTERM)");
}

std::string LogLine(const HookEvent& e, const std::string& path, const std::string& what) {
  return e.at + " " + e.vpc + " vhid " + std::to_string(e.vhid) + " " + e.state + " " +
         Quoted(path) + ": " + what + "\n";
}

// In the detached process: each hook in turn, each result logged as it comes.
void RunInTurn(const store::StatePaths& paths, const HookEvent& e,
               const std::vector<std::string>& hooks, const std::vector<std::string>& env,
               const HookLimits& limits) {
  for (const auto& h : hooks) {
    auto r = exec::RunProgram(h, env, limits.timeout, limits.grace);
    (void)AppendHookLog(exec::SystemHost(), paths, LogLine(e, h, Outcome(r, limits)));
  }
}

}  // namespace

std::vector<std::string> HookEnvironment(const HookEvent& e, const std::string& state_dir) {
  return {kHookPath,           "VPC=" + e.vpc,         "VIP=" + e.vip,
          "VHID=" + std::to_string(e.vhid), "STATE=" + e.state,
          "VPCCTL_STATE_DIR=" + state_dir};
}

std::string Untrusted(const FileFacts& f, unsigned euid) {
  if (f.uid != 0 && f.uid != euid) {
    return "owned by uid " + std::to_string(f.uid) + ", not root" +
           (euid != 0 ? " or uid " + std::to_string(euid) : "");
  }
  bool group = f.mode & S_IWGRP, world = f.mode & S_IWOTH;
  if (!group && !world) return {};
  return std::string(group && world ? "group- and world-writable"
                     : group        ? "group-writable"
                                    : "world-writable") +
         " (mode " + ModeText(f.mode) + ")";
}

HookSelection SelectHooks(const FileFacts& dir, std::vector<FileFacts> entries, unsigned euid) {
  HookSelection s;
  if (!dir.exists) return s;
  std::string why = !dir.directory ? "not a directory" : Untrusted(dir, euid);
  if (!why.empty()) {
    s.skipped.emplace_back(dir.path, why + "; no hook runs");
    return s;
  }
  std::sort(entries.begin(), entries.end(),
            [](const FileFacts& a, const FileFacts& b) { return a.path < b.path; });
  for (const auto& f : entries) {
    if (!f.exists || !f.regular || (f.mode & 0111) == 0) continue;
    why = Untrusted(f, euid);
    if (why.empty()) {
      s.run.push_back(f.path);
    } else {
      s.skipped.emplace_back(f.path, why);
    }
  }
  return s;
}

Status AppendHookLog(const exec::Host& host, const store::StatePaths& paths,
                     const std::string& lines) {
  std::string log = paths.dir + "/hooks.log";
  VPC_ASSIGN_OR_RETURN(store::StateLock lock,
                       store::StateLock::Acquire(paths.dir + "/hooks.lock", "hooks.log",
                                                 std::chrono::seconds(30)));
  exec::FileInfo info = host.Stat(log);
  if (info.exists && info.size + lines.size() > kLogMax) {
    VPC_ASSIGN_OR_RETURN(std::string old, host.ReadFile(log));
    if (old.size() > kLogMax / 2) old = old.substr(old.size() - kLogMax / 2);
    old = old.substr(std::min(old.size(), old.find('\n') + 1));  // from a whole line
    return host.WriteFile(log, old + lines, 0600);
  }
  return host.AppendFile(log, lines, 0600);
}

Status RunHooks(Context& ctx, const HookEvent& e, const HookLimits& limits) {
  std::string state_dir = Absolute(ctx.paths.dir);
  std::string dir = state_dir + "/hooks.d";
  const exec::Host& host = ctx.Machine();
  HookSelection s = SelectHooks(Facts(host, dir), Entries(host, dir), geteuid());
  std::string skips;
  for (const auto& [path, why] : s.skipped) {
    ctx.io.Warn("hook " + Quoted(path) + " skipped: " + why);
    skips += LogLine(e, path, "skipped: " + why);
  }
  if (!skips.empty()) VPC_TRY(AppendHookLog(host, ctx.paths, skips));
  if (s.run.empty()) return {};
  store::StatePaths paths{state_dir};
  std::vector<std::string> env = HookEnvironment(e, state_dir);
  return exec::Detach([&] { RunInTurn(paths, e, s.run, env, limits); });
}

}  // namespace vpcctl::fabric
