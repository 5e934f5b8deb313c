#include "vpcctl/exec/host.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

#include "vpcctl/exec/files.h"
#include "vpcctl/exec/runner.h"

namespace vpcctl::exec {

namespace {

Status WriteAll(const std::string& path, int flags, unsigned mode, const std::string& data) {
  int fd = open(path.c_str(), flags | O_WRONLY | O_CLOEXEC, mode);
  if (fd < 0) return Failure("cannot open " + path + ": " + std::strerror(errno));
  bool ok = write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  int e = errno;
  close(fd);
  if (!ok) return Failure("cannot write " + path + ": " + std::strerror(e));
  return {};
}

class System final : public Host {
 public:
  std::string SystemName() const override { return LocalSystemName(); }
  std::string SelfPath() const override { return exec::SelfPath(); }
  std::string FindProgram(const std::string& program) const override {
    return exec::FindProgram(program);
  }
  bool KernelHasWireguard() const override {
    if (Stat("/sys/module/wireguard").exists) return true;
    utsname u{};
    if (uname(&u) != 0) return false;
    return Stat(std::string("/lib/modules/") + u.release + "/kernel/drivers/net/wireguard").exists;
  }

  Result<std::string> ReadFile(const std::string& path) const override {
    return exec::ReadFile(path);
  }
  Status WriteFile(const std::string& path, const std::string& data, unsigned mode) const override {
    return WriteFileAtomic(path, data, mode);
  }
  Status AppendFile(const std::string& path, const std::string& data,
                    unsigned mode) const override {
    return WriteAll(path, O_CREAT | O_APPEND, mode, data);
  }
  Status WriteInPlace(const std::string& path, const std::string& data) const override {
    return WriteAll(path, 0, 0, data);
  }
  Status RemoveFile(const std::string& path) const override {
    if (std::remove(path.c_str()) != 0 && errno != ENOENT) {
      return Failure("cannot remove " + path + ": " + std::strerror(errno));
    }
    return {};
  }
  FileInfo Stat(const std::string& path) const override {
    FileInfo f;
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return f;
    f.exists = true;
    f.directory = S_ISDIR(st.st_mode);
    f.regular = S_ISREG(st.st_mode);
    f.executable = access(path.c_str(), X_OK) == 0;
    f.uid = st.st_uid;
    f.mode = st.st_mode & 07777;
    f.size = static_cast<uint64_t>(st.st_size);
    return f;
  }
  std::vector<std::string> ListDir(const std::string& dir) const override {
    std::vector<std::string> out;
    if (DIR* d = opendir(dir.c_str())) {
      while (dirent* e = readdir(d)) {
        std::string name = e->d_name;
        if (!name.empty() && name[0] != '.') out.push_back(name);
      }
      closedir(d);
    }
    return out;
  }

  int DaemonPid(const std::string& pidfile, const DaemonIdentity& who,
                std::string* why) const override {
    return PidFromFile(pidfile, who, why);
  }
  Status Signal(const std::string& pidfile, const DaemonIdentity& who, int sig,
                std::chrono::milliseconds wait_exit) const override {
    return SignalPidfile(pidfile, who, sig, wait_exit);
  }
  bool Accepting(const std::string& path) const override {
    sockaddr_un addr{};
    if (path.size() >= sizeof addr.sun_path) return false;
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    return ok;
  }

  uint32_t Random() const override {
    std::random_device rd;
    return rd();
  }
};

}  // namespace

const Host& SystemHost() {
  static const System host;
  return host;
}

}  // namespace vpcctl::exec
