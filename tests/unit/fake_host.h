// A machine for the unit tests: which system it says it is, where vpcctl is, which programs are
// installed, whether its kernel has WireGuard, its files (in memory), its daemons and the signals
// sent to them, and randomness that repeats. Nothing is read from the machine running the test.
#pragma once

#include <signal.h>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "vpcctl/exec/host.h"

namespace vpcctl::testing {

class FakeHost final : public exec::Host {
 public:
  struct File {
    std::string content;
    unsigned mode = 0600;
  };

  FakeHost(std::string system, std::set<std::string> programs)
      : system_(std::move(system)), programs_(std::move(programs)) {}
  FakeHost& operator=(const FakeHost& o) {
    if (this == &o) return *this;
    std::scoped_lock lock(mu_, o.mu_);
    system_ = o.system_;
    programs_ = o.programs_;
    files_ = o.files_;
    daemons_ = o.daemons_;
    sockets_ = o.sockets_;
    signals_ = o.signals_;
    kernel_wireguard = o.kernel_wireguard;
    return *this;
  }

  std::string SystemName() const override { return system_; }
  std::string SelfPath() const override { return "/usr/local/sbin/vpcctl"; }
  std::string FindProgram(const std::string& program) const override {
    return programs_.count(program) ? "/usr/bin/" + program : std::string();
  }
  bool KernelHasWireguard() const override { return kernel_wireguard; }

  Result<std::string> ReadFile(const std::string& path) const override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(path);
    if (it == files_.end()) return Failure("cannot read " + path + ": No such file or directory");
    return it->second.content;
  }
  Status WriteFile(const std::string& path, const std::string& data, unsigned mode) const override {
    std::lock_guard<std::mutex> lock(mu_);
    files_[path] = File{data, mode};
    return {};
  }
  Status AppendFile(const std::string& path, const std::string& data,
                    unsigned mode) const override {
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, made] = files_.try_emplace(path, File{"", mode});
    it->second.content += data;
    return {};
  }
  Status WriteInPlace(const std::string& path, const std::string& data) const override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(path);
    if (it == files_.end()) return Failure("cannot open " + path + ": No such file or directory");
    it->second.content = data;
    return {};
  }
  Status RemoveFile(const std::string& path) const override {
    std::lock_guard<std::mutex> lock(mu_);
    files_.erase(path);
    return {};
  }
  exec::FileInfo Stat(const std::string& path) const override {
    std::lock_guard<std::mutex> lock(mu_);
    exec::FileInfo i;
    if (auto it = files_.find(path); it != files_.end()) {
      i.exists = i.regular = true;
      i.mode = it->second.mode;
      i.executable = (it->second.mode & 0111) != 0;
      i.size = it->second.content.size();
    } else if (!Under(path).empty()) {
      i.exists = i.directory = i.executable = true;
      i.mode = 0755;
    }
    return i;
  }
  std::vector<std::string> ListDir(const std::string& dir) const override {
    std::lock_guard<std::mutex> lock(mu_);
    return Under(dir);
  }

  int DaemonPid(const std::string& pidfile, const exec::DaemonIdentity&,
                std::string* why) const override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = daemons_.find(pidfile);
    if (it != daemons_.end()) return it->second;
    if (why) *why = "not running";
    return 0;
  }
  Status Signal(const std::string& pidfile, const exec::DaemonIdentity&, int sig,
                std::chrono::milliseconds) const override {
    std::lock_guard<std::mutex> lock(mu_);
    signals_.emplace_back(pidfile, sig);
    if (sig == SIGTERM) daemons_.erase(pidfile);
    return {};
  }
  bool Accepting(const std::string& path) const override {
    std::lock_guard<std::mutex> lock(mu_);
    return sockets_.count(path) > 0;
  }

  uint32_t Random() const override {
    std::lock_guard<std::mutex> lock(mu_);
    random_ = random_ * 1664525u + 1013904223u;
    return random_;
  }

  // The test's side: what the machine holds, what ran on it.
  void Put(const std::string& path, const std::string& content, unsigned mode = 0644) {
    (void)WriteFile(path, content, mode);
  }
  std::map<std::string, File> files() const {
    std::lock_guard<std::mutex> lock(mu_);
    return files_;
  }
  void Run(const std::string& pidfile, int pid) {
    std::lock_guard<std::mutex> lock(mu_);
    daemons_[pidfile] = pid;
  }
  void Listen(const std::string& socket) {
    std::lock_guard<std::mutex> lock(mu_);
    sockets_.insert(socket);
  }
  std::vector<std::pair<std::string, int>> signals() const {
    std::lock_guard<std::mutex> lock(mu_);
    return signals_;
  }

  bool kernel_wireguard = false;

 private:
  // The names directly under `dir` (a directory is there while a file is under it).
  std::vector<std::string> Under(const std::string& dir) const {
    std::string prefix = dir + "/";
    std::set<std::string> names;
    for (auto it = files_.lower_bound(prefix); it != files_.end(); ++it) {
      if (it->first.compare(0, prefix.size(), prefix) != 0) break;
      std::string rest = it->first.substr(prefix.size());
      std::string name = rest.substr(0, rest.find('/'));
      if (!name.empty() && name[0] != '.') names.insert(name);
    }
    return {names.begin(), names.end()};
  }

  mutable std::mutex mu_;
  std::string system_;
  std::set<std::string> programs_;
  mutable std::map<std::string, File> files_;
  mutable std::map<std::string, int> daemons_;
  std::set<std::string> sockets_;
  mutable std::vector<std::pair<std::string, int>> signals_;
  mutable uint32_t random_ = 1;
};

}  // namespace vpcctl::testing
