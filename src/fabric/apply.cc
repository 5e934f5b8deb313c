// The node side: map import and apply --local.
#include "vpcctl/fabric/apply.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <mutex>
#include <ostream>
#include <sstream>
#include <thread>

#include "vpcctl/base/text.h"
#include "vpcctl/exec/files.h"
#include "vpcctl/fabric/format.h"
#include "vpcctl/fabric/init.h"
#include "vpcctl/fabric/node_state.h"
#include "vpcctl/fabric/remote.h"
#include "vpcctl/model/names.h"
#include "vpcctl/model/reports.h"
#include "vpcctl/plan/diff.h"
#include "vpcctl/platform/driver.h"
#include "vpcctl/platform/linux.h"

namespace vpcctl::fabric {

using json = nlohmann::json;

namespace {

constexpr std::chrono::seconds kApplyLockWait{60};
constexpr std::chrono::seconds kDaemonReady{5};
constexpr std::chrono::milliseconds kHandshakeWait{500};
// A key switch this late after its moment is worth a warning.
constexpr int64_t kLateSwitchMs = 500;

std::string ReadAll(std::istream& in) {
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Receive packet steering over every CPU for `ifname` (Linux). Tuning only: a failure is a
// warning.
void SpreadReceive(Context& ctx, const std::string& ifname) {
  std::string path = "/sys/class/net/" + ifname + "/queues/rx-0/rps_cpus";
  std::string mask = platform::RpsMask(std::max(1u, std::thread::hardware_concurrency())) + "\n";
  if (!ctx.Machine().WriteInPlace(path, mask).ok())
    ctx.io.Warn("cannot spread " + ifname + "'s receive work over the CPUs (" + path + ")");
}

// Starts a daemon that stays in the foreground (wireguard-go) and waits until it accepts
// connections on its `ready` socket.
Status StartDetached(Context& ctx, const plan::DesiredDaemon& d) {
  VPC_ASSIGN_OR_RETURN(int pid, ctx.runner.Start(d.start, d.log, d.pidfile));
  const exec::Host& host = ctx.Machine();
  int64_t deadline = ctx.Time().NowMs() + kDaemonReady.count() * 1000;
  while (!d.ready.empty() && !host.Accepting(d.ready)) {
    if (host.DaemonPid(d.pidfile, Identity(d)) == 0 || ctx.Time().NowMs() > deadline) {
      return Failure(d.name + " (pid " + std::to_string(pid) + ") did not come up: no " + d.ready +
                     " after " + std::to_string(kDaemonReady.count()) + " s; see " + d.log);
    }
    ctx.Time().SleepMs(5);
  }
  if (!d.spread_interface.empty()) SpreadReceive(ctx, d.spread_interface);
  return {};
}

// Carries out the part of a step that is not a command, before its commands: files, daemon
// signals, detached daemons.
Status Effect(Context& ctx, const plan::Step& s) {
  const exec::Host& host = ctx.Machine();
  switch (s.action) {
    case plan::Action::kWriteFile:
      return host.WriteFile(s.file.path, s.file.content, s.file.mode);
    case plan::Action::kRemoveFile:
      return host.RemoveFile(s.file.path);
    case plan::Action::kLoadFirewall:
      return host.WriteFile(s.firewall.rules_path, s.firewall.rules, 0600);
    case plan::Action::kStartDaemon:
      for (const auto& f : s.daemon.stale) (void)host.RemoveFile(f);
      if (s.daemon.detach) return StartDetached(ctx, s.daemon);
      return {};
    case plan::Action::kReloadDaemon:
      if (s.daemon.reload_on_hup) return host.Signal(s.daemon.pidfile, Identity(s.daemon), SIGHUP);
      return host.Signal(s.daemon.pidfile, Identity(s.daemon), SIGTERM, std::chrono::seconds(3));
    case plan::Action::kStopDaemon:
      VPC_TRY(host.Signal(s.daemon.pidfile, Identity(s.daemon), SIGTERM, std::chrono::seconds(3)));
      return host.RemoveFile(s.daemon.pidfile);
    default:
      return {};
  }
}

// After a step's commands: record what the kernel lists for the firewall just loaded (the diff
// compares the live listing with it), or forget it once removed.
Status AfterEffect(Context& ctx, const platform::Driver& driver, const plan::Step& s) {
  switch (s.action) {
    case plan::Action::kLoadFirewall: {
      auto listing = ProbeFirewall(ctx, driver);
      if (!listing) return Failure("the firewall was loaded, but listing it shows nothing");
      return ctx.Machine().WriteFile(s.firewall.listing_path, *listing, 0600);
    }
    case plan::Action::kRemoveFirewall:
      VPC_TRY(ctx.Machine().RemoveFile(s.firewall.rules_path));
      return ctx.Machine().RemoveFile(s.firewall.listing_path);
    default:
      return {};
  }
}

bool HasEffect(const plan::Step& s) {
  switch (s.action) {
    case plan::Action::kWriteFile:
    case plan::Action::kRemoveFile:
    case plan::Action::kStartDaemon:
    case plan::Action::kReloadDaemon:
    case plan::Action::kStopDaemon:
    case plan::Action::kLoadFirewall:
    case plan::Action::kRemoveFirewall:
      return true;
    default:
      return false;
  }
}

// The firewall as `steps` left it, for the verifying re-probe: the listing the load recorded
// (AfterEffect lists the table right after loading it), none after a removal, else what the probe
// before them read. Unknown (probed again) when the recorded listing cannot be read.
ProbeHints HintsAfter(const exec::Host& host, const std::vector<plan::Step>& steps,
                      const plan::Observed& before) {
  ProbeHints h;
  h.firewall = before.firewall;
  for (const auto& s : steps) {
    if (s.action == plan::Action::kRemoveFirewall) h.firewall = std::optional<std::string>();
    if (s.action == plan::Action::kLoadFirewall) {
      auto listed = host.ReadFile(s.firewall.listing_path);
      if (!listed) return ProbeHints{};
      h.firewall = std::optional<std::string>(std::move(*listed));
    }
  }
  return h;
}

// A WireGuard key change: this node's own new key, a peer's new key, a peer's old key going.
bool SwitchesKeys(const plan::Step& s) {
  return (s.action == plan::Action::kSetWireguard && s.reason == "key changed") ||
         (s.action == plan::Action::kSetWgPeer && s.reason == "new key") ||
         s.action == plan::Action::kRemoveWgPeer;
}

// Runs `steps` in order. Interface steps run batched; a step with an effect of its own (files,
// daemons, the firewall) first flushes the batch, then does its effect, its commands and what
// follows them. `budget` (the faults port's) stops it after that many commands. The first key
// switch waits for `switch.at`, when set, which is then cleared, and records how late it ran.
struct KeySwitch {
  std::optional<int64_t> at;         // the rekey's moment, ms since the epoch
  std::optional<int64_t> offset_ms;  // how long after it the keys switched
  int64_t changed_ms = 0;            // when this node's own key (or port) was last set
};
Status Execute(Context& ctx, const platform::Driver& driver, const std::vector<plan::Step>& steps,
               size_t* budget, KeySwitch* key_switch) {
  std::vector<platform::Argv> pending;
  auto flush = [&]() -> Status {
    Status st = RunBatched(ctx, driver, pending);
    pending.clear();
    if (!st.ok()) return Failure(st.error().message + "; the next apply continues from here");
    return {};
  };
  for (const auto& step : steps) {
    if (step.action == plan::Action::kDetachGuest && step.reason == "record only") continue;
    if (key_switch->at && SwitchesKeys(step)) {
      VPC_TRY(flush());
      key_switch->offset_ms = WaitForKeySwitch(ctx, *key_switch->at);
      key_switch->at.reset();
    }
    if (step.action == plan::Action::kSetWireguard) key_switch->changed_ms = ctx.Time().NowMs();
    if (HasEffect(step)) {
      VPC_TRY(flush());
      if (*budget == 0) break;
      VPC_TRY(Effect(ctx, step));
    }
    for (auto& argv : driver.Render(step)) {
      if (*budget == 0) break;
      --*budget;
      pending.push_back(std::move(argv));
    }
    if (HasEffect(step)) {
      VPC_TRY(flush());
      VPC_TRY(AfterEffect(ctx, driver, step));
    }
    if (*budget == 0) break;
  }
  return flush();
}

// Two nodes that add each other at the same moment both send a handshake initiation; each then
// answers the other's, drops the answer to its own, and both wait out WireGuard's 5 s retry. For
// the peers this apply added, the node of each pair whose name sorts first waits for the
// handshake (half a second at most) and, where none came, adds the peer again: a new peer
// initiates at once, and the other side, which does not, answers it. The same race follows a
// key change of this node (a rekey): its keepalive to every peer crosses a peer's own handshake
// when that peer took the new key at the same moment; those peers are watched too, for a
// handshake since the change (`switched_ms`, ms since the epoch).
std::vector<std::string> SettleHandshakes(Context& ctx, const platform::Driver& driver,
                                          const plan::Desired& desired,
                                          const std::vector<plan::Step>& steps,
                                          int64_t switched_ms) {
  std::vector<plan::Step> watched;
  int64_t since = 0;  // a handshake counts from this second on (latest-handshakes has seconds)
  for (const auto& s : steps) {
    if (s.action == plan::Action::kSetWgPeer && s.reason == "missing" &&
        desired.node < s.wg_peer.node) {
      watched.push_back(s);
    }
    if (s.action == plan::Action::kSetWireguard && !s.poke.empty() && desired.wireguard) {
      since = switched_ms / 1000;
      for (const auto& p : desired.wireguard->peers) {
        if (std::find(s.poke.begin(), s.poke.end(), p.public_key) == s.poke.end()) continue;
        plan::Step again = s;
        again.action = plan::Action::kSetWgPeer;
        again.reason = "handshake after the key change";
        again.wg_peer = p;
        watched.push_back(again);
      }
    }
  }
  if (watched.empty() || !desired.wireguard) return {};
  int64_t deadline = ctx.Time().NowMs() + kHandshakeWait.count();
  auto stuck = [&]() {
    std::vector<plan::Step> out;
    auto r = ctx.runner.Run(platform::WireguardHandshakesProbe(desired.wireguard->ifname), "",
                            std::chrono::seconds(5));
    auto seen = r && r->ok() ? platform::ParseWgHandshakes(r->out)
                             : Result<std::map<std::string, int64_t>>(Failure("no answer"));
    for (const auto& s : watched) {
      auto it =
          seen ? seen->find(s.wg_peer.public_key) : std::map<std::string, int64_t>::iterator();
      bool fresh = seen && it != seen->end() && it->second != 0 &&
                   (s.reason == "missing" || it->second >= since);
      if (!fresh) out.push_back(s);
    }
    return out;
  };
  std::vector<plan::Step> left = stuck();
  while (!left.empty() && ctx.Time().NowMs() < deadline) {
    ctx.Time().SleepMs(20);
    left = stuck();
  }
  std::vector<std::string> restarted;
  for (const auto& s : left) {
    plan::Step remove = s;
    remove.action = plan::Action::kRemoveWgPeer;
    // Separate `wg set` calls: the peer must be gone before it is made again.
    for (const plan::Step* step : {static_cast<const plan::Step*>(&remove), &s}) {
      for (const auto& argv : driver.Render(*step)) {
        auto r = ctx.runner.Run(argv, "", std::chrono::seconds(10));
        if (!r || !r->ok()) ctx.io.Warn("`" + ShellLine(argv) + "` failed");
      }
    }
    restarted.push_back(s.wg_peer.node);
  }
  return restarted;
}

}  // namespace

int64_t WaitForKeySwitch(Context& ctx, int64_t at) {
  int64_t wait = at - ctx.Time().NowMs();
  if (wait > kMaxSwitchWaitMs) {
    ctx.io.Warn("the rekey's moment is " + std::to_string(wait / 1000) +
                " s ahead of this node's clock: switching keys now; keep the nodes' clocks in "
                "step (NTP)");
    return -wait;
  }
  if (wait < -kLateSwitchMs) {
    ctx.io.Warn("switching keys " + std::to_string(-wait) +
                " ms after the rekey's moment (a slow node, or clocks out of step): traffic "
                "with the rekeyed node paused meanwhile");
    return -wait;
  }
  ctx.Time().SleepMs(wait);
  return ctx.Time().NowMs() - at;
}

Result<std::unique_ptr<store::Store>> OpenNodeStore(Context& ctx) {
  std::vector<std::string> warnings;
  VPC_TRY(store::EnsureStateDir(ctx.paths.dir, &warnings));
  VPC_TRY(store::TightenStateFiles(ctx.paths, &warnings));
  VPC_ASSIGN_OR_RETURN(auto db, store::Store::Open(ctx.paths.db(), true, &warnings));
  for (const auto& w : warnings) ctx.io.Warn(w);
  return db;
}

Result<ImportOutcome> ImportMap(store::Store& db, const std::string& text, const std::string& node,
                                bool force) {
  VPC_ASSIGN_OR_RETURN(model::Map m, model::ParseMap(text));
  VPC_ASSIGN_OR_RETURN(auto held, db.LoadMap());
  std::string name = !node.empty() ? node : held ? held->node : std::string();
  if (name.empty()) {
    return UsageError("say which node of the map this one is: --node NAME");
  }
  VPC_TRY(model::ValidateNodeName(name));
  if (!m.fabric.FindNode(name)) {
    return Failure("node " + Quoted(name) + " is not in this map (generation " +
                   std::to_string(m.fabric.generation) + "); nothing was changed");
  }
  if (held && !force) {
    if (held->fabric_id != m.fabric_id) {
      return Failure("this node holds a map of fabric " + held->fabric_id +
                     "; refusing one of fabric " + m.fabric_id + " from controller " +
                     Quoted(m.controller) +
                     " (use --force to switch fabrics); nothing was changed");
    }
    if (m.epoch < held->epoch) {
      return Failure("stale map: controller " + Quoted(m.controller) + " is at epoch " +
                     std::to_string(m.epoch) + ", before the controller restored from a backup " +
                     "(epoch " + std::to_string(held->epoch) + ") whose map this node holds; " +
                     "nothing was changed. That controller was replaced: run vpcctl on the " +
                     "restored one");
    }
    if (m.epoch == held->epoch && m.fabric.generation < held->generation) {
      return Failure("stale map: generation " + std::to_string(m.fabric.generation) +
                     " is older than the generation " + std::to_string(held->generation) +
                     " this node holds; nothing was changed (use --force to roll back)");
    }
  }
  auto stored = [&]() -> Status {
    store::Transaction tx(db);
    VPC_TRY(tx.Begin());
    VPC_TRY(db.SaveMap(
        store::StoredMap{name, m.fabric_id, m.fabric.generation, text, UtcNow(), m.epoch}));
    return tx.Commit();
  }();
  if (!stored.ok()) {
    return Failure("cannot store map generation " + std::to_string(m.fabric.generation) + ": " +
                   stored.error().message + "; the map held before" +
                   (held ? " (generation " + std::to_string(held->generation) + ")" : "") +
                   " is unchanged");
  }
  ImportOutcome out;
  if (held) out.before = held->generation;
  out.after = m.fabric.generation;
  out.node = name;
  return out;
}

Status MapExport(Context& ctx, bool show_secrets) {
  VPC_ASSIGN_OR_RETURN(auto s, Session::Read(ctx));
  VPC_ASSIGN_OR_RETURN(model::Map m, MapOf(*s));
  ctx.io.out << model::MapToJson(m, show_secrets);
  return {};
}

Status MapImport(Context& ctx, const MapImportOptions& o) {
  if (!o.node.empty()) VPC_TRY(model::ValidateNodeName(o.node));
  std::string text = ReadAll(ctx.io.in);
  VPC_TRY(store::EnsureStateDir(ctx.paths.dir, nullptr));
  VPC_ASSIGN_OR_RETURN(
      store::StateLock lock,
      store::StateLock::Acquire(ctx.paths.apply_lock(), ctx.command_line, kApplyLockWait));
  VPC_ASSIGN_OR_RETURN(auto db, OpenNodeStore(ctx));
  VPC_ASSIGN_OR_RETURN(ImportOutcome r, ImportMap(*db, text, o.node, o.force));
  if (o.json) {
    PrintJson(ctx.io.out, model::ImportReport{r.node, r.before, r.after}.ToJson());
  } else {
    ctx.io.out << "imported map generation " << r.after << " for node " << r.node
               << (r.before ? " (held " + std::to_string(*r.before) + ")" : "") << "\n";
  }
  return {};
}

// Every VIP secret of the node's desired state replaced by "(redacted)" in `text`.
std::string RedactSecrets(std::string text, const plan::Desired& desired) {
  std::vector<std::string> secrets;
  for (const auto& v : desired.vpcs)
    for (const auto& vip : v.vips) secrets.push_back(vip.secret);
  for (const auto& w : desired.witness_vips) secrets.push_back(w.vip.secret);
  return Redact(std::move(text), secrets);
}

void PrintApplyText(std::ostream& out, const model::ApplyReport& r) {
  for (const auto& s : r.steps) out << "  " << s.description << "\n";
  for (const auto& n : r.behind_nat) {
    out << "  behind NAT: local " << n.local << ", public " << n.public_address
        << (n.detected ? " (the source of its route to the peers)" : "") << "\n";
  }
  out << r.node.value_or("-") << ": generation " << r.generation.value_or(0) << ", " << r.changes
      << (r.dry_run ? " change(s) needed" : " change(s)");
  if (!r.dry_run) out << (r.converged ? ", converged" : ", NOT converged");
  out << "\n";
}

namespace {

Status ValidateApply(const ApplyOptions& o) {
  if (!o.node.empty()) VPC_TRY(model::ValidateNodeName(o.node));
  if (!o.map_file.empty() && !o.dry_run) {
    return UsageError(
        "--map plans against a map without storing it: it needs --dry-run (use "
        "--import to import and apply)");
  }
  if (!o.map_file.empty() && o.import) return UsageError("give --map or --import, not both");
  if (!o.switch_keys_at.empty() && (o.dry_run || !ParseUint(o.switch_keys_at, INT64_MAX))) {
    return UsageError(o.dry_run ? "--switch-keys-at times a change: it cannot go with --dry-run"
                                : "--switch-keys-at: not a time in milliseconds since the epoch: " +
                                      Quoted(o.switch_keys_at));
  }
  return {};
}

// The map to apply: imported from stdin first (--import), read from --map without storing it
// (--dry-run), or the one the node holds; nothing when the node holds none yet. Sets `previous`
// to the generation held before.
Result<std::optional<HeldMap>> LoadApplyMap(Context& ctx, store::Store& db, const ApplyOptions& o,
                                            std::optional<uint64_t>& previous) {
  if (o.import) {
    VPC_ASSIGN_OR_RETURN(ImportOutcome r, ImportMap(db, ReadAll(ctx.io.in), o.node, o.force));
    previous = r.before;
  }
  if (o.map_file.empty()) {
    VPC_ASSIGN_OR_RETURN(auto stored, db.LoadMap());
    if (!stored && !o.import) return std::optional<HeldMap>();
    VPC_ASSIGN_OR_RETURN(HeldMap held, LoadHeldMap(db));
    if (!previous) previous = held.generation;
    return std::optional<HeldMap>(std::move(held));
  }
  std::string text;
  if (o.map_file == "-") {
    text = ReadAll(ctx.io.in);
  } else {
    VPC_ASSIGN_OR_RETURN(text, ctx.Machine().ReadFile(o.map_file));
  }
  HeldMap held;
  VPC_ASSIGN_OR_RETURN(held.map, model::ParseMap(text));
  auto stored = db.LoadMap();
  held.node = !o.node.empty() ? o.node : (stored.ok() && *stored) ? (*stored)->node : "";
  if (held.node.empty()) return UsageError("say which node of the map this one is: --node NAME");
  held.generation = held.map.fabric.generation;
  return std::optional<HeldMap>(std::move(held));
}

// A node the controller has not reached yet (or a boot before the first deploy).
Status ReportNoMap(Context& ctx, const ApplyOptions& o) {
  if (o.json) {
    model::ApplyReport report;
    report.no_map = true;
    report.converged = true;
    PrintJson(ctx.io.out, report.ToJson());
  } else {
    ctx.io.out << "no map on this node yet: nothing to apply (the controller pushes one with "
                  "`vpcctl vpc deploy`)\n";
  }
  return {};
}

// The node's WireGuard public key travels back to the controller (never the private key).
std::optional<model::WireguardReport> WireguardReportOf(const plan::Desired& desired,
                                                        const plan::Observed& observed) {
  if (!desired.wireguard) return std::nullopt;
  const auto* wg = observed.Find(desired.wireguard->ifname);
  model::WireguardReport w;
  if (!desired.wireguard->public_key.empty()) w.public_key = desired.wireguard->public_key;
  if (wg) w.engine = wg->userspace ? "wireguard-go" : "kernel";
  return w;
}

// Carries out `steps`, then probes again and diffs: what remains gets one more pass (something
// may have undone part of the work meanwhile: wireguard-go closing its device under a burst of
// netlink events, a hand on the node), then the verdict. Fills the report's steps, changes,
// remaining, converged and restarted handshakes.
Status ConvergeNode(Context& ctx, const platform::Driver& driver, store::Store& db,
                    plan::Desired& desired, const plan::Observed& observed,
                    const std::vector<plan::Step>& steps, KeySwitch key_switch,
                    model::ApplyReport& report) {
  size_t budget = ctx.faults ? ctx.faults->ApplyCommands() : SIZE_MAX;
  Status done = Execute(ctx, driver, steps, &budget, &key_switch);
  report.key_switch_offset_ms = key_switch.offset_ms;
  VPC_TRY(done);
  if (budget == 0) ctx.Fault("apply-budget-spent");
  // Guests of VPCs that left the node: their interfaces are gone, so are their records.
  for (const auto& step : steps) {
    if (step.action == plan::Action::kDetachGuest && step.drop_record) {
      VPC_TRY(db.DeleteAttachment(step.guest.id));
      std::erase_if(desired.orphans,
                    [&](const model::Attachment& a) { return a.id == step.guest.id; });
    }
  }
  VPC_ASSIGN_OR_RETURN(plan::Observed after,
                       ProbeNode(ctx, driver, desired, HintsAfter(ctx.Machine(), steps, observed)));
  VPC_ASSIGN_OR_RETURN(auto remaining, plan::Diff(desired, after));
  if (!remaining.empty()) {
    VPC_TRY(Execute(ctx, driver, remaining, &budget, &key_switch));
    report.key_switch_offset_ms = key_switch.offset_ms;
    for (auto& s : StepReports(remaining)) report.steps.push_back(std::move(s));
    report.changes = report.steps.size();
    VPC_ASSIGN_OR_RETURN(
        after, ProbeNode(ctx, driver, desired, HintsAfter(ctx.Machine(), remaining, after)));
    VPC_ASSIGN_OR_RETURN(remaining, plan::Diff(desired, after));
  }
  report.remaining = StepReports(remaining);
  report.converged = remaining.empty();
  if (!remaining.empty()) {
    return Failure(
        std::to_string(remaining.size()) +
        " step(s) still needed after applying twice; first: " + plan::Describe(remaining.front()));
  }
  report.handshakes_restarted = SettleHandshakes(ctx, driver, desired, steps, key_switch.changed_ms);
  return {};
}

}  // namespace

// Pipeline: validate, lock, load (or import) the map, desired state, probe, diff (pure), then
// execute and verify unless --dry-run; the report is rendered as JSON or text, its errors with
// VIP secrets redacted.
Status Apply(Context& ctx, const ApplyOptions& o) {
  VPC_TRY(ValidateApply(o));
  auto start = std::chrono::steady_clock::now();
  VPC_TRY(store::EnsureStateDir(ctx.paths.dir, nullptr));
  VPC_ASSIGN_OR_RETURN(
      store::StateLock lock,
      store::StateLock::Acquire(ctx.paths.apply_lock(), ctx.command_line, kApplyLockWait));
  VPC_ASSIGN_OR_RETURN(auto db, OpenNodeStore(ctx));
  std::optional<uint64_t> previous;
  VPC_ASSIGN_OR_RETURN(std::optional<HeldMap> loaded, LoadApplyMap(ctx, *db, o, previous));
  if (!loaded) return ReportNoMap(ctx, o);
  const HeldMap& held = *loaded;
  VPC_ASSIGN_OR_RETURN(model::Platform platform, LocalPlatform(ctx));
  const auto& driver = platform::DriverFor(platform);
  VPC_ASSIGN_OR_RETURN(LocatedNode located, DesireAndProbe(ctx, driver, *db, held, !o.dry_run));
  plan::Desired& desired = located.desired;
  const plan::Observed& observed = located.observed;
  model::ApplyReport report;
  report.node = held.node;
  report.behind_nat = located.behind_nat;
  report.wireguard = WireguardReportOf(desired, observed);
  report.generation = held.generation;
  report.previous_generation = previous;
  report.dry_run = o.dry_run;
  auto finish = [&](Status st) -> Status {
    report.duration_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!st.ok()) {
      // A failed command may quote a VIP secret (FreeBSD: `ifconfig ... pass SECRET`).
      st = Error{RedactSecrets(st.error().message, desired), st.error().code};
      report.error = st.error().message;
    }
    if (o.json) {
      PrintJson(ctx.io.out, report.ToJson());
    } else if (st.ok()) {
      PrintApplyText(ctx.io.out, report);
    }
    return st;
  };
  auto steps = plan::Diff(desired, observed);
  if (!steps) return finish(steps.take_error());
  report.changes = steps->size();
  report.steps = StepReports(*steps);
  if (o.dry_run) {
    report.converged = steps->empty();
    for (const auto& argv : platform::RenderAll(driver, plan::Redacted(*steps))) {
      report.commands.push_back(ShellLine(argv));
    }
    return finish({});
  }
  if (steps->empty()) {
    report.converged = true;
    return finish({});
  }
  KeySwitch key_switch;
  if (!o.switch_keys_at.empty()) {
    key_switch.at = static_cast<int64_t>(*ParseUint(o.switch_keys_at, INT64_MAX));
  }
  return finish(ConvergeNode(ctx, driver, *db, desired, observed, *steps, key_switch, report));
}

}  // namespace vpcctl::fabric
