#include "vpcctl/fabric/remote.h"

#include <algorithm>
#include <atomic>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "vpcctl/agent/protocol.h"
#include "vpcctl/base/output_cap.h"
#include "vpcctl/base/parallel.h"
#include "vpcctl/base/text.h"
#include "vpcctl/exec/runner.h"
#include "vpcctl/model/json_reader.h"
#include "vpcctl/ssh/keys.h"

namespace vpcctl::fabric {

using Clock = std::chrono::steady_clock;

ssh::Endpoint EndpointOf(const model::Node& n) {
  return ssh::Endpoint{n.ssh_host, n.ssh_port, n.ssh_user};
}

ssh::HostKeyCheck PinnedCheck(const ssh::KnownHosts& pins, const model::Node& n) {
  auto pinned = pins.Find(n.ssh_host, n.ssh_port);
  std::string name = n.name;
  std::string where = n.ssh_host + " port " + std::to_string(n.ssh_port);
  return [pinned, name, where](const ssh::HostKey& presented) -> Status {
    if (!pinned) {
      return Failure("node " + Quoted(name) + " (" + where +
                     ") has no pinned host key; enrol it with `vpcctl node add` before using it");
    }
    if (*pinned == presented) return {};
    auto old_fp = ssh::Fingerprint(pinned->Line());
    auto new_fp = ssh::Fingerprint(presented.Line());
    return Failure("the host key of node " + Quoted(name) + " (" + where + ") has CHANGED: pinned " +
                   (old_fp ? *old_fp : std::string("?")) + ", presented " +
                   (new_fp ? *new_fp : std::string("?")) +
                   "; nothing was sent. If the host was reinstalled, re-pin it with `vpcctl node update " +
                   name + " --repin`.");
  };
}

Result<std::chrono::milliseconds> ParseSeconds(const char* flag, const std::string& text,
                                               uint64_t max) {
  auto v = ParseUint(text, max);
  if (!v || *v == 0) {
    return UsageError("invalid " + std::string(flag) + " " + Quoted(text) + ": must be 1-" +
                      std::to_string(max) + " seconds");
  }
  return std::chrono::milliseconds(*v * 1000);
}

Result<std::unique_ptr<ssh::Connection>> ConnectNode(Context& ctx, const ssh::KnownHosts& pins,
                                                     const model::Node& n,
                                                     std::chrono::milliseconds timeout) {
  ssh::ConnectSpec spec;
  spec.endpoint = EndpointOf(n);
  spec.timeout = timeout;
  spec.check_host_key = PinnedCheck(pins, n);
  if (auto pinned = pins.Find(n.ssh_host, n.ssh_port)) spec.pinned = *pinned;
  spec.identities = {ctx.paths.private_key()};
  auto c = ctx.ssh.Connect(spec);
  if (!c) {
    Error e = c.take_error();
    e.message = "node " + Quoted(n.name) + ": " + e.message;
    return e;
  }
  return c;
}

std::vector<std::string> RemoteVpcctl(const model::Node& n, std::vector<std::string> args) {
  std::vector<std::string> argv = {n.remote_vpcctl.empty() ? "vpcctl" : n.remote_vpcctl};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::vector<std::string> WithDeadline(std::chrono::milliseconds deadline,
                                      std::vector<std::string> args) {
  auto secs = std::max<int64_t>(1, deadline.count() / 1000);
  args.insert(args.begin(), {"--deadline", std::to_string(secs)});
  return args;
}

Result<ssh::RemoteResult> RunOn(ssh::Connection& c, const model::Node& n,
                                std::vector<std::string> argv, const std::string& input,
                                std::chrono::milliseconds timeout) {
  VPC_ASSIGN_OR_RETURN(ssh::RemoteCommand cmd, ssh::RemoteCommand::Make(std::move(argv)));
  return c.Run(cmd, n.use_sudo, input, timeout);
}

// $1 $2 = key type and base64, $3 = comment. Appends the key once; creates ~/.ssh 0700 and
// authorized_keys 0600. Prints "added" or "present".
const char* const kInstallKeyScript = R"sh(set -e
umask 077
dir="$HOME/.ssh"
file="$dir/authorized_keys"
mkdir -p "$dir"
chmod 700 "$dir"
[ -f "$file" ] || : > "$file"
chmod 600 "$file"
if grep -qF "$1 $2" "$file"; then
  echo present
else
  if [ -s "$file" ] && [ -n "$(tail -c 1 "$file")" ]; then echo >> "$file"; fi
  printf '%s %s %s\n' "$1" "$2" "$3" >> "$file"
  echo added
fi
)sh";

// $1 $2 = key type and base64. Removes every line holding the key. Prints "removed" or "absent".
const char* const kRemoveKeyScript = R"sh(set -e
umask 077
file="$HOME/.ssh/authorized_keys"
if [ -f "$file" ] && grep -qF "$1 $2" "$file"; then
  tmp="$file.vpcctl.$$"
  grep -vF "$1 $2" "$file" > "$tmp" || true
  chmod 600 "$tmp"
  mv "$tmp" "$file"
  echo removed
else
  echo absent
fi
)sh";

