// Persistent SSH sessions, as OpenSSH's ControlPersist: a keeper process on the controller holds
// one authenticated session per node and lends it to each command, which then costs the node a
// channel (no key exchange, no login, no new sshd) instead of a session.
//
// The keeper listens on a unix socket in the state directory (mode 0600 in a 0700 directory, and
// it answers only its own uid). A command's conversation on the socket is: `connect` (the
// endpoint, our identity and the host key pinned for the node: the keeper verifies the key it is
// presented against that pin before it logs in, and a reused session is proved alive with a fresh
// channel first), then any number of `run`s and `stream`s (Connection::Stream: a stream that
// cannot be opened leaves the session kept), then close, which returns the session to the pool.
// Sessions unused for `idle` are closed; the keeper exits once it has none and no conversation.
//
// Frames on the socket: a 4-byte big-endian length, then that many bytes (JSON for requests and
// answers; raw bytes for stdin, stdout and stderr).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/ssh/client.h"

namespace vpcctl::ssh {

// The socket of the keeper serving the state directory `state_dir`.
std::string KeeperSocket(const std::string& state_dir);

struct KeeperOptions {
  std::string socket;                        // KeeperSocket(state dir)
  std::chrono::milliseconds idle{60000};  // unused this long, a session ends; then the keeper
};

// One session the keeper holds, for `connections list`.
struct HeldSession {
  std::string endpoint;  // "root@192.0.2.1 port 22"
  bool busy = false;     // lent to a command now
  double idle_s = 0;     // since it was last returned
  double age_s = 0;
  int commands = 0;  // commands it has run
};

// Serves until idle. `backend` makes the real connections (LibsshClient; FakeClient in tests).
// Fails when another keeper already serves the socket.
Status ServeKeeper(Client& backend, const KeeperOptions& o);

// What the keeper serving `socket` holds; an error when none answers.
Result<std::vector<HeldSession>> KeeperSessions(const std::string& socket);
// Asks the keeper serving `socket` to close its sessions and exit; false when none was running.
Result<bool> StopKeeper(const std::string& socket);

// A Client that goes through the keeper for connections whose host key is pinned
// (ConnectSpec::pinned), starting it with `start` when none answers, and connects directly
// (`direct`) otherwise: when nothing is pinned (enrolment), or no keeper can be reached or started.
class KeeperClient : public Client {
 public:
  KeeperClient(Client& direct, std::string socket, std::function<Status()> start)
      : direct_(direct), socket_(std::move(socket)), start_(std::move(start)) {}
  Result<std::unique_ptr<Connection>> Connect(const ConnectSpec& spec) override;

 private:
  Client& direct_;
  std::string socket_;
  std::function<Status()> start_;
  std::mutex mu_;
  bool started_ = false;
  bool unavailable_ = false;  // a start was tried and no keeper answered
};

}  // namespace vpcctl::ssh
