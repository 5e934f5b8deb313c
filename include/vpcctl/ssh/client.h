// The SSH layer everything remote goes through: connect with a timeout, verify the host key before
// anything is sent, authenticate, run commands with stdin, captured output, exit status and a
// timeout. Abstract so unit tests use a fake
// (tests/unit/fake_client.h).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/ssh/command.h"
#include "vpcctl/ssh/known_hosts.h"

namespace vpcctl::ssh {

// Error kinds Connect reports (Error::kind).
inline constexpr const char* kErrConnect = "connect";
inline constexpr const char* kErrHostKey = "hostkey";
inline constexpr const char* kErrAuth = "auth";

struct Endpoint {
  std::string host;
  int port = 22;
  std::string user = "root";
  std::string Describe() const;  // "root@192.0.2.1 port 22"
};

// What a remote command answered. Its output is cut at kMaxStdout and kMaxStderr
// (base/output_cap.h): past a cap the command is signalled, the channel closed without reading the
// rest, and `overflow` set; callers report it as the command's failure (OverflowMessage).
struct RemoteResult {
  int exit_status = -1;
  std::string out;
  std::string err;
  bool timed_out = false;
  double ms = 0;  // wall time of the command
  bool overflow = false;
  bool ok() const { return exit_status == 0 && !timed_out && !overflow; }
};

// Decides whether to trust the host key the server presented; called after key exchange and before
// anything is sent. An error aborts the connection.
using HostKeyCheck = std::function<Status(const HostKey& presented)>;
// Supplies a password when key authentication fails; nullopt when none is available.
using PasswordSource = std::function<Result<std::optional<std::string>>()>;

struct ConnectSpec {
  Endpoint endpoint;
  std::chrono::milliseconds timeout{5000};
  HostKeyCheck check_host_key;
  std::vector<std::string> identities;  // private key files, tried in order
  PasswordSource password;              // may be empty
  // The key pinned for the host, when check_host_key accepts exactly it: what lets a KeeperClient
  // (ssh/keeper.h) lend a kept session, verified against the same pin.
  std::optional<HostKey> pinned;
};

class Connection {
 public:
  virtual ~Connection() = default;
  // Runs the command with `input` on its stdin. Everything, sending the input included, ends by
  // `timeout`: a remote that stops reading its input is an error ("no progress sending input"),
  // one that does not finish in time a result with timed_out.
  virtual Result<RemoteResult> Run(const RemoteCommand& cmd, bool sudo, const std::string& input,
                                   std::chrono::milliseconds timeout) = 0;
  // Opens a stream to the unix socket `path` on the remote (OpenSSH's direct-streamlocal: the
  // session's sshd connects itself, no process is started), writes `input`, and reads what the
  // other end sends until it closes: `out` holds it, `exit_status` stays -1. An error when the
  // channel cannot be opened (nothing listens there, or the server forbids forwarding).
  virtual Result<RemoteResult> Stream(const std::string& path, const std::string& input,
                                      std::chrono::milliseconds timeout) {
    (void)path, (void)input, (void)timeout;
    return Failure("this connection cannot open streams");
  }
  // How authentication succeeded: "key FILE" or "password".
  virtual std::string auth_method() const = 0;
  // Milliseconds the connection took (TCP, key exchange, authentication).
  virtual double connect_ms() const = 0;
  // Whether the session still answers: a channel opened and closed within `timeout`.
  virtual bool Alive(std::chrono::milliseconds timeout) = 0;
};

class Client {
 public:
  virtual ~Client() = default;
  // Errors carry kind kErrConnect, kErrHostKey or kErrAuth.
  virtual Result<std::unique_ptr<Connection>> Connect(const ConnectSpec& spec) = 0;
};

// libssh. Reads no ~/.ssh/config and no system known_hosts: host keys are verified only by
// ConnectSpec::check_host_key.
class LibsshClient : public Client {
 public:
  LibsshClient();
  Result<std::unique_ptr<Connection>> Connect(const ConnectSpec& spec) override;
};

}  // namespace vpcctl::ssh
