// The machine vpcctl runs on, as a port (in the manner of ninja's DiskInterface): which system it
// is, where this program is, which programs it has, its files and directories, its daemons and
// their signals, and its randomness. Operations reach the machine only through their Context, so a
// unit test runs a FreeBSD node's apply on Linux against a fake machine (tests/unit/fake_host.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/exec/pidfile.h"

namespace vpcctl::exec {

// What a path is.
struct FileInfo {
  bool exists = false;
  bool directory = false;
  bool regular = false;
  bool executable = false;  // by this process
  unsigned uid = 0;
  unsigned mode = 0;  // permission bits
  uint64_t size = 0;
};

class Host {
 public:
  virtual ~Host() = default;

  // Identity. uname's system name: "Linux", "FreeBSD".
  virtual std::string SystemName() const = 0;
  // This program's own path (what the node's plans run again: vipd, devd's vip-event).
  virtual std::string SelfPath() const = 0;
  // `program`'s path in PATH, or empty when it is not installed.
  virtual std::string FindProgram(const std::string& program) const = 0;
  // Linux: WireGuard is in the kernel (built in or loaded), or its module is installed.
  virtual bool KernelHasWireguard() const = 0;

  // Files and directories.
  virtual Result<std::string> ReadFile(const std::string& path) const = 0;
  // Replaces `path` whole (a temporary file renamed over it), with `mode`.
  virtual Status WriteFile(const std::string& path, const std::string& data,
                           unsigned mode) const = 0;
  // Adds `data` at the end of `path`, made with `mode` when missing.
  virtual Status AppendFile(const std::string& path, const std::string& data,
                            unsigned mode) const = 0;
  // Writes into a file that exists and is not to be replaced (a kernel setting under /sys).
  virtual Status WriteInPlace(const std::string& path, const std::string& data) const = 0;
  // Removes `path`; one that is already gone is no error.
  virtual Status RemoveFile(const std::string& path) const = 0;
  virtual FileInfo Stat(const std::string& path) const = 0;
  // The names in `dir`, those starting with '.' left out; none when it cannot be read.
  virtual std::vector<std::string> ListDir(const std::string& dir) const = 0;

  // Daemons. The pid in `pidfile` when it is alive and is `who` (else 0, with why not).
  virtual int DaemonPid(const std::string& pidfile, const DaemonIdentity& who,
                        std::string* why = nullptr) const = 0;
  // Sends `sig` to the daemon in `pidfile`, as exec::SignalPidfile does.
  virtual Status Signal(const std::string& pidfile, const DaemonIdentity& who, int sig,
                        std::chrono::milliseconds wait_exit = {}) const = 0;
  // A process accepts connections on the unix socket at `path`.
  virtual bool Accepting(const std::string& path) const = 0;

  // Randomness for identifiers and secrets (std::random_device here).
  virtual uint32_t Random() const = 0;
};

// This machine.
const Host& SystemHost();

}  // namespace vpcctl::exec