namespace {

template <class Report>
void Typed(const nlohmann::json& doc, Answer& a) {
  auto r = Report::FromJson(doc);
  if (r) {
    a.report = std::move(*r);
  } else if (a.error.empty()) {
    // "invalid apply report: ...", printable as every reader message is (and checked again here:
    // the text quotes what the node sent).
    a.error = "answered an " + Printable(r.error().message, model::kMaxReportText);
  }
}

}  // namespace

void ReadAnswer(const ssh::RemoteResult& r, ReportKind kind, const FanOutLimits& limits,
                Answer& a) {
  a.reached = true;
  if (r.overflow) {
    a.error = OverflowMessage(r.out.size(), r.err.size());
    return;  // what was read is a cut piece of the report: not read (nor parsed) as one
  }
  auto doc = model::ParseJsonObject(r.out, "report");
  std::string detail = Printable(Trim(r.err.empty() ? r.out : r.err), 512);
  if (r.timed_out || (r.exit_status == 124 && !doc) || r.exit_status == 137) {
    a.error = "stopped: no answer within the command timeout (" +
              std::to_string(limits.command.count() / 1000) + " s)";
  } else if (doc && doc->contains("error") && !(*doc)["error"].is_null()) {
    const auto& e = (*doc)["error"];
    a.error = e.is_string() ? Printable(e.get<std::string>(), model::kMaxReportText)
                            : "answered an invalid report: its error is not a string";
  } else if (r.exit_status == 127 && !doc) {
    a.error = "vpcctl is not installed there (or not on PATH: see `node add --remote-vpcctl`)";
  } else if (!doc && !Trim(r.out).empty() && Trim(r.out).front() == '{') {
    a.error = "answered an " + Printable(doc.error().message, model::kMaxReportText);
  } else if (!doc) {
    a.error = "exit " + std::to_string(r.exit_status) + (detail.empty() ? "" : ": " + detail);
  }
  if (!doc) return;
  switch (kind) {
    case ReportKind::kApply:
      return Typed<model::ApplyReport>(*doc, a);
    case ReportKind::kStatus:
      return Typed<model::StatusReport>(*doc, a);
    case ReportKind::kKey:
      return Typed<model::KeyReport>(*doc, a);
    case ReportKind::kImport:
      return Typed<model::ImportReport>(*doc, a);
    case ReportKind::kVipTake:
      return Typed<model::VipTakeReport>(*doc, a);
  }
}

FanOutProgress::FanOutProgress(const Output& io, size_t total, bool lines)
    : io_(io), total_(total), lines_(lines) {
  io_.Progress(0, total_, "");
}

void FanOutProgress::Done(const std::string& node, const std::string& error, double ms) {
  std::string line;
  if (lines_) {
    std::string took = std::to_string(static_cast<long>(ms + 0.5)) + " ms";
    std::string failed = io_.color ? "\033[1;31mFAILED\033[0m" : "FAILED";
    line = error.empty() ? node + ": answered (" + took + ")"
                         : node + ": " + failed + " after " + took + ": " + Printable(error, 512);
  }
  std::lock_guard<std::mutex> lock(mu_);
  io_.Progress(++done_, total_, line);
}

namespace {

// Whether the node may run an agent that its SSH login can reach: Linux nodes run one (apply
// starts it), and its socket answers only root.
bool AgentReachable(const model::Node& n) {
  return n.platform == model::Platform::kLinux && n.ssh_user == "root";
}

}  // namespace

