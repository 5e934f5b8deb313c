#include "vpcctl/store/state_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "vpcctl/base/text.h"
#include "vpcctl/model/fabric.h"

namespace vpcctl::store {

namespace {
constexpr size_t kLockRecord = 256;
}  // namespace

std::string DefaultStateDir() {
#if defined(__FreeBSD__)
  return std::string(model::DefaultStateDir(model::Platform::kFreeBSD));
#else
  return std::string(model::DefaultStateDir(model::Platform::kLinux));
#endif
}

std::string ResolveStateDir(const std::string& flag, const char* env) {
  if (!flag.empty()) return flag;
  if (env && *env) return env;
  return DefaultStateDir();
}

namespace {

// Every file and directory vpcctl makes in a state directory.
constexpr const char* kStateFiles[] = {
    "vpcctl.db",       "vpcctl.db-wal",      "vpcctl.db-shm",       "vpcctl.db-journal",
    "lock",            "apply.lock",         "id_ed25519",          "id_ed25519.pub",
    "known_hosts",     "wg.key",             "keepalived.conf",     "keepalived.pid",
    "keepalived-vrrp.pid", "wireguard-go.pid", "wireguard-go.log",  "vip-watch.pid",
    "firewall.rules",  "firewall.listing",   "hooks.d",             "hooks.log",
    "hooks.lock",      "vipd.json",          "vipd.pid",            "vipd.log",
    "vipd.sock",       "vipd-daemon.pid",    "keeper.sock",         "keeper.sock.lock"};
constexpr char kChoose[] =
    "choose an empty directory or a vpcctl state directory (--state-dir or VPCCTL_STATE_DIR)";

std::string ModeText(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Creates `dir` and its missing parents (0755; `dir` itself 0700). True when it made `dir`.
Result<bool> MakeDirs(const std::string& dir) {
  std::string partial;
  bool created = false;
  for (const auto& part : Split(dir, '/')) {
    if (part.empty()) {
      if (partial.empty()) partial = "/";
      continue;
    }
    if (!partial.empty() && partial.back() != '/') partial += '/';
    partial += part;
    bool last = partial.size() >= dir.size() - (dir.back() == '/' ? 1 : 0);
    created = mkdir(partial.c_str(), last ? 0700 : 0755) == 0;
    if (!created && errno != EEXIST) {
      return Failure("cannot create state directory " + partial + ": " + std::strerror(errno));
    }
  }
  return created;
}

Result<std::vector<std::string>> DirNames(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (!d) return Failure("cannot read state directory " + dir + ": " + std::strerror(errno));
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// An existing directory is adopted only when it is the user's own and empty or vpcctl's.
Status CheckAdoptable(const std::string& dir, const struct stat& st) {
  if (st.st_uid != geteuid()) {
    return UsageError("state directory " + dir + " is owned by uid " + std::to_string(st.st_uid) +
                      ", not by this user (uid " + std::to_string(geteuid()) +
                      "): vpcctl does not adopt another user's directory; " + kChoose);
  }
  VPC_ASSIGN_OR_RETURN(auto names, DirNames(dir));
  if (ClassifyStateDir(names) != DirKind::kForeign) return {};
  std::vector<std::string> foreign;
  for (const auto& n : names) {
    if (!IsStateFileName(n)) foreign.push_back(Quoted(n));
  }
  if (foreign.size() > 3) {
    foreign.resize(2);
    foreign.push_back("...");
  }
  return UsageError("state directory " + dir + " (mode " + ModeText(st.st_mode) +
                    ") is not empty and not a vpcctl state directory: it holds " +
                    Join(foreign, ", ") + " and no vpcctl.db; " + kChoose);
}

}  // namespace

bool IsStateFileName(const std::string& name) {
  for (const char* f : kStateFiles) {
    std::string known = f;
    if (name == known || StartsWith(name, known + ".tmp")) return true;
  }
  return false;
}

DirKind ClassifyStateDir(const std::vector<std::string>& names) {
  if (names.empty()) return DirKind::kEmpty;
  if (std::find(names.begin(), names.end(), "vpcctl.db") != names.end()) return DirKind::kStateDir;
  bool ours = std::all_of(names.begin(), names.end(), IsStateFileName);
  return ours ? DirKind::kStateDir : DirKind::kForeign;
}

Status EnsureStateDir(const std::string& dir, std::vector<std::string>* warnings) {
  if (dir.empty()) return UsageError("the state directory must not be empty");
  VPC_ASSIGN_OR_RETURN(bool created, MakeDirs(dir));
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return UsageError("state directory " + dir + " is not a directory; " + kChoose);
  }
  if (!created) VPC_TRY(CheckAdoptable(dir, st));
  if ((st.st_mode & 077) != 0) {
    if (chmod(dir.c_str(), 0700) != 0) {
      return Failure("cannot tighten the mode of " + dir + ": " + std::strerror(errno));
    }
    if (warnings) warnings->push_back("state directory " + dir + " had mode " +
                                      ModeText(st.st_mode) + "; tightened to 0700");
  }
  return {};
}

Result<StateLock> StateLock::Acquire(const std::string& path, const std::string& what,
                                     std::chrono::milliseconds wait) {
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Failure("cannot open lock file " + path + ": " + std::strerror(errno));
  StateLock lock(fd);
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) {
      return Failure("cannot lock " + path + ": " + std::strerror(errno));
    }
    if (std::chrono::steady_clock::now() < deadline) {
      usleep(20000);
      continue;
    }
    char buf[512] = {};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    std::string holder = n > 0 ? std::string(Trim(std::string(buf, static_cast<size_t>(n)))) : "";
    if (holder.empty()) holder = "unknown process";
    std::string dir = path.substr(0, path.rfind('/'));
    return Error{"another vpcctl is changing the state in " + dir + " (" + holder +
                     "); try again when it has finished",
                 Exit::kLocked};
  }
  // A fixed-size record, overwritten in place: holding and releasing the lock never changes the
  // file's size, so it keeps working (and frees nothing) on a full filesystem.
  std::string me = "pid " + std::to_string(getpid()) + ": " + what;
  me.resize(kLockRecord - 1, ' ');
  me += '\n';
  (void)!pwrite(fd, me.data(), me.size(), 0);
  return lock;
}

StateLock::~StateLock() {
  if (fd_ >= 0) {
    std::string blank(kLockRecord - 1, ' ');
    blank += '\n';
    (void)!pwrite(fd_, blank.data(), blank.size(), 0);
    close(fd_);  // releases the flock
  }
}

Status TightenMode(const std::string& path, unsigned mode, std::vector<std::string>* warnings) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return {};
  unsigned have = st.st_mode & 07777;
  if ((have & ~mode) == 0) return {};
  if (chmod(path.c_str(), mode) != 0) {
    return Failure("cannot tighten the mode of " + path + ": " + std::strerror(errno));
  }
  char buf[96];
  std::snprintf(buf, sizeof buf, " had mode %04o; tightened to %04o", have, mode);
  if (warnings) warnings->push_back(path + buf);
  return {};
}

Status TightenStateFiles(const StatePaths& paths, std::vector<std::string>* warnings) {
  for (const char* name : {"/id_ed25519", "/known_hosts", "/keepalived.conf", "/hooks.log",
                           "/hooks.lock", "/lock", "/apply.lock", "/vpcctl.db-wal",
                           "/vpcctl.db-shm"}) {
    VPC_TRY(TightenMode(paths.dir + name, 0600, warnings));
  }
  return {};
}

}  // namespace vpcctl::store
