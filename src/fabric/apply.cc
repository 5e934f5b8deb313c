// The node side: map import, apply --local, status --local.
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <iterator>
#include <mutex>
#include <ostream>
#include <sstream>

#include "vpcctl/base/text.h"
#include "vpcctl/fabric/format.h"
#include "vpcctl/fabric/node_ops.h"
#include "vpcctl/fabric/ops.h"
#include "vpcctl/fabric/remote.h"
#include "vpcctl/model/names.h"
#include "vpcctl/plan/diff.h"
#include "vpcctl/platform/driver.h"

namespace vpcctl::fabric {

using json = nlohmann::json;

namespace {

constexpr std::chrono::seconds kApplyLockWait{60};
constexpr std::chrono::seconds kStepTimeout{60};

std::string ReadAll(std::istream& in) {
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The kernel's interfaces (through the driver's probe), plus the daemon files and daemons the
// desired state names.
Result<plan::Observed> Probe(Context& ctx, const platform::Driver& driver,
                             const plan::Desired& desired) {
  VPC_ASSIGN_OR_RETURN(plan::Observed observed, ProbeInterfaces(ctx, driver));
  for (const auto& f : desired.files) {
    if (!store::FileExists(f.path)) continue;
    VPC_ASSIGN_OR_RETURN(observed.files[f.path], store::ReadFile(f.path));
  }
  for (const auto& d : desired.daemons) observed.daemons[d.name] = exec::PidFromFile(d.pidfile) != 0;
  return observed;
}

// Carries out the part of a step that is not a command: files and daemon signals.
Status Effect(const plan::Step& s) {
  switch (s.action) {
    case plan::Action::kWriteFile:
      return store::WriteFileAtomic(s.file.path, s.file.content, s.file.mode);
    case plan::Action::kRemoveFile:
      if (std::remove(s.file.path.c_str()) != 0 && errno != ENOENT) {
        return Failure("cannot remove " + s.file.path + ": " + std::strerror(errno));
      }
      return {};
    case plan::Action::kStartDaemon:
      for (const auto& f : s.daemon.stale) std::remove(f.c_str());
      return {};
    case plan::Action::kReloadDaemon:
      if (s.daemon.reload_on_hup) return exec::SignalPidfile(s.daemon.pidfile, SIGHUP);
      return exec::SignalPidfile(s.daemon.pidfile, SIGTERM, std::chrono::seconds(3));
    case plan::Action::kStopDaemon:
      VPC_TRY(exec::SignalPidfile(s.daemon.pidfile, SIGTERM, std::chrono::seconds(3)));
      std::remove(s.daemon.pidfile.c_str());
      return {};
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
      return true;
    default:
      return false;
  }
}

json StepsJson(const std::vector<plan::Step>& steps) {
  json arr = json::array();
  for (const auto& s : steps) {
    arr.push_back({{"action", plan::ActionName(s.action)},
                   {"vpc", s.vpc},
                   {"interface", s.ifname},
                   {"description", plan::Describe(s)}});
  }
  return arr;
}

// The node's part of a map: every VPC it is a member of (nothing when it is not in the map), with
// the VIP machinery its platform runs.
Result<plan::Desired> DesiredOf(Context& ctx, store::Store& db, const model::Map& map,
                                const std::string& node, model::Platform platform) {
  plan::Desired d;
  if (map.fabric.FindNode(node)) {
    VPC_ASSIGN_OR_RETURN(d, plan::DesiredFor(map.fabric, node));
  }
  d.node = node;
  d.platform = platform;
  platform::DriverFor(platform).AddVipSetup(d, platform::VipEnv{exec::SelfPath(), ctx.paths.dir});
  VPC_ASSIGN_OR_RETURN(auto records, db.Attachments());
  for (auto& r : records) {
    const plan::DesiredVpc* dv = nullptr;
    for (const auto& v : d.vpcs)
      if (v.vpc == r.vpc) dv = &v;
    if (dv) {
      d.attachments.push_back(plan::DesiredAttachment{std::move(r), dv->mtu});
    } else {
      d.orphans.push_back(std::move(r));
    }
  }
  return d;
}

struct HeldMap {
  model::Map map;
  std::string node;
  uint64_t generation = 0;
};

Result<HeldMap> LoadHeldMap(store::Store& db) {
  VPC_ASSIGN_OR_RETURN(auto held, db.LoadMap());
  if (!held) {
    return UsageError("no map on this node yet: the controller pushes one with `vpcctl vpc "
                      "deploy` or `vpcctl vpc sync`");
  }
  auto m = model::ParseMap(held->document);
  if (!m) return Failure("the map held in the state database is unusable: " + m.error().message);
  return HeldMap{std::move(*m), held->node, held->generation};
}

}  // namespace

Result<plan::Observed> ProbeInterfaces(Context& ctx, const platform::Driver& driver) {
  std::vector<std::string> outputs;
  for (const auto& argv : driver.ProbeCommands()) {
    VPC_ASSIGN_OR_RETURN(auto r, ctx.runner.Run(argv, "", kStepTimeout));
    if (!r.ok()) {
      return Failure("probe `" + ShellLine(argv) + "` failed: " + std::string(Trim(r.err)));
    }
    outputs.push_back(std::move(r.out));
  }
  return driver.ParseProbe(outputs);
}

Status RunBatched(Context& ctx, const platform::Driver& driver,
                  const std::vector<platform::Argv>& commands) {
  for (const auto& inv : driver.Batch(commands)) {
    auto r = ctx.runner.Run(inv.argv, inv.input, kStepTimeout);
    std::string what = ShellLine(inv.argv);
    if (!r) return Failure("running `" + what + "`: " + r.error().message);
    if (!r->ok()) {
      std::string detail = std::string(Trim(r->err.empty() ? r->out : r->err));
      return Failure("`" + what + "` failed" +
                     (r->timed_out ? " (timed out)" : " with exit " + std::to_string(r->exit_code)) +
                     ": " + detail);
    }
  }
  return {};
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
                     Quoted(m.controller) + " (use --force to switch fabrics); nothing was changed");
    }
    if (m.fabric.generation < held->generation) {
      return Failure("stale map: generation " + std::to_string(m.fabric.generation) +
                     " is older than the generation " + std::to_string(held->generation) +
                     " this node holds; nothing was changed (use --force to roll back)");
    }
  }
  auto stored = [&]() -> Status {
    store::Transaction tx(db);
    VPC_TRY(tx.Begin());
    VPC_TRY(db.SaveMap(store::StoredMap{name, m.fabric_id, m.fabric.generation, text, UtcNow()}));
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
  VPC_ASSIGN_OR_RETURN(auto id, s->store().GetSetting("fabric_id"));
  model::Map m{id.value_or(""), s->local_node, s->fabric};
  ctx.io.out << model::MapToJson(m, show_secrets);
  return {};
}