std::vector<Answer> FanOut(Context& ctx, const model::Fabric& fabric,
                           const std::vector<std::string>& targets, const Request& request,
                           const FanOutLimits& limits,
                           const std::function<void(const Answer&)>& on_done) {
  std::vector<Answer> answers(targets.size());
  auto pins = ssh::LoadKnownHosts(ctx.paths.known_hosts());
  std::mutex mu;
  FanOutProgress progress(ctx.io, targets.size(), !request.lines_on_stdout);
  ParallelFor(targets.size(), limits.parallel, [&](size_t i) {
    Answer& a = answers[i];
    a.node = targets[i];
    auto start = Clock::now();
    const model::Node* n = fabric.FindNode(targets[i]);
    auto run = [&]() -> Result<ssh::RemoteResult> {
      if (!n) return Failure("unknown node");
      std::string input = request.input ? request.input(*n) : std::string();
      if (n->is_local && request.agent) {
        auto asked = agent::AskLocal(agent::SocketPath(ctx.paths.dir), request.agent(*n) + input,
                                     limits.command);
        if (asked) {
          auto answer = agent::ParseAnswer(*asked);
          a.agent = answer.ok();
          if (answer) return answer;
        }
      }
      if (n->is_local) {
        std::vector<std::string> argv = {ctx.Machine().SelfPath(), "--state-dir", ctx.paths.dir};
        auto more = request.args(*n);
        argv.insert(argv.end(), more.begin(), more.end());
        VPC_ASSIGN_OR_RETURN(auto r, ctx.runner.Run(argv, input, limits.command));
        return ssh::RemoteResult{r.exit_code, r.out, r.err, r.timed_out, 0, r.overflow};
      }
      if (!pins) return pins.error();
      VPC_ASSIGN_OR_RETURN(auto conn, ConnectNode(ctx, *pins, *n, limits.connect));
      if (request.agent && AgentReachable(*n)) {
        std::string socket = agent::SocketPath(std::string(model::DefaultStateDir(n->platform)));
        auto streamed = conn->Stream(socket, request.agent(*n) + input, limits.command);
        if (streamed && (streamed->timed_out || streamed->overflow)) {
          a.agent = true;
          return streamed;  // the agent took the whole time, or answered too much
        }
        if (streamed) {
          auto answer = agent::ParseAnswer(streamed->out);
          a.agent = answer.ok();
          if (answer) return answer;
        }
      }
      // The node stops its command itself at the deadline (sshd does not pass signals to root
      // sessions); we wait a little longer to hear how it ended.
      auto argv = RemoteVpcctl(*n, WithDeadline(limits.command, request.args(*n)));
      return RunOn(*conn, *n, argv, input, limits.command + std::chrono::seconds(7));
    };
    // Nothing a node sends may end the controller: whatever goes wrong here is this node's error.
    try {
      auto r = run();
      if (r) {
        ReadAnswer(*r, request.report, limits, a);
      } else {
        a.error = Printable(r.error().message);
      }
    } catch (const std::exception& e) {
      a.error = "reading its answer failed: " + Printable(e.what());
    } catch (...) {
      a.error = "reading its answer failed";
    }
    a.ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    std::lock_guard<std::mutex> lock(mu);
    try {
      if (on_done) on_done(a);
    } catch (const std::exception& e) {
      if (a.error.empty()) a.error = "reporting its answer failed: " + Printable(e.what());
    }
    progress.Done(a.node, a.error, a.ms);
  });
  return answers;
}

std::optional<std::string> ParseVersion(std::string_view output) {
  std::string_view v = Trim(output);
  if (StartsWith(v, "vpcctl ")) v.remove_prefix(7);  // older vpcctl printed the number alone
  if (v.empty() || v.size() > 64 || v.front() < '0' || v.front() > '9') return std::nullopt;
  size_t i = 0;
  int dots = 0;
  bool digit = false;
  for (; i < v.size() && ((v[i] >= '0' && v[i] <= '9') || v[i] == '.'); ++i) {
    if (v[i] == '.') {
      if (!digit) return std::nullopt;
      ++dots;
      digit = false;
    } else {
      digit = true;
    }
  }
  if (!digit || dots < 1 || dots > 3) return std::nullopt;
  if (i < v.size() && v[i] != '-' && v[i] != '+' && v[i] != '~') return std::nullopt;
  for (; i < v.size(); ++i) {
    char c = v[i];
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '.' || c == '-' || c == '+' || c == '~';
    if (!ok) return std::nullopt;
  }
  return std::string(v);
}

}  // namespace vpcctl::fabric
