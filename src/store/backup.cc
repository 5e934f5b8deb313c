#include "vpcctl/store/backup.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "vpcctl/base/text.h"

namespace vpcctl::store {

namespace {

// The controller's tables, parents first (copied in this order, emptied in the reverse one).
constexpr const char* kControllerTables[] = {"setting", "node", "vpc",    "member",
                                             "tunnel",  "vip",  "cleanup"};

// Creates `path` 0600, empty, failing if it exists (a stale temporary file is removed first).
Status CreatePrivate(const std::string& path) {
  (void)unlink(path.c_str());
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Failure("cannot create " + path + ": " + std::strerror(errno));
  close(fd);
  return {};
}

Status SyncFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Failure("cannot open " + path + ": " + std::strerror(errno));
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  if (rc != 0) return Failure("cannot sync " + path + ": " + std::strerror(err));
  return {};
}

// Copies database `from` into `to` (SQLite's online backup: one consistent snapshot, taken while
// other connections may write).
Status CopyDatabase(sqlite3* from, sqlite3* to, const std::string& what) {
  sqlite3_backup* b = sqlite3_backup_init(to, "main", from, "main");
  if (!b) return Failure("cannot start the copy of " + what + ": " + sqlite3_errmsg(to));
  int rc;
  do {
    rc = sqlite3_backup_step(b, -1);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(20);
  } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) return Failure("copying " + what + ": " + sqlite3_errstr(rc));
  return {};
}

void RemoveDatabaseFiles(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) (void)unlink((path + suffix).c_str());
}

}  // namespace

Status WriteBackup(Store& src, const std::string& path, const BackupEntries& entries) {
  std::string tmp = path + ".tmp-" + std::to_string(getpid());
  VPC_TRY(CreatePrivate(tmp));
  auto written = [&]() -> Status {
    {
      VPC_ASSIGN_OR_RETURN(Db out, Db::Open(tmp, false));
      VPC_TRY(CopyDatabase(src.db().get(), out.get(), "the state database"));
      // One file, no -wal beside it: the copy is a plain rollback-journal database.
      VPC_TRY(out.Exec("PRAGMA journal_mode = DELETE"));
      VPC_TRY(
          out.Exec("BEGIN; CREATE TABLE vpcctl_backup (name TEXT PRIMARY KEY, "
                   "content TEXT NOT NULL) STRICT"));
      VPC_ASSIGN_OR_RETURN(Stmt s, out.Prepare("INSERT INTO vpcctl_backup VALUES (?1, ?2)"));
      for (const auto& [name, content] : entries) {
        s.Reset();
        s.Bind(1, name).Bind(2, content);
        VPC_TRY(s.Run());
      }
      VPC_TRY(out.Exec("COMMIT"));
    }
    VPC_TRY(SyncFile(tmp));
    if (rename(tmp.c_str(), path.c_str()) != 0) {
      return Failure("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
    }
    return {};
  }();
  if (!written.ok()) RemoveDatabaseFiles(tmp);
  return written;
}

Result<std::unique_ptr<Backup>> Backup::Open(const std::string& path,
                                             const std::string& scratch_dir) {
  std::string what = Quoted(path);
  std::unique_ptr<Backup> b(new Backup());
  b->copy_ = scratch_dir + "/restore-" + std::to_string(getpid()) + ".db";
  VPC_TRY(CreatePrivate(b->copy_));
  {
    // Read-only, and copied before anything else looks at it: the file is never written.
    sqlite3* raw = nullptr;
    int rc =
        sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    Db in(raw);
    if (rc != SQLITE_OK) {
      return Failure("cannot open the backup " + what + ": " +
                     (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    }
    VPC_ASSIGN_OR_RETURN(Db out, Db::Open(b->copy_, false));
    Status copied = CopyDatabase(in.get(), out.get(), "the backup " + what);
    if (!copied.ok()) {
      return Failure(what + " is not a vpcctl backup (" + copied.error().message + ")");
    }
  }
  std::vector<std::string> warnings;
  auto opened = Store::Open(b->copy_, false, &warnings);
  if (!opened) {
    std::string why = opened.error().message;
    auto at = why.find(b->copy_);  // name the file the user gave, not the private copy
    if (at != std::string::npos) why.replace(at, b->copy_.size(), what);
    return Failure("refusing the backup " + what + ": " + why);
  }
  std::unique_ptr<Store> copy = std::move(*opened);
  auto s = copy->db().Prepare("SELECT name, content FROM vpcctl_backup");
  if (!s)
    return Failure(what + " is a vpcctl database but not a backup (made by `vpcctl state backup`)");
  while (true) {
    VPC_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    b->entries_[s->Text(0)] = s->Text(1);
  }
  for (const char* name : kBackupRequired) {
    if (!b->entries_.count(name)) {
      return Failure(what + " is not a complete vpcctl backup: it has no " + Quoted(name));
    }
  }
  return b;
}

Backup::~Backup() {
  if (!copy_.empty()) RemoveDatabaseFiles(copy_);
}

Status Backup::CopyControllerTablesInto(Store& dst, const std::function<Status()>& then) {
  Db& db = dst.db();
  // SQLite attaches and detaches only outside a transaction.
  VPC_ASSIGN_OR_RETURN(Stmt attach, db.Prepare("ATTACH DATABASE ?1 AS restored"));
  attach.Bind(1, copy_);
  VPC_TRY(attach.Run());
  auto copied = [&]() -> Status {
    Transaction tx(dst);
    VPC_TRY(tx.Begin());
    for (size_t i = std::size(kControllerTables); i-- > 0;) {
      VPC_TRY(db.Exec(std::string("DELETE FROM main.") + kControllerTables[i]));
    }
    for (const char* t : kControllerTables) {
      VPC_TRY(db.Exec(std::string("INSERT INTO main.") + t + " SELECT * FROM restored." + t));
    }
    // VPC ids are never reused: their sequence comes along.
    VPC_TRY(db.Exec("DELETE FROM main.sqlite_sequence WHERE name = 'vpc'"));
    VPC_TRY(
        db.Exec("INSERT INTO main.sqlite_sequence SELECT * FROM restored.sqlite_sequence "
                "WHERE name = 'vpc'"));
    VPC_TRY(then());
    return tx.Commit();
  }();
  Status detached = db.Exec("DETACH DATABASE restored");
  VPC_TRY(copied);
  return detached;
}

}  // namespace vpcctl::store