Status MapImport(Context& ctx, const MapImportOptions& o) {
  if (!o.node.empty()) VPC_TRY(model::ValidateNodeName(o.node));
  std::string text = ReadAll(ctx.io.in);
  VPC_TRY(store::EnsureStateDir(ctx.paths.dir, nullptr));
  VPC_ASSIGN_OR_RETURN(store::StateLock lock, store::StateLock::Acquire(
                                                  ctx.paths.apply_lock(), ctx.command_line,
                                                  kApplyLockWait));
  VPC_ASSIGN_OR_RETURN(auto db, OpenNodeStore(ctx));
  VPC_ASSIGN_OR_RETURN(ImportOutcome r, ImportMap(*db, text, o.node, o.force));
  if (o.json) {
    PrintJson(ctx.io.out, {{"node", r.node},
                           {"before", r.before ? json(*r.before) : json()},
                           {"after", r.after}});
  } else {
    ctx.io.out << "imported map generation " << r.after << " for node " << r.node
               << (r.before ? " (held " + std::to_string(*r.before) + ")" : "") << "\n";
  }
  return {};
}

Status Apply(Context& ctx, const ApplyOptions& o) {
  if (!o.node.empty()) VPC_TRY(model::ValidateNodeName(o.node));
  if (!o.map_file.empty() && !o.dry_run) {
    return UsageError("--map plans against a map without storing it: it needs --dry-run (use "
                      "--import to import and apply)");
  }
  if (!o.map_file.empty() && o.import) return UsageError("give --map or --import, not both");
  auto start = std::chrono::steady_clock::now();
  VPC_TRY(store::EnsureStateDir(ctx.paths.dir, nullptr));
  VPC_ASSIGN_OR_RETURN(store::StateLock lock, store::StateLock::Acquire(
                                                  ctx.paths.apply_lock(), ctx.command_line,
                                                  kApplyLockWait));
  VPC_ASSIGN_OR_RETURN(auto db, OpenNodeStore(ctx));
  json report;
  std::optional<uint64_t> previous;
  HeldMap held;
  if (o.import) {
    VPC_ASSIGN_OR_RETURN(ImportOutcome r, ImportMap(*db, ReadAll(ctx.io.in), o.node, o.force));
    previous = r.before;
  }
  if (!o.map_file.empty()) {
    std::string text;
    if (o.map_file == "-") {
      text = ReadAll(ctx.io.in);
    } else {
      VPC_ASSIGN_OR_RETURN(text, store::ReadFile(o.map_file));
    }
    VPC_ASSIGN_OR_RETURN(held.map, model::ParseMap(text));
    auto stored = db->LoadMap();
    held.node = !o.node.empty() ? o.node : (stored.ok() && *stored) ? (*stored)->node : "";
    if (held.node.empty()) return UsageError("say which node of the map this one is: --node NAME");
    held.generation = held.map.fabric.generation;
  } else {
    VPC_ASSIGN_OR_RETURN(auto stored, db->LoadMap());
    if (!stored && !o.import) {
      // A node the controller has not reached yet (or a boot before the first deploy).
      if (o.json) {
        PrintJson(ctx.io.out, {{"node", nullptr}, {"generation", nullptr}, {"changes", 0},
                               {"converged", true}, {"steps", json::array()}, {"no_map", true}});
      } else {
        ctx.io.out << "no map on this node yet: nothing to apply (the controller pushes one with "
                      "`vpcctl vpc deploy`)\n";
      }
      return {};
    }
    VPC_ASSIGN_OR_RETURN(held, LoadHeldMap(*db));
    if (!previous) previous = held.generation;
  }
  VPC_ASSIGN_OR_RETURN(model::Platform platform, LocalPlatform());
  const auto& driver = platform::DriverFor(platform);
  VPC_ASSIGN_OR_RETURN(plan::Desired desired,
                       DesiredOf(ctx, *db, held.map, held.node, platform));
  VPC_ASSIGN_OR_RETURN(plan::Observed observed, Probe(ctx, driver, desired));
  report["node"] = held.node;
  report["generation"] = held.generation;
  report["previous_generation"] = previous ? json(*previous) : json();
  report["dry_run"] = o.dry_run;
  auto steps = plan::Diff(desired, observed);
  auto finish = [&](Status st) -> Status {
    report["duration_ms"] =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!st.ok()) report["error"] = st.error().message;
    if (o.json) {
      PrintJson(ctx.io.out, report);
    } else if (st.ok()) {
      auto& out = ctx.io.out;
      for (const auto& s : report["steps"]) out << "  " << s["description"].get<std::string>() << "\n";
      out << held.node << ": generation " << held.generation << ", "
          << report["changes"].get<size_t>() << (o.dry_run ? " change(s) needed" : " change(s)");
      if (!o.dry_run) out << (report["converged"].get<bool>() ? ", converged" : ", NOT converged");
      out << "\n";
    }
    return st;
  };
  report["changes"] = steps ? steps->size() : 0;
  report["steps"] = json::array();
  report["converged"] = false;
  report["remaining"] = json::array();
  if (!steps) return finish(steps.take_error());
  report["steps"] = StepsJson(*steps);
  if (o.dry_run) {
    report["converged"] = steps->empty();
    report["commands"] = json::array();
    for (const auto& argv : platform::RenderAll(driver, plan::Redacted(*steps))) {
      report["commands"].push_back(ShellLine(argv));
    }
    return finish({});
  }
  if (steps->empty()) {
    report["converged"] = true;
    return finish({});
  }
  // Interface steps run batched; a step with an effect of its own (files, daemons) first flushes
  // the batch, then does its effect and its commands.
  size_t budget = o.kill_after >= 0 ? static_cast<size_t>(o.kill_after) : SIZE_MAX;
  std::vector<platform::Argv> pending;
  auto flush = [&]() -> Status {
    Status st = RunBatched(ctx, driver, pending);
    pending.clear();
    if (!st.ok()) return Failure(st.error().message + "; the next apply continues from here");
    return {};
  };
  for (const auto& step : *steps) {
    if (step.action == plan::Action::kDetachGuest && step.reason == "record only") continue;
    if (HasEffect(step)) {
      if (auto st = flush(); !st.ok()) return finish(st);
      if (budget == 0) break;
      if (auto st = Effect(step); !st.ok()) return finish(st);
    }
    for (auto& argv : driver.Render(step)) {
      if (budget == 0) break;
      --budget;
      pending.push_back(std::move(argv));
    }
    if (HasEffect(step)) {
      if (auto st = flush(); !st.ok()) return finish(st);
    }
    if (budget == 0) break;
  }
  if (auto st = flush(); !st.ok()) return finish(st);
  if (o.kill_after >= 0 && budget == 0) raise(SIGKILL);
  // Guests of VPCs that left the node: their interfaces are gone, so are their records.
  for (const auto& step : *steps) {
    if (step.action == plan::Action::kDetachGuest && step.drop_record) {
      if (auto st = db->DeleteAttachment(step.guest.id); !st.ok()) return finish(st);
      std::erase_if(desired.orphans,
                    [&](const model::Attachment& a) { return a.id == step.guest.id; });
    }
  }
  VPC_ASSIGN_OR_RETURN(plan::Observed after, Probe(ctx, driver, desired));
  auto remaining = plan::Diff(desired, after);
  if (!remaining) return finish(remaining.take_error());
  report["remaining"] = StepsJson(*remaining);
  report["converged"] = remaining->empty();
  if (!remaining->empty()) {
    return finish(Failure(std::to_string(remaining->size()) +
                          " step(s) still needed after applying; first: " +
                          plan::Describe(remaining->front())));
  }
  return finish({});
}

