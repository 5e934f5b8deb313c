// Reaching nodes: connections verified against the pinned host key, remote vpcctl invocations,
// and bounded parallel fan-out.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/fabric/context.h"
#include "vpcctl/model/fabric.h"
#include "vpcctl/model/reports.h"
#include "vpcctl/ssh/client.h"
#include "vpcctl/ssh/known_hosts.h"

namespace vpcctl::fabric {

inline constexpr std::chrono::milliseconds kDefaultConnectTimeout{5000};
inline constexpr std::chrono::milliseconds kDefaultCommandTimeout{60000};

ssh::Endpoint EndpointOf(const model::Node& n);

// A command's limit in whole seconds, 1 to `max`: "invalid FLAG 'TEXT': must be 1-MAX seconds".
Result<std::chrono::milliseconds> ParseSeconds(const char* flag, const std::string& text,
                                               uint64_t max);
// --timeout, the limit on reaching one node (connection and handshake): 1-600 seconds.
inline Result<std::chrono::milliseconds> ParseConnectTimeout(const std::string& text) {
  return ParseSeconds("--timeout", text, 600);
}

// Accepts only the key pinned for the node; a changed key is refused naming both fingerprints, a
// node without a pin is refused with a hint to enrol it.
ssh::HostKeyCheck PinnedCheck(const ssh::KnownHosts& pins, const model::Node& n);

// An authenticated connection to an enrolled node, with our key.
Result<std::unique_ptr<ssh::Connection>> ConnectNode(Context& ctx, const ssh::KnownHosts& pins,
                                                     const model::Node& n,
                                                     std::chrono::milliseconds timeout);

// `vpcctl` on the node, or the path recorded with --remote-vpcctl, followed by `args`.
std::vector<std::string> RemoteVpcctl(const model::Node& n, std::vector<std::string> args);

// `--deadline SECS ARGS...`: what the node's vpcctl runs so that it stops itself (exit 124) at
// the deadline. Every command run on a node as root is `vpcctl --deadline SECS ...`, so sudoers
// need allow vpcctl alone.
std::vector<std::string> WithDeadline(std::chrono::milliseconds deadline,
                                      std::vector<std::string> args);

// Runs argv on the node (through `sudo -n` for non-root users).
Result<ssh::RemoteResult> RunOn(ssh::Connection& c, const model::Node& n,
                                std::vector<std::string> argv, const std::string& input,
                                std::chrono::milliseconds timeout);

// The key-management scripts sent to `sh -s` (constant text; arguments are validated tokens).
extern const char* const kInstallKeyScript;
extern const char* const kRemoveKeyScript;

struct FanOutLimits {
  std::chrono::milliseconds connect{kDefaultConnectTimeout};
  std::chrono::milliseconds command{300000};  // per node; the node stops its command at it too
  size_t parallel = 32;
};

// Which report the node-side command prints (model/reports.h).
enum class ReportKind { kApply, kStatus, kKey, kImport, kVipTake };

// What one node answered, as its typed report, or why it could not. A report that does not
// validate, an answer past the output cap, anything that went wrong reading it: that node's error,
// never the controller's.
struct Answer {
  std::string node;
  bool reached = false;
  std::variant<std::monostate, model::ApplyReport, model::StatusReport, model::KeyReport,
               model::ImportReport, model::VipTakeReport>
      report;
  std::string error;  // empty on success; always printable (made so from what the node sent)
  double ms = 0;
  bool agent = false;  // the node's agent answered (Request::agent), not a command

  template <class Report>
  const Report* Get() const {
    return std::get_if<Report>(&report);
  }
};

// A command to run on every target: `vpcctl ARGS` with INPUT on stdin, printing a `report`.
// `args` and `input` run on the fan-out's threads, at once: they must be pure (no database).
struct Request {
  std::function<std::vector<std::string>(const model::Node&)> args;
  std::function<std::string(const model::Node&)> input;  // empty: no input
  ReportKind report = ReportKind::kApply;
  // The same request for the node's agent (agent/protocol.h: its request line, which `input`
  // follows), which answers without starting a process there; empty: always run the command. A node
  // whose agent cannot be reached (none running, not Linux, not root, forwarding refused) runs the
  // command.
  std::function<std::string(const model::Node&)> agent;
  // The caller prints each node's line on stdout as it lands (deploy's text): the progress on
  // stderr is then the counter alone.
  bool lines_on_stdout = false;
};

// A fan-out's progress on stderr (Output::Progress): the counter from the start, then a line per
// node as it lands, "h2: answered (312 ms)" or "h2: FAILED after 5000 ms: why" (FAILED in red when
// the output has color); only the counter when `lines` is false. Thread-safe.
class FanOutProgress {
 public:
  FanOutProgress(const Output& io, size_t total, bool lines = true);
  void Done(const std::string& node, const std::string& error, double ms);

 private:
  const Output& io_;
  size_t total_, done_ = 0;
  bool lines_;
  std::mutex mu_;
};

// Runs the request on every target: over SSH, or as a child process for the local node; all at
// once, `parallel` at most. Calls on_done (under a lock, may be empty) as each answer arrives.
std::vector<Answer> FanOut(Context& ctx, const model::Fabric& fabric,
                           const std::vector<std::string>& targets, const Request& request,
                           const FanOutLimits& limits,
                           const std::function<void(const Answer&)>& on_done);

// Reads one node's output into `a`: its report (validated as `kind`) or its error. Pure: the
// part of FanOut that a fuzzer and unit tests drive directly.
void ReadAnswer(const ssh::RemoteResult& r, ReportKind kind, const FanOutLimits& limits, Answer& a);

// The version `vpcctl --version` printed ("0.1.0", "1.2.3-rc1"), or nothing when the output is
// not one (at most 64 characters: digits and dots, then an optional -, + or ~ suffix).
std::optional<std::string> ParseVersion(std::string_view output);

}  // namespace vpcctl::fabric
