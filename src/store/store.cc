#include "vpcctl/store/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "vpcctl/base/text.h"
#include "vpcctl/store/migrations.h"

namespace vpcctl::store {

namespace {

std::string Hex(int64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%08llx", static_cast<unsigned long long>(v));
  return buf;
}

// Creates the file 0600 before SQLite does (SQLite would use the umask), and tightens a wider mode.
Status PrepareFile(const std::string& path, bool create, std::vector<std::string>* warnings,
                   bool* fresh) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return Failure("cannot stat " + path + ": " + std::strerror(errno));
    if (!create) return Failure("no database at " + path);
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return Failure("cannot create " + path + ": " + std::strerror(errno));
    close(fd);
    *fresh = true;
    return {};
  }
  if ((st.st_mode & 077) != 0) {
    if (chmod(path.c_str(), 0600) != 0) {
      return Failure("cannot tighten the mode of " + path + ": " + std::strerror(errno));
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    if (warnings) warnings->push_back(path + " had mode " + buf + "; tightened to 0600");
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, bool create,
                                           std::vector<std::string>* warnings) {
  bool fresh = false;
  VPC_TRY(PrepareFile(path, create, warnings, &fresh));
  VPC_ASSIGN_OR_RETURN(Db db, Db::Open(path, false));
  std::unique_ptr<Store> s(new Store(std::move(db)));
  sqlite3_busy_timeout(s->db_.get(), 5000);
  // Keep the -wal and -shm files between runs: on a full disk a node can still read its state
  // (opening in WAL mode must create -shm otherwise), and writes fail cleanly with SQLITE_FULL.
  int persist = 1;
  sqlite3_file_control(s->db_.get(), "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
  VPC_TRY(s->db_.Exec("PRAGMA foreign_keys = ON"));
  VPC_TRY(s->Verify(path, fresh));
  {
    // WAL lets read-only commands (list, show, status) run while a deploy writes.
    auto mode = s->db_.Prepare("PRAGMA journal_mode = WAL");
    if (!mode) return mode.take_error();
    auto row = mode->Step();
    if (!row) return row.take_error();
  }
  VPC_TRY(s->db_.Exec("PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = 4194304"));
  VPC_TRY(s->Migrate());
  return s;
}

Status Store::Verify(const std::string& path, bool fresh) {
  auto app = db_.QueryInt("PRAGMA application_id");
  if (!app) {
    int code = sqlite3_errcode(db_.get()) & 0xff;
    if (code == SQLITE_IOERR || code == SQLITE_FULL || code == SQLITE_CANTOPEN) {
      return Failure("cannot read " + path + ": " + app.error().message +
                     " (is its filesystem full or failing?)");
    }
    return Failure(path + " is not a vpcctl database (cannot read it as SQLite: " +
                   app.error().message + ")");
  }
  auto version = db_.QueryInt("PRAGMA user_version");
  if (!version) return version.take_error();
  auto tables = db_.QueryInt("SELECT count(*) FROM sqlite_schema");
  if (!tables) return tables.take_error();
  bool empty = *tables == 0 && *app == 0 && *version == 0;
  if (!empty && *app != kApplicationId) {
    return Failure(path + " is not a vpcctl database (application_id " + Hex(*app) +
                   ", expected " + Hex(kApplicationId) + "); refusing to touch it");
  }
  int64_t known = static_cast<int64_t>(Migrations().size());
  if (*version > known) {
    return Failure(path + " was written by a newer vpcctl (schema " + std::to_string(*version) +
                   ", this build knows up to " + std::to_string(known) + ")");
  }
  if (!fresh && !empty) {
    VPC_ASSIGN_OR_RETURN(Stmt check, db_.Prepare("PRAGMA integrity_check"));
    std::vector<std::string> problems;
    while (true) {
      VPC_ASSIGN_OR_RETURN(bool row, check.Step());
      if (!row) break;
      std::string r = check.Text(0);
      if (r != "ok") problems.push_back(r);
    }
    if (!problems.empty()) {
      return Failure(path + " failed its integrity check: " + problems.front() +
                     (problems.size() > 1 ? " (and " + std::to_string(problems.size() - 1) +
                                                " more)"
                                          : std::string()));
    }
  }
  schema_version_ = *version;
  return {};
}

Status Store::Migrate() {
  const auto& all = Migrations();
  if (schema_version_ >= static_cast<int64_t>(all.size())) return {};
  VPC_TRY(db_.Exec("BEGIN IMMEDIATE"));
  // Re-read under the write lock: another process may have migrated meanwhile.
  auto version = db_.QueryInt("PRAGMA user_version");
  if (!version) {
    Rollback();
    return version.take_error();
  }
  for (auto v = *version; v < static_cast<int64_t>(all.size()); ++v) {
    auto st = db_.Exec(all[static_cast<size_t>(v)].sql);
    if (!st.ok()) {
      Rollback();
      return Failure("migration " + all[static_cast<size_t>(v)].name + " failed: " +
                     st.error().message);
    }
  }
  auto st = db_.Exec("PRAGMA application_id = " + std::to_string(kApplicationId) +
                     "; PRAGMA user_version = " + std::to_string(all.size()));
  if (!st.ok()) {
    Rollback();
    return st;
  }
  VPC_TRY(db_.Exec("COMMIT"));
  schema_version_ = static_cast<int64_t>(all.size());
  return {};
}

Status Store::Begin() {
  auto st = db_.Exec("BEGIN IMMEDIATE");
  if (!st.ok() && sqlite3_extended_errcode(db_.get()) == SQLITE_BUSY) {
    return Error{"the state database is busy: another vpcctl is writing to it; try again", Exit::kLocked};
  }
  return st;
}

Status Store::Commit() { return db_.Exec("COMMIT"); }

void Store::Rollback() { (void)db_.Exec("ROLLBACK"); }

Result<std::optional<std::string>> Store::GetSetting(const std::string& key) {
  VPC_ASSIGN_OR_RETURN(Stmt s, db_.Prepare("SELECT value FROM setting WHERE key = ?"));
  s.Bind(1, key);
  VPC_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(s.Text(0));
}

Status Store::SetSetting(const std::string& key, const std::string& value) {
  VPC_ASSIGN_OR_RETURN(Stmt s, db_.Prepare("INSERT INTO setting (key, value) VALUES (?, ?) "
                                           "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
  s.Bind(1, key).Bind(2, value);
  return s.Run();
}

namespace {

std::optional<std::string> AddrText(const std::optional<net::IpAddress>& a) {
  if (!a) return std::nullopt;
  return a->ToString();
}

Result<std::optional<net::IpAddress>> ParseOptAddr(const std::optional<std::string>& s) {
  if (!s) return std::optional<net::IpAddress>();
  VPC_ASSIGN_OR_RETURN(net::IpAddress a, net::IpAddress::Parse(*s));
  return std::optional<net::IpAddress>(a);
}

Error Corrupt(const std::string& what, const Error& e) {
  return Failure("the state database holds an invalid " + what + ": " + e.message);
}

// Column `col` of the row, an optional address (NULL: none).
Status AddrColumn(Stmt& s, int col, const char* what, std::optional<net::IpAddress>& into) {
  auto a = ParseOptAddr(s.OptText(col));
  if (!a) return Corrupt(what, a.error());
  into = *a;
  return {};
}

// One row of `SELECT id, name, ssh_host, ... local6 FROM node` (LoadFabric's).
Result<model::Node> NodeRow(Stmt& s) {
  model::Node n;
  n.name = s.Text(1);
  n.ssh_host = s.Text(2);
  n.ssh_port = static_cast<int>(s.Int(3));
  n.ssh_user = s.Text(4);
  VPC_TRY(AddrColumn(s, 5, "underlay address", n.underlay4));
  VPC_TRY(AddrColumn(s, 6, "underlay address", n.underlay6));
  auto p = model::ParsePlatform(s.Text(7));
  if (!p) return Corrupt("platform", p.error());
  n.platform = *p;
  n.mtu = static_cast<int>(s.Int(8));
  n.is_local = s.Int(9) != 0;
  n.use_sudo = s.Int(10) != 0;
  n.remote_vpcctl = s.Text(11);
  n.host_key = s.Text(12);
  // Printable even when an older vpcctl stored it raw (JSON output needs valid UTF-8).
  n.remote_version = Printable(s.Text(13), model::kMaxVersionText);
  n.last_check = s.Text(14);
  VPC_TRY(AddrColumn(s, 15, "transport address", n.transport));
  n.wg_public_key = s.Text(16);
  VPC_TRY(AddrColumn(s, 17, "local address", n.local4));
  VPC_TRY(AddrColumn(s, 18, "local address", n.local6));
  return n;
}

// One row of `SELECT id, name, peer_network, ... encrypted FROM vpc`.
Result<model::Vpc> VpcRow(Stmt& s) {
  model::Vpc v;
  v.id = static_cast<uint32_t>(s.Int(0));
  v.name = s.Text(1);
  auto c = net::Cidr::Parse(s.Text(2));
  if (!c) return Corrupt("peer network", c.error());
  v.peer_network = *c;
  auto fam = model::ParseFamilyPref(s.Text(3));
  if (!fam) return Corrupt("family", fam.error());
  v.family = *fam;
  v.mtu = static_cast<int>(s.Int(4));
  v.mtu_fixed = s.Int(5) != 0;
  v.port = static_cast<int>(s.Int(6));
  if (auto q = s.OptInt(7)) v.max_jails = static_cast<int>(*q);
  if (auto q = s.OptInt(8)) v.max_vms = static_cast<int>(*q);
  v.encrypted = s.Int(9) != 0;
  return v;
}

// One row of `SELECT vpc_id, vhid, address, ... unsafe_two_node FROM vip`.
Result<model::Vip> VipRow(Stmt& s) {
  model::Vip v;
  v.vhid = static_cast<int>(s.Int(1));
  auto a = net::IpAddress::Parse(s.Text(2));
  if (!a) return Corrupt("VIP address", a.error());
  v.address = *a;
  v.nodes = Split(s.Text(3), ',');
  v.secret = s.Text(4);
  v.advert_ms = static_cast<int>(s.Int(5));
  v.preempt = s.Int(6) != 0;
  v.lease_ms = static_cast<int>(s.Int(7));
  v.check = s.Text(8);
  v.witness = s.Text(9);
  v.unsafe_two_node = s.Int(10) != 0;
  return v;
}

// The fabric-wide settings: generation, VNI range, transport network and WireGuard port.
Status LoadSettings(Store& store, model::Fabric& f) {
  VPC_ASSIGN_OR_RETURN(auto gen, store.GetSetting("generation"));
  if (gen) f.generation = ParseUint(*gen).value_or(0);
  VPC_ASSIGN_OR_RETURN(auto range, store.GetSetting("vni_range"));
  if (range) {
    auto r = model::VniRange::Parse(*range);
    if (!r) return Corrupt("VNI range", r.error());
    f.vni_range = *r;
  }
  VPC_ASSIGN_OR_RETURN(auto transport, store.GetSetting("transport_network"));
  if (transport) {
    auto c = net::Cidr::Parse(*transport);
    if (!c) return Corrupt("transport network", c.error());
    f.transport.network = *c;
  }
  VPC_ASSIGN_OR_RETURN(auto wg_port, store.GetSetting("wireguard_port"));
  if (wg_port) {
    auto p = ParseUint(*wg_port, 65535);
    if (!p || *p == 0) return Failure("the state database holds an invalid WireGuard port");
    f.transport.port = static_cast<int>(*p);
  }
  return {};
}

}  // namespace

Result<model::Fabric> Store::LoadFabric() {
  model::Fabric f;
  VPC_TRY(LoadSettings(*this, f));
  std::map<int64_t, std::string> node_names;
  {
    VPC_ASSIGN_OR_RETURN(
        Stmt s, db_.Prepare("SELECT id, name, ssh_host, ssh_port, ssh_user, underlay4, underlay6, "
                            "platform, mtu, is_local, use_sudo, remote_vpcctl, host_key, "
                            "remote_version, last_check, transport, wg_public_key, local4, local6 "
                            "FROM node "
                            "ORDER BY id"));
    while (true) {
      VPC_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      VPC_ASSIGN_OR_RETURN(model::Node n, NodeRow(s));
      node_names[s.Int(0)] = n.name;
      f.nodes.push_back(std::move(n));
    }
  }
  std::map<int64_t, size_t> vpc_index;
  {
    VPC_ASSIGN_OR_RETURN(Stmt s, db_.Prepare("SELECT id, name, peer_network, family, mtu, "
                                             "mtu_fixed, port, max_jails, max_vms, encrypted "
                                             "FROM vpc ORDER BY id"));
    while (true) {
      VPC_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      VPC_ASSIGN_OR_RETURN(model::Vpc v, VpcRow(s));
      vpc_index[s.Int(0)] = f.vpcs.size();
      f.vpcs.push_back(std::move(v));
    }
  }
  {
    VPC_ASSIGN_OR_RETURN(
        Stmt s, db_.Prepare("SELECT vpc_id, node_id, overlay FROM member ORDER BY vpc_id, position"));
    while (true) {
      VPC_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      auto a = net::IpAddress::Parse(s.Text(2));
      if (!a) return Corrupt("overlay address", a.error());
      f.vpcs[vpc_index.at(s.Int(0))].members.push_back(model::Member{node_names.at(s.Int(1)), *a});
    }
  }
  {
    VPC_ASSIGN_OR_RETURN(
        Stmt s, db_.Prepare("SELECT vni, vpc_id, node_a, node_b, family FROM tunnel ORDER BY vni"));
    while (true) {
      VPC_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      model::Tunnel t;
      t.vni = static_cast<uint32_t>(s.Int(0));
      t.a = node_names.at(s.Int(2));
      t.b = node_names.at(s.Int(3));
      if (t.b < t.a) std::swap(t.a, t.b);
      t.family = s.Text(4) == "ipv6" ? net::Family::kV6 : net::Family::kV4;
      f.vpcs[vpc_index.at(s.Int(1))].tunnels.push_back(std::move(t));
    }
  }
  {
    VPC_ASSIGN_OR_RETURN(Stmt s, db_.Prepare("SELECT vpc_id, vhid, address, nodes, secret, "
                                             "advert_ms, preempt, lease_ms, \"check\", witness, "
                                             "unsafe_two_node FROM vip ORDER BY vpc_id, vhid"));
    while (true) {
      VPC_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      VPC_ASSIGN_OR_RETURN(model::Vip v, VipRow(s));
      f.vpcs[vpc_index.at(s.Int(0))].vips.push_back(std::move(v));
    }
  }
  return f;
}

Status Store::SaveNode(const model::Node& n) {
  VPC_ASSIGN_OR_RETURN(
      Stmt s,
      db_.Prepare("INSERT INTO node (name, ssh_host, ssh_port, ssh_user, underlay4, underlay6, "
                  "platform, mtu, is_local, use_sudo, remote_vpcctl, host_key, remote_version, "
                  "last_check, transport, wg_public_key, local4, local6) VALUES (?1, ?2, ?3, ?4, "
                  "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) "
                  "ON CONFLICT (name) DO UPDATE SET ssh_host = ?2, ssh_port = ?3, ssh_user = ?4, "
                  "underlay4 = ?5, underlay6 = ?6, platform = ?7, mtu = ?8, is_local = ?9, "
                  "use_sudo = ?10, remote_vpcctl = ?11, host_key = ?12, remote_version = ?13, "
                  "last_check = ?14, transport = ?15, wg_public_key = ?16, local4 = ?17, "
                  "local6 = ?18"));
  s.Bind(1, n.name)
      .Bind(2, n.ssh_host)
      .Bind(3, int64_t{n.ssh_port})
      .Bind(4, n.ssh_user)
      .Bind(5, AddrText(n.underlay4))
      .Bind(6, AddrText(n.underlay6))
      .Bind(7, model::PlatformName(n.platform))
      .Bind(8, int64_t{n.mtu})
      .Bind(9, int64_t{n.is_local})
      .Bind(10, int64_t{n.use_sudo})
      .Bind(11, n.remote_vpcctl)
      .Bind(12, n.host_key)
      .Bind(13, n.remote_version)
      .Bind(14, n.last_check)
      .Bind(15, AddrText(n.transport))
      .Bind(16, n.wg_public_key)
      .Bind(17, AddrText(n.local4))
      .Bind(18, AddrText(n.local6));
  return s.Run();
}

Status Store::DeleteNode(const std::string& name) {
  VPC_ASSIGN_OR_RETURN(Stmt s, db_.Prepare("DELETE FROM node WHERE name = ?"));
  s.Bind(1, name);
  return s.Run();
}

Result<int64_t> Store::NodeId(const std::string& name) {
  VPC_ASSIGN_OR_RETURN(Stmt s, db_.Prepare("SELECT id FROM node WHERE name = ?"));
  s.Bind(1, name);
  VPC_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Failure("unknown node " + Quoted(name));
  return s.Int(0);
}

Status Store::SaveVpc(const model::Vpc& v) {
  {
    VPC_ASSIGN_OR_RETURN(
        Stmt s, db_.Prepare("INSERT INTO vpc (id, name, peer_network, family, mtu, mtu_fixed, port, "
                            "max_jails, max_vms, encrypted) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                            "?9, ?10) ON CONFLICT (name) DO UPDATE SET peer_network = ?3, "
                            "family = ?4, mtu = ?5, mtu_fixed = ?6, port = ?7, max_jails = ?8, "
                            "max_vms = ?9, encrypted = ?10"));
    auto opt = [](const std::optional<int>& q) {
      return q ? std::optional<int64_t>(*q) : std::optional<int64_t>();
    };
    s.Bind(1, int64_t{v.id})
        .Bind(2, v.name)
        .Bind(3, v.peer_network.ToString())
        .Bind(4, model::FamilyPrefName(v.family))
        .Bind(5, int64_t{v.mtu})
        .Bind(6, int64_t{v.mtu_fixed})
        .Bind(7, int64_t{v.port})
        .Bind(8, opt(v.max_jails))
        .Bind(9, opt(v.max_vms))
        .Bind(10, int64_t{v.encrypted});
    VPC_TRY(s.Run());
  }
  VPC_ASSIGN_OR_RETURN(Stmt del_v, db_.Prepare("DELETE FROM vip WHERE vpc_id = ?"));
  del_v.Bind(1, int64_t{v.id});
  VPC_TRY(del_v.Run());
  VPC_ASSIGN_OR_RETURN(Stmt del_t, db_.Prepare("DELETE FROM tunnel WHERE vpc_id = ?"));
  del_t.Bind(1, int64_t{v.id});
  VPC_TRY(del_t.Run());
  VPC_ASSIGN_OR_RETURN(Stmt del_m, db_.Prepare("DELETE FROM member WHERE vpc_id = ?"));
  del_m.Bind(1, int64_t{v.id});
  VPC_TRY(del_m.Run());
  std::map<std::string, int64_t> ids;
  VPC_ASSIGN_OR_RETURN(Stmt ins_m, db_.Prepare("INSERT INTO member (vpc_id, node_id, position, "
                                               "overlay) VALUES (?, ?, ?, ?)"));
  int64_t pos = 0;
  for (const auto& m : v.members) {
    VPC_ASSIGN_OR_RETURN(int64_t id, NodeId(m.node));
    ids[m.node] = id;
    ins_m.Reset();
    ins_m.Bind(1, int64_t{v.id}).Bind(2, id).Bind(3, pos++).Bind(4, m.overlay.ToString());
    VPC_TRY(ins_m.Run());
  }
  VPC_ASSIGN_OR_RETURN(Stmt ins_t, db_.Prepare("INSERT INTO tunnel (vni, vpc_id, node_a, node_b, "
                                               "family) VALUES (?, ?, ?, ?, ?)"));
  for (const auto& t : v.tunnels) {
    ins_t.Reset();
    ins_t.Bind(1, int64_t{t.vni})
        .Bind(2, int64_t{v.id})
        .Bind(3, ids.at(t.a))
        .Bind(4, ids.at(t.b))
        .Bind(5, net::FamilyName(t.family));
    VPC_TRY(ins_t.Run());
  }
  VPC_ASSIGN_OR_RETURN(Stmt ins_v, db_.Prepare("INSERT INTO vip (vpc_id, vhid, address, nodes, "
                                               "secret, advert_ms, preempt, lease_ms, \"check\", "
                                               "witness, unsafe_two_node) VALUES (?, ?, ?, ?, "
                                               "?, ?, ?, ?, ?, ?, ?)"));
  for (const auto& vip : v.vips) {
    ins_v.Reset();
    ins_v.Bind(1, int64_t{v.id})
        .Bind(2, int64_t{vip.vhid})
        .Bind(3, vip.address.ToString())
        .Bind(4, Join(vip.nodes, ","))
        .Bind(5, vip.secret)
        .Bind(6, int64_t{vip.advert_ms})
        .Bind(7, int64_t{vip.preempt})
        .Bind(8, int64_t{vip.lease_ms})
        .Bind(9, vip.check)
        .Bind(10, vip.witness)
        .Bind(11, int64_t{vip.unsafe_two_node});
    VPC_TRY(ins_v.Run());
  }
  return {};
}

Status Store::DeleteVpc(const std::string& name) {
  VPC_ASSIGN_OR_RETURN(Stmt s, db_.Prepare("DELETE FROM vpc WHERE name = ?"));
  s.Bind(1, name);
  return s.Run();
}

Result<int64_t> Store::NextId(const std::string& table) {
  VPC_ASSIGN_OR_RETURN(Stmt s, db_.Prepare("SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE "
                                           "name = ?), 0) + 1"));
  s.Bind(1, table);
  VPC_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Failure("database: no sequence for " + table);
  return s.Int(0);
}

Result<uint32_t> Store::NextVpcId() {
  VPC_ASSIGN_OR_RETURN(int64_t id, NextId("vpc"));
  return static_cast<uint32_t>(id);
}

Result<uint64_t> Store::BumpGeneration() {
  VPC_ASSIGN_OR_RETURN(auto gen, GetSetting("generation"));
  uint64_t g = gen ? ParseUint(*gen).value_or(0) + 1 : 1;
  VPC_TRY(SetSetting("generation", std::to_string(g)));
  return g;
}

Result<std::optional<StoredMap>> Store::LoadMap() {
  VPC_ASSIGN_OR_RETURN(Stmt s,
                       db_.Prepare("SELECT node, fabric, generation, document, imported_at, "
                                   "epoch FROM map WHERE id = 1"));
  VPC_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<StoredMap>();
  StoredMap m{s.Text(0), s.Text(1), static_cast<uint64_t>(s.Int(2)),
              s.Text(3), s.Text(4), static_cast<uint64_t>(s.Int(5))};
  return std::optional<StoredMap>(std::move(m));
}

Status Store::SaveMap(const StoredMap& m) {
  VPC_ASSIGN_OR_RETURN(
      Stmt s, db_.Prepare("INSERT INTO map (id, node, fabric, generation, document, imported_at, "
                          "epoch) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE "
                          "SET node = ?1, fabric = ?2, generation = ?3, document = ?4, "
                          "imported_at = ?5, epoch = ?6"));
  s.Bind(1, m.node)
      .Bind(2, m.fabric_id)
      .Bind(3, static_cast<int64_t>(m.generation))
      .Bind(4, m.document)
      .Bind(5, m.imported_at)
      .Bind(6, static_cast<int64_t>(m.epoch));
  return s.Run();
}

Status Store::AddCleanup(const std::string& vpc, const std::string& node) {
  VPC_ASSIGN_OR_RETURN(int64_t id, NodeId(node));
  VPC_ASSIGN_OR_RETURN(Stmt s, db_.Prepare("INSERT OR IGNORE INTO cleanup (vpc, node_id) "
                                           "VALUES (?, ?)"));
  s.Bind(1, vpc).Bind(2, id);
  return s.Run();
}

Status Store::RemoveCleanup(const std::string& vpc, const std::string& node) {
  VPC_ASSIGN_OR_RETURN(Stmt s, db_.Prepare("DELETE FROM cleanup WHERE vpc = ? AND node_id = "
                                           "(SELECT id FROM node WHERE name = ?)"));
  s.Bind(1, vpc).Bind(2, node);
  return s.Run();
}

Result<std::vector<std::pair<std::string, std::string>>> Store::Cleanups() {
  VPC_ASSIGN_OR_RETURN(Stmt s, db_.Prepare("SELECT c.vpc, n.name FROM cleanup c JOIN node n ON "
                                           "n.id = c.node_id ORDER BY c.vpc, n.id"));
  std::vector<std::pair<std::string, std::string>> out;
  while (true) {
    VPC_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.emplace_back(s.Text(0), s.Text(1));
  }
  return out;
}

Result<std::vector<model::Attachment>> Store::Attachments() {
  VPC_ASSIGN_OR_RETURN(Stmt s, db_.Prepare("SELECT id, vpc, kind, guest, ifname, inside, mac, "
                                           "address, created FROM attachment ORDER BY id"));
  std::vector<model::Attachment> out;
  while (true) {
    VPC_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    model::Attachment a;
    a.id = s.Int(0);
    a.vpc = s.Text(1);
    auto k = model::ParseGuestKind(s.Text(2));
    if (!k) return Corrupt("guest kind", k.error());
    a.kind = *k;
    a.guest = s.Text(3);
    a.ifname = s.Text(4);
    a.inside = s.Text(5);
    if (auto mac = s.OptText(6)) {
      auto m = net::MacAddress::Parse(*mac);
      if (!m) return Corrupt("MAC address", m.error());
      a.mac = *m;
    }
    if (auto addr = s.OptText(7)) {
      auto ia = net::IfAddress::Parse(*addr);
      if (!ia) return Corrupt("guest address", ia.error());
      a.address = *ia;
    }
    a.created = s.Text(8);
    out.push_back(std::move(a));
  }
  return out;
}

Result<int64_t> Store::NextAttachmentId() { return NextId("attachment"); }

Status Store::AddAttachment(const model::Attachment& a) {
  VPC_ASSIGN_OR_RETURN(Stmt s, db_.Prepare("INSERT INTO attachment (vpc, kind, guest, ifname, "
                                           "inside, mac, address, created, id) VALUES (?, ?, ?, "
                                           "?, ?, ?, ?, ?, ?)"));
  s.Bind(9, a.id);
  s.Bind(1, a.vpc)
      .Bind(2, model::GuestKindName(a.kind))
      .Bind(3, a.guest)
      .Bind(4, a.ifname)
      .Bind(5, a.inside)
      .Bind(6, a.mac ? std::optional<std::string>(a.mac->ToString()) : std::nullopt)
      .Bind(7, a.address ? std::optional<std::string>(a.address->ToString()) : std::nullopt)
      .Bind(8, a.created);
  return s.Run();
}

Status Store::DeleteAttachment(int64_t id) {
  VPC_ASSIGN_OR_RETURN(Stmt s, db_.Prepare("DELETE FROM attachment WHERE id = ?"));
  s.Bind(1, id);
  return s.Run();
}

Status Store::AddVipEvent(const VipEvent& e) {
  VPC_ASSIGN_OR_RETURN(Stmt s, db_.Prepare("INSERT INTO vip_event (vpc, vhid, state, at) VALUES "
                                           "(?, ?, ?, ?)"));
  s.Bind(1, e.vpc).Bind(2, int64_t{e.vhid}).Bind(3, e.state).Bind(4, e.at);
  VPC_TRY(s.Run());
  // Keep the last 100 transitions of each VIP.
  VPC_ASSIGN_OR_RETURN(Stmt trim, db_.Prepare("DELETE FROM vip_event WHERE vpc = ?1 AND vhid = ?2 "
                                              "AND id NOT IN (SELECT id FROM vip_event WHERE "
                                              "vpc = ?1 AND vhid = ?2 ORDER BY id DESC LIMIT 100)"));
  trim.Bind(1, e.vpc).Bind(2, int64_t{e.vhid});
  return trim.Run();
}

Result<std::vector<VipEvent>> Store::VipEvents(const std::string& vpc, int vhid, int limit) {
  VPC_ASSIGN_OR_RETURN(Stmt s, db_.Prepare("SELECT vpc, vhid, state, at FROM vip_event WHERE "
                                           "vpc = ? AND vhid = ? ORDER BY id DESC LIMIT ?"));
  s.Bind(1, vpc).Bind(2, int64_t{vhid}).Bind(3, int64_t{limit});
  std::vector<VipEvent> out;
  while (true) {
    VPC_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(VipEvent{s.Text(0), static_cast<int>(s.Int(1)), s.Text(2), s.Text(3)});
  }
  return out;
}

}  // namespace vpcctl::store