Status StatusLocal(Context& ctx, const StatusLocalOptions& o) {
  if (!o.vpc.empty()) VPC_TRY(model::ValidateVpcName(o.vpc));
  VPC_ASSIGN_OR_RETURN(auto db, OpenNodeStore(ctx));
  VPC_ASSIGN_OR_RETURN(HeldMap held, LoadHeldMap(*db));
  VPC_ASSIGN_OR_RETURN(model::Platform platform, LocalPlatform());
  const auto& driver = platform::DriverFor(platform);
  VPC_ASSIGN_OR_RETURN(plan::Desired desired,
                       DesiredOf(ctx, *db, held.map, held.node, platform));
  VPC_ASSIGN_OR_RETURN(plan::Observed observed, Probe(ctx, driver, desired));
  auto steps = plan::Diff(desired, observed);
  json report = {{"node", held.node}, {"generation", held.generation}};
  std::vector<plan::Step> drift;
  std::string drift_error;
  if (steps) {
    drift = *steps;
  } else {
    drift_error = steps.error().message;
  }
  struct Job {
    std::string vpc, peer;
    net::IpAddress from, to;
    platform::PingResult result;
    std::string error;
  };
  std::vector<Job> jobs;
  for (const auto& dv : desired.vpcs) {
    if (!o.vpc.empty() && dv.vpc != o.vpc) continue;
    const model::Vpc* v = held.map.fabric.FindVpc(dv.vpc);
    for (const auto& m : v->members) {
      if (m.node == held.node) continue;
      jobs.push_back(Job{dv.vpc, m.node, dv.address.address, m.overlay, {}, {}});
    }
  }
  if (!o.vpc.empty() && !held.map.fabric.FindVpc(o.vpc)) {
    return UsageError("VPC " + Quoted(o.vpc) + " is not in this node's map");
  }
  ParallelFor(jobs.size(), 32, [&](size_t i) {
    Job& j = jobs[i];
    auto r = ctx.runner.Run(driver.PingCommand(j.vpc, j.from, j.to, 3), "", std::chrono::seconds(10));
    if (!r) {
      j.error = r.error().message;
      return;
    }
    auto parsed = platform::ParsePing(r->out);
    if (!parsed) {
      j.error = std::string(Trim(r->err.empty() ? r->out : r->err));
      return;
    }
    j.result = *parsed;
  });
  bool healthy = drift.empty() && drift_error.empty();
  json vpcs = json::array();
  for (const auto& dv : desired.vpcs) {
    if (!o.vpc.empty() && dv.vpc != o.vpc) continue;
    std::vector<plan::Step> mine;
    for (const auto& s : drift)
      if (s.vpc == dv.vpc) mine.push_back(s);
    json peers = json::array();
    for (const auto& j : jobs) {
      if (j.vpc != dv.vpc) continue;
      double loss = j.result.transmitted
                        ? 100.0 * (j.result.transmitted - j.result.received) / j.result.transmitted
                        : 100.0;
      if (!j.error.empty() || loss > 0) healthy = false;
      peers.push_back({{"node", j.peer},
                       {"address", j.to.ToString()},
                       {"transmitted", j.result.transmitted},
                       {"received", j.result.received},
                       {"loss_pct", loss},
                       {"rtt_ms", j.result.avg_ms < 0 ? json() : json(j.result.avg_ms)},
                       {"error", j.error.empty() ? json() : json(j.error)}});
    }
    json vips = json::array();
    const plan::ObservedInterface* bridge = observed.Find(dv.vpc);
    for (const auto& vip : dv.vips) {
      bool holds = false;
      if (bridge) {
        for (const auto& a : bridge->addresses) holds = holds || a.address == vip.address;
        for (const auto& v : bridge->vips) {
          holds = holds || (v.vhid == vip.vhid && v.address == vip.address && v.state == "MASTER");
        }
      }
      json events = json::array();
      auto recent = db->VipEvents(dv.vpc, vip.vhid, 5);
      if (recent.ok()) {
        for (const auto& e : *recent) events.push_back({{"state", e.state}, {"at", e.at}});
      }
      vips.push_back({{"vhid", vip.vhid},
                      {"address", vip.address.ToString()},
                      {"rank", vip.rank},
                      {"holds", holds},
                      {"state", events.empty() ? json() : events[0]["state"]},
                      {"since", events.empty() ? json() : events[0]["at"]},
                      {"events", events}});
    }
    json guests = json::array();
    for (const auto& da : desired.attachments) {
      const auto& r = da.record;
      if (r.vpc != dv.vpc) continue;
      const plan::ObservedInterface* i = observed.Find(r.ifname);
      guests.push_back({{"kind", model::GuestKindName(r.kind)},
                        {"guest", r.guest},
                        {"interface", r.ifname},
                        {"address", r.address ? json(r.address->ToString()) : json()},
                        {"present", i != nullptr},
                        {"on_bridge", i != nullptr && i->master == dv.vpc}});
    }
    vpcs.push_back({{"name", dv.vpc},
                    {"address", dv.address.ToString()},
                    {"drift", StepsJson(mine)},
                    {"peers", peers},
                    {"vips", vips},
                    {"attachments", guests}});
  }
  // Owned interfaces of VPCs this node no longer has are drift too.
  json stray = json::array();
  for (const auto& s : drift) {
    bool listed = false;
    for (const auto& dv : desired.vpcs) listed = listed || dv.vpc == s.vpc;
    if (!listed && (o.vpc.empty() || s.vpc == o.vpc || s.vpc.empty())) {
      stray.push_back(plan::Describe(s));
    }
  }
  report["vpcs"] = vpcs;
  report["stray"] = stray;
  report["error"] = drift_error.empty() ? json() : json(drift_error);
  report["healthy"] = healthy;
  if (o.json) {
    PrintJson(ctx.io.out, report);
  } else {
    auto& out = ctx.io.out;
    out << held.node << ": map generation " << held.generation << "\n";
    for (const auto& v : vpcs) {
      out << v["name"].get<std::string>() << " (" << v["address"].get<std::string>() << "): "
          << v["drift"].size() << " step(s) of drift\n";
      for (const auto& s : v["drift"]) out << "  " << s["description"].get<std::string>() << "\n";
      Table t({"PEER", "ADDRESS", "LOSS", "RTT MS"});
      for (const auto& p : v["peers"]) {
        char loss[16], rtt[16];
        std::snprintf(loss, sizeof loss, "%.0f%%", p["loss_pct"].get<double>());
        if (p["rtt_ms"].is_null()) {
          std::snprintf(rtt, sizeof rtt, "-");
        } else {
          std::snprintf(rtt, sizeof rtt, "%.2f", p["rtt_ms"].get<double>());
        }
        t.Row({p["node"].get<std::string>(), p["address"].get<std::string>(), loss, rtt});
      }
      t.Print(out);
      for (const auto& v : v["vips"]) {
        out << "VIP " << v["address"].get<std::string>() << " (vhid " << v["vhid"] << "): "
            << (v["holds"].get<bool>() ? "held here" : "not held here");
        if (!v["state"].is_null()) {
          out << ", " << v["state"].get<std::string>() << " since " << v["since"].get<std::string>();
        }
        out << "\n";
      }
    }
    for (const auto& s : stray) out << "drift: " << s.get<std::string>() << "\n";
    if (!drift_error.empty()) out << "error: " << drift_error << "\n";
  }
  if (!healthy) return Error{held.node + ": drift or loss on the overlay", Exit::kNotConverged};
  return {};
}

}  // namespace vpcctl::fabric
