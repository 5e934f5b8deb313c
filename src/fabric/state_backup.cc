#include "vpcctl/fabric/state_backup.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>

#include "vpcctl/base/text.h"
#include "vpcctl/exec/files.h"
#include "vpcctl/fabric/apply.h"
#include "vpcctl/fabric/format.h"
#include "vpcctl/fabric/node_state.h"
#include "vpcctl/fabric/remote.h"
#include "vpcctl/model/names.h"
#include "vpcctl/platform/driver.h"
#include "vpcctl/ssh/command.h"
#include "vpcctl/ssh/keys.h"
#include "vpcctl/ssh/known_hosts.h"
#include "vpcctl/store/backup.h"
#include "vpcctl/version.h"

namespace vpcctl::fabric {

namespace {

uint64_t Number(const store::BackupEntries& e, const char* name) {
  auto it = e.find(name);
  return it == e.end() ? 0 : ParseUint(it->second).value_or(0);
}

// Our key in this node's own authorized_keys (the login user's, as enrolment does on the others):
// a controller restored elsewhere logs in here like anywhere else. True when it was added now.
Result<bool> AuthorizeOurKeyHere(Context& ctx, const std::string& local_node) {
  VPC_ASSIGN_OR_RETURN(std::string ours, ctx.Machine().ReadFile(ctx.paths.public_key()));
  auto words = Split(std::string(Trim(ours)), ' ');
  if (words.size() < 2) return Failure("cannot read our public key " + ctx.paths.public_key());
  auto r = ctx.runner.Run({"sh", "-s", "--", words[0], words[1], "vpcctl@" + local_node},
                          kInstallKeyScript, std::chrono::seconds(10));
  if (!r || !r->ok()) {
    return Failure("cannot add our key to this node's ~/.ssh/authorized_keys: " +
                   (r ? std::string(Trim(r->err)) : r.error().message));
  }
  return Trim(r->out) == "added";
}

// This node's own host key, read by logging in to its own address with our key (a connection
// that never leaves the host: the address is one of its interfaces'). Empty with a warning when
// that is not possible.
std::string PinSelf(Context& ctx, const model::Node& self, std::chrono::milliseconds timeout) {
  auto at = net::IpAddress::Parse(self.ssh_host);
  const auto& driver = platform::DriverFor(self.platform);
  auto observed = ProbeInterfaces(ctx, driver);
  std::string fix = "; a controller restored from this backup will need `vpcctl node update " +
                    self.name + " --repin` to reach this node";
  if (!at || !observed || !platform::HasAddress(*observed, *at)) {
    ctx.io.Warn("this node's SSH address " + self.ssh_host + " is not one of its own interfaces' " +
                "addresses, so its host key was not pinned" + fix);
    return "";
  }
  ssh::HostKey presented;
  ssh::ConnectSpec spec;
  spec.endpoint = EndpointOf(self);
  spec.timeout = timeout;
  spec.identities = {ctx.paths.private_key()};
  spec.check_host_key = [&](const ssh::HostKey& k) -> Status {
    presented = k;
    return {};
  };
  auto conn = ctx.ssh.Connect(spec);
  if (!conn) {
    ctx.io.Warn("cannot log in to this node over SSH at " + SshText(self) + ": " +
                conn.error().message + fix);
    return "";
  }
  return presented.Line();
}

// Makes sure a restored controller reaches this node: our key authorized here and this node's
// host key pinned (recorded on its node and in known_hosts; `s` is then a locked session).
// Returns what it did.
Result<std::vector<std::string>> PrepareSelf(Context& ctx, Session& s,
                                             std::chrono::milliseconds timeout) {
  std::vector<std::string> done;
  VPC_ASSIGN_OR_RETURN(bool added, AuthorizeOurKeyHere(ctx, s.local_node));
  if (added) done.push_back("our key added to this node's ~/.ssh/authorized_keys");
  model::Node* self = s.fabric.FindNode(s.local_node);
  if (!self || !self->host_key.empty()) return done;
  std::string key = PinSelf(ctx, *self, timeout);
  if (key.empty()) return done;
  VPC_ASSIGN_OR_RETURN(auto pins, ssh::LoadKnownHosts(ctx.paths.known_hosts()));
  VPC_ASSIGN_OR_RETURN(auto parsed, ssh::ParseHostKey(key));
  pins.Pin(self->ssh_host, self->ssh_port, parsed);
  VPC_TRY(ssh::SaveKnownHosts(ctx.paths.known_hosts(), pins));
  self->host_key = key;
  VPC_TRY(s.Begin());
  VPC_TRY(s.store().SaveNode(*self));
  VPC_TRY(s.Commit(false));  // not in the map: no new generation
  done.push_back("this node's host key pinned (" + FingerprintText(*self) + ")");
  return done;
}

}  // namespace

// Pipeline: options; this node made reachable by a restored controller (under the state lock
// only when its host key is to be pinned: a backup otherwise runs beside a deploy); the entries
// (what the backup is, the key pair, known_hosts); the SQLite copy; render.
Status StateBackup(Context& ctx, const StateBackupOptions& o) {
  if (o.file.empty()) return UsageError("give the backup file: vpcctl state backup FILE");
  VPC_ASSIGN_OR_RETURN(auto timeout, ParseConnectTimeout(o.timeout));
  VPC_ASSIGN_OR_RETURN(auto s, Session::Read(ctx));
  if (const model::Node* self = s->fabric.FindNode(s->local_node); self && self->host_key.empty()) {
    s.reset();
    VPC_ASSIGN_OR_RETURN(s, Session::Locked(ctx));
  }
  VPC_ASSIGN_OR_RETURN(std::vector<std::string> done, PrepareSelf(ctx, *s, timeout));
  VPC_ASSIGN_OR_RETURN(model::Map map, MapOf(*s));
  const exec::Host& host = ctx.Machine();
  store::BackupEntries e;
  e["format"] = "1";
  e["fabric"] = map.fabric_id;
  e["generation"] = std::to_string(map.fabric.generation);
  e["epoch"] = std::to_string(map.epoch);
  e["controller"] = s->local_node;
  e["made_at"] = UtcNow();
  e["vpcctl_version"] = VPCCTL_VERSION;
  e["vpcctl"] = host.SelfPath();
  VPC_ASSIGN_OR_RETURN(e["id_ed25519"], host.ReadFile(ctx.paths.private_key()));
  VPC_ASSIGN_OR_RETURN(e["id_ed25519.pub"], host.ReadFile(ctx.paths.public_key()));
  if (host.Stat(ctx.paths.known_hosts()).exists) {
    VPC_ASSIGN_OR_RETURN(e["known_hosts"], host.ReadFile(ctx.paths.known_hosts()));
  }
  VPC_TRY(store::WriteBackup(s->store(), o.file, e));
  uint64_t bytes = host.Stat(o.file).size;
  if (o.json) {
    PrintJson(ctx.io.out, {{"file", o.file},
                           {"fabric", map.fabric_id},
                           {"generation", map.fabric.generation},
                           {"epoch", map.epoch},
                           {"controller", s->local_node},
                           {"nodes", map.fabric.nodes.size()},
                           {"vpcs", map.fabric.vpcs.size()},
                           {"bytes", bytes},
                           {"prepared", done}});
    return {};
  }
  for (const auto& d : done) ctx.io.Info(d);
  ctx.io.out << "backed up fabric " << map.fabric_id << " (generation " << map.fabric.generation
             << ", " << map.fabric.nodes.size() << " nodes, " << map.fabric.vpcs.size()
             << " VPCs) to " << o.file << " (" << bytes << " bytes, mode 0600)\n"
             << "it holds the controller's private key: keep it as safe as the controller\n";
  return {};
}

namespace {

// What this node is, checked against the backup before anything changes: in its fabric (its
// map's, unless --force), not a controller already (unless --force). Returns its name.
Result<std::string> CheckRestoreTarget(store::Store& db, const store::BackupEntries& e,
                                       const StateRestoreOptions& o) {
  const std::string& fabric = e.at("fabric");
  VPC_ASSIGN_OR_RETURN(auto held, db.LoadMap());
  VPC_ASSIGN_OR_RETURN(auto controller_of, db.GetSetting("fabric_id"));
  VPC_ASSIGN_OR_RETURN(auto local, db.GetSetting("local_node"));
  if (held && held->fabric_id != fabric && !o.force) {
    return UsageError("the backup " + Quoted(o.file) + " is of fabric " + fabric +
                      ", but this node holds a map of fabric " + held->fabric_id +
                      "; nothing was changed (--force restores it anyway)");
  }
  if (local && !o.force) {
    return UsageError("this node already is the controller " +
                      (controller_of && *controller_of != fabric
                           ? "of another fabric, " + *controller_of
                           : "of fabric " + fabric + " (as " + Quoted(*local) + ")") +
                      "; restoring replaces its state: nothing was changed (--force restores it)");
  }
  std::string me = !o.node.empty() ? o.node : held ? held->node : std::string();
  if (me.empty()) {
    return UsageError(
        "this node holds no map to say which node of the fabric it is: give "
        "--node NAME");
  }
  VPC_TRY(model::ValidateNodeName(me));
  return me;
}

// In the restore's transaction: this node is the local one, the old controller a remote node
// (with the vpcctl it ran), and the controller moves one epoch and one generation on.
Status TakeOver(store::Store& db, const store::BackupEntries& e, const std::string& me,
                uint64_t held_generation, uint64_t* generation, uint64_t* epoch) {
  VPC_ASSIGN_OR_RETURN(model::Fabric f, db.LoadFabric());
  if (!f.FindNode(me)) {
    return UsageError("node " + Quoted(me) + " is not in the backup's fabric (" +
                      std::to_string(f.nodes.size()) + " nodes); nothing was changed");
  }
  for (auto& n : f.nodes) {
    bool was_local = n.is_local;
    n.is_local = n.name == me;
    if (was_local && !n.is_local && n.remote_vpcctl.empty() && e.count("vpcctl")) {
      if (e.at("vpcctl") != VPCCTL_INSTALLED_PROGRAM) n.remote_vpcctl = e.at("vpcctl");
    }
    if (was_local != n.is_local || !n.remote_vpcctl.empty()) VPC_TRY(db.SaveNode(n));
  }
  *epoch = Number(e, "epoch") + 1;
  *generation = std::max(Number(e, "generation"), held_generation) + 1;
  VPC_TRY(db.SetSetting("local_node", me));
  VPC_TRY(db.SetSetting("epoch", std::to_string(*epoch)));
  return db.SetSetting("generation", std::to_string(*generation));
}

}  // namespace

// Pipeline: the file exists; under the node's locks, the backup opened and checked (integrity,
// schema, entries) and this node checked against it; the controller's tables replaced and this
// node made the controller in one transaction; then the key pair and known_hosts; render.
Status StateRestore(Context& ctx, const StateRestoreOptions& o) {
  if (o.file.empty()) return UsageError("give the backup file: vpcctl state restore FILE");
  if (!o.node.empty()) VPC_TRY(model::ValidateNodeName(o.node));
  if (!ctx.Machine().Stat(o.file).regular) {
    return UsageError("cannot read the backup " + Quoted(o.file) + ": no such file");
  }
  VPC_TRY(store::EnsureStateDir(ctx.paths.dir, nullptr));
  VPC_ASSIGN_OR_RETURN(store::StateLock lock,
                       store::StateLock::Acquire(ctx.paths.lock(), ctx.command_line));
  VPC_ASSIGN_OR_RETURN(auto db, OpenNodeStore(ctx));
  auto opened = store::Backup::Open(o.file, ctx.paths.dir);
  if (!opened) return UsageError(opened.error().message + "; nothing was changed");
  std::unique_ptr<store::Backup> backup = std::move(*opened);
  const store::BackupEntries& e = backup->entries();
  if (!model::ValidateNodeName(e.at("controller")).ok()) {
    return UsageError(Quoted(o.file) + " names no valid controller node; nothing was changed");
  }
  VPC_ASSIGN_OR_RETURN(std::string me, CheckRestoreTarget(*db, e, o));
  VPC_ASSIGN_OR_RETURN(auto held, db->LoadMap());
  uint64_t generation = 0, epoch = 0;
  VPC_TRY(backup->CopyControllerTablesInto(*db, [&]() -> Status {
    return TakeOver(*db, e, me, held ? held->generation : 0, &generation, &epoch);
  }));
  const exec::Host& host = ctx.Machine();
  VPC_TRY(host.WriteFile(ctx.paths.private_key(), e.at("id_ed25519"), 0600));
  VPC_TRY(host.WriteFile(ctx.paths.public_key(), e.at("id_ed25519.pub"), 0644));
  if (e.count("known_hosts")) {
    VPC_TRY(host.WriteFile(ctx.paths.known_hosts(), e.at("known_hosts"), 0600));
  }
  const std::string& old = e.at("controller");
  VPC_ASSIGN_OR_RETURN(model::Fabric f, db->LoadFabric());
  const model::Node* was = f.FindNode(old);
  if (o.json) {
    PrintJson(ctx.io.out, {{"file", o.file},
                           {"fabric", e.at("fabric")},
                           {"controller", me},
                           {"previous_controller", old},
                           {"made_at", Printable(e.at("made_at"), 64)},
                           {"backup_generation", Number(e, "generation")},
                           {"generation", generation},
                           {"epoch", epoch}});
    return {};
  }
  auto& out = ctx.io.out;
  out << "restored fabric " << e.at("fabric") << " from " << o.file << " (made on " << old << " at "
      << Printable(e.at("made_at"), 64) << ", generation " << Number(e, "generation") << ")\n"
      << "this node, " << me << ", is its controller now: epoch " << epoch << ", generation "
      << generation << "\n";
  if (was && old != me) {
    out << old << " is a remote node now (ssh " << SshText(*was) << ", host key "
        << (was->host_key.empty() ? "NOT pinned: run `vpcctl node update " + old + " --repin`"
                                  : "pinned " + FingerprintText(*was))
        << ")\n";
  }
  out << "run `vpcctl vpc deploy`: the nodes then refuse maps from the old controller\n";
  return {};
}

}  // namespace vpcctl::fabric
