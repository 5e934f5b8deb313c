// vpcctl node check: every node in parallel, over the same verified connections deploy uses.
#include "vpcctl/fabric/check.h"

#include <chrono>
#include <mutex>
#include <ostream>

#include "vpcctl/base/parallel.h"
#include "vpcctl/base/text.h"
#include "vpcctl/fabric/format.h"
#include "vpcctl/fabric/remote.h"
#include "vpcctl/model/names.h"
#include "vpcctl/version.h"

namespace vpcctl::fabric {

namespace {

struct CheckResult {
  std::string node;
  bool local = false;
  std::string reach = "-";     // ok | failed
  std::string host_key = "-";  // ok | CHANGED | unpinned
  std::string auth = "-";      // key | password | failed
  std::string version;
  double connect_ms = -1;
  double rtt_ms = -1;
  std::string error;
  bool ok() const { return error.empty(); }
};

CheckResult CheckOne(Context& ctx, const ssh::KnownHosts& pins, const model::Node& n,
                     std::chrono::milliseconds timeout) {
  CheckResult r;
  r.node = n.name;
  if (n.is_local) {
    r.local = true;
    r.reach = r.host_key = r.auth = "local";
    r.version = VPCCTL_VERSION;
    return r;
  }
  auto conn = ConnectNode(ctx, pins, n, timeout);
  if (!conn) {
    const Error& e = conn.error();
    r.error = Printable(e.message);
    if (e.kind == ssh::kErrConnect) {
      r.reach = "failed";
    } else if (e.kind == ssh::kErrHostKey) {
      r.reach = "ok";
      r.host_key = pins.Find(n.ssh_host, n.ssh_port) ? "CHANGED" : "unpinned";
    } else {
      r.reach = "ok";
      r.host_key = "ok";
      r.auth = "failed";
    }
    return r;
  }
  r.reach = r.host_key = "ok";
  r.auth = StartsWith((*conn)->auth_method(), "key") ? "key" : (*conn)->auth_method();
  r.connect_ms = (*conn)->connect_ms();
  auto version =
      RunOn(**conn, n, RemoteVpcctl(n, WithDeadline(timeout, {"--version"})), "", timeout);
  if (!version) {
    r.error = "node " + Quoted(n.name) + ": " + Printable(version.error().message);
    return r;
  }
  r.rtt_ms = version->ms;
  auto parsed = version->ok() ? ParseVersion(version->out) : std::nullopt;
  if (parsed) {
    r.version = *parsed;
  } else if (version->ok()) {
    r.error = "node " + Quoted(n.name) + ": its vpcctl answered --version with " + "'" +
              Printable(Trim(version->out), 64) + "'" + ", not a version";
  } else {
    r.error = "node " + Quoted(n.name) + ": vpcctl is not runnable there (" +
              Printable(Trim(version->err.empty() ? version->out : version->err), 512) + ")";
  }
  return r;
}

nlohmann::json OrNull(const std::string& s) {
  return s.empty() ? nlohmann::json() : nlohmann::json(s);
}
nlohmann::json OrNull(double v) { return v < 0 ? nlohmann::json() : nlohmann::json(v); }

std::string OneDecimal(double v) {
  if (v < 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// The nodes named (all when none is), each refused name reported at once.
Result<std::vector<const model::Node*>> CheckTargets(const model::Fabric& fabric,
                                                     const std::vector<std::string>& names) {
  std::vector<const model::Node*> nodes;
  if (names.empty()) {
    for (const auto& n : fabric.nodes) nodes.push_back(&n);
    return nodes;
  }
  Problems problems;
  for (const auto& name : names) {
    const model::Node* n = fabric.FindNode(name);
    if (!n) {
      problems.Add(UsageError("unknown node " + Quoted(name) + " (see `vpcctl node list`)"));
    } else {
      nodes.push_back(n);
    }
  }
  VPC_TRY(problems.ToStatus());
  return nodes;
}

// Every node checked at once (as many at a time as a fan-out): whatever goes wrong with one node
// is that node's failure, never the controller's.
std::vector<CheckResult> CheckAll(Context& ctx, const ssh::KnownHosts& pins,
                                  const std::vector<const model::Node*>& nodes,
                                  std::chrono::milliseconds timeout) {
  std::vector<CheckResult> results(nodes.size());
  FanOutProgress progress(ctx.io, nodes.size());
  ParallelFor(nodes.size(), FanOutLimits{}.parallel, [&](size_t i) {
    auto start = std::chrono::steady_clock::now();
    try {
      results[i] = CheckOne(ctx, pins, *nodes[i], timeout);
    } catch (const std::exception& e) {
      results[i].node = nodes[i]->name;
      results[i].error = "checking it failed: " + Printable(e.what());
    }
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    progress.Done(nodes[i]->name, results[i].error, ms);
  });
  return results;
}

// Records what was seen of each remote node: the last check and its vpcctl's version.
Status RecordChecks(Context& ctx, const std::vector<CheckResult>& results) {
  std::string now = UtcNow();
  VPC_ASSIGN_OR_RETURN(auto w, Session::Write(ctx));
  for (const auto& r : results) {
    if (r.local) continue;
    model::Node* n = w->fabric.FindNode(r.node);
    if (!n) continue;
    n->last_check = now + (r.ok() ? " ok" : " failed");
    if (!r.version.empty()) n->remote_version = r.version;
    VPC_TRY(w->store().SaveNode(*n));
  }
  return w->Commit(false);
}

nlohmann::json CheckJson(const std::vector<CheckResult>& results, size_t failed) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& r : results) {
    arr.push_back({{"name", r.node},
                   {"ok", r.ok()},
                   {"local", r.local},
                   {"reachable", r.reach},
                   {"host_key", r.host_key},
                   {"auth", r.auth},
                   {"version", OrNull(r.version)},
                   {"connect_ms", OrNull(r.connect_ms)},
                   {"rtt_ms", OrNull(r.rtt_ms)},
                   {"error", OrNull(r.error)}});
  }
  return {{"nodes", arr}, {"failed", failed}};
}

void PrintCheck(const Output& io, const std::vector<CheckResult>& results) {
  Table t({"NODE", "REACH", "HOST KEY", "AUTH", "VPCCTL", "CONNECT MS", "RTT MS"});
  for (const auto& r : results) {
    t.Row({r.node, r.reach, r.host_key, r.auth, r.version.empty() ? "-" : r.version,
           OneDecimal(r.connect_ms), OneDecimal(r.rtt_ms)});
  }
  t.Print(io.out);
  for (const auto& r : results)
    if (!r.ok()) io.err << "vpcctl: error: " << r.error << "\n";
}

}  // namespace

// Pipeline: validate, the target nodes, check them all, record what was seen, render, verdict.
Status NodeCheck(Context& ctx, const NodeCheckOptions& o) {
  Problems problems;
  for (const auto& n : o.names) problems.Add(model::ValidateNodeName(n));
  auto timeout = ParseConnectTimeout(o.timeout);
  problems.Add(timeout);
  VPC_TRY(problems.ToStatus());
  VPC_ASSIGN_OR_RETURN(auto s, Session::Read(ctx));
  VPC_ASSIGN_OR_RETURN(auto nodes, CheckTargets(s->fabric, o.names));
  VPC_ASSIGN_OR_RETURN(auto pins, ssh::LoadKnownHosts(ctx.paths.known_hosts()));
  auto results = CheckAll(ctx, pins, nodes, *timeout);
  if (auto recorded = RecordChecks(ctx, results); !recorded.ok()) {
    ctx.io.Warn("could not record the check: " + recorded.error().message);
  }
  size_t failed = 0, remote = 0;
  for (const auto& r : results) {
    if (!r.local) ++remote;
    if (!r.ok()) ++failed;
  }
  if (o.json) {
    PrintJson(ctx.io.out, CheckJson(results, failed));
  } else {
    PrintCheck(ctx.io, results);
  }
  if (failed == 0) return {};
  Exit code = failed >= remote ? Exit::kAllFailed : Exit::kPartial;
  return Error{std::to_string(failed) + " of " + std::to_string(remote) + " nodes failed the check",
               code};
}

}  // namespace vpcctl::fabric
