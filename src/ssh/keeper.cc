#include "vpcctl/ssh/keeper.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "vpcctl/exec/fd.h"
#include "vpcctl/ssh/command.h"
#include "vpcctl/ssh/known_hosts.h"

namespace vpcctl::ssh {

namespace {

using Clock = std::chrono::steady_clock;
using exec::Fd;
using nlohmann::json;

constexpr uint32_t kMaxFrame = 64u << 20;
// How long a keeper waits for a command's next request before it takes the session back.
constexpr std::chrono::hours kConversationIdle{24};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Waits until `fd` is ready for `events` or the deadline passes.
Status Wait(int fd, short events, Clock::time_point deadline) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Failure("timed out");
    pollfd p{fd, events, 0};
    int n = poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (n > 0) return {};
    if (n < 0 && errno != EINTR) return Failure(std::string("poll: ") + std::strerror(errno));
  }
}

Status WriteAll(int fd, std::string_view data, Clock::time_point deadline) {
  size_t done = 0;
  while (done < data.size()) {
    VPC_TRY(Wait(fd, POLLOUT, deadline));
    ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return Failure(std::string("send: ") + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return {};
}

// Reads exactly `n` bytes; "closed" when the peer closed before the first byte.
Status ReadAll(int fd, char* out, size_t n, Clock::time_point deadline) {
  size_t done = 0;
  while (done < n) {
    VPC_TRY(Wait(fd, POLLIN, deadline));
    ssize_t got = recv(fd, out + done, n - done, MSG_DONTWAIT);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got == 0) return Failure(done == 0 ? "closed" : "closed mid-frame");
    if (got < 0) return Failure(std::string("recv: ") + std::strerror(errno));
    done += static_cast<size_t>(got);
  }
  return {};
}

Status SendFrame(int fd, std::string_view data, Clock::time_point deadline) {
  uint32_t n = static_cast<uint32_t>(data.size());
  char head[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                  static_cast<char>(n)};
  VPC_TRY(WriteAll(fd, std::string_view(head, 4), deadline));
  return WriteAll(fd, data, deadline);
}

Result<std::string> RecvFrame(int fd, Clock::time_point deadline) {
  unsigned char head[4];
  VPC_TRY(ReadAll(fd, reinterpret_cast<char*>(head), 4, deadline));
  uint32_t n = (uint32_t{head[0]} << 24) | (uint32_t{head[1]} << 16) | (uint32_t{head[2]} << 8) |
               uint32_t{head[3]};
  if (n > kMaxFrame) return Failure("frame of " + std::to_string(n) + " bytes is too large");
  std::string data(n, '\0');
  if (n > 0) VPC_TRY(ReadAll(fd, data.data(), n, deadline));
  return data;
}

Status SendJson(int fd, const json& j, Clock::time_point deadline) {
  return SendFrame(fd, j.dump(), deadline);
}

Result<json> RecvJson(int fd, Clock::time_point deadline) {
  VPC_ASSIGN_OR_RETURN(std::string text, RecvFrame(fd, deadline));
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Failure("a message that is not a JSON object");
  return j;
}

Result<Fd> Dial(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) return Failure("socket path too long: " + path);
  Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return Failure(std::string("socket: ") + std::strerror(errno));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Failure("no keeper at " + path + ": " + std::strerror(errno));
  }
  return fd;
}

std::string SpecKey(const json& req) {
  return req.value("user", "") + "@" + req.value("host", "") + ":" +
         std::to_string(req.value("port", 0)) + " " + req.value("pinned", "") + " " +
         req.value("identities", json::array()).dump();
}

class Keeper {
 public:
  Keeper(Client& backend, const KeeperOptions& o) : backend_(backend), o_(o) {}

  Status Serve();

 private:
  struct Held {
    std::unique_ptr<Connection> conn;
    std::string key, endpoint;
    Clock::time_point born, returned;
    int commands = 0;
  };
  struct Lent {
    std::string endpoint;
    Clock::time_point born;
    int commands = 0;
  };

  void Converse(Fd fd);
  void Connected(int fd, const json& req);
  // A session for `req`: a kept one proved alive first, else a new connection (`reused` says
  // which). When none can be had, replies why itself and returns false.
  bool Obtain(int fd, const json& req, Held& held, bool& reused);
  // Runs one `run` request on the lent session `id` and replies; false when the session is no
  // longer fit to keep (or the command is gone).
  bool RunOne(int fd, const json& run, Held& held, int id);
  json Listing();
  // Closes sessions idle longer than o_.idle; true when the keeper should exit.
  bool Tend();

  Client& backend_;
  KeeperOptions o_;
  std::mutex mu_;
  std::multimap<std::string, Held> idle_;
  std::map<int, Lent> lent_;  // by conversation number
  int next_id_ = 0;
  std::atomic<int> active_{0};
  std::atomic<bool> stop_{false};
  Clock::time_point last_ = Clock::now();
};

json Keeper::Listing() {
  std::lock_guard<std::mutex> lock(mu_);
  auto now = Clock::now();
  json out = json::array();
  for (const auto& [key, h] : idle_) {
    out.push_back({{"endpoint", h.endpoint},
                   {"busy", false},
                   {"idle_s", Seconds(now - h.returned)},
                   {"age_s", Seconds(now - h.born)},
                   {"commands", h.commands}});
  }
  for (const auto& [id, l] : lent_) {
    out.push_back({{"endpoint", l.endpoint},
                   {"busy", true},
                   {"idle_s", 0.0},
                   {"age_s", Seconds(now - l.born)},
                   {"commands", l.commands}});
  }
  return out;
}

bool Keeper::Tend() {
  std::vector<std::unique_ptr<Connection>> expired;
  bool done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto now = Clock::now();
    for (auto it = idle_.begin(); it != idle_.end();) {
      if (stop_ || now - it->second.returned >= o_.idle) {
        expired.push_back(std::move(it->second.conn));
        it = idle_.erase(it);
      } else {
        ++it;
      }
    }
    done = stop_ || (active_ == 0 && idle_.empty() && now - last_ >= o_.idle);
  }
  return done;  // `expired` disconnects here, outside the lock
}

void Keeper::Converse(Fd fd) {
  auto req = RecvJson(fd.get(), Clock::now() + std::chrono::seconds(10));
  if (req) {
    std::string op = req->value("op", "");
    if (op == "list") {
      (void)SendJson(fd.get(), {{"ok", true}, {"sessions", Listing()}},
                     Clock::now() + std::chrono::seconds(10));
    } else if (op == "stop") {
      stop_ = true;
      (void)SendJson(fd.get(), {{"ok", true}}, Clock::now() + std::chrono::seconds(10));
    } else if (op == "connect") {
      Connected(fd.get(), *req);
    } else {
      (void)SendJson(fd.get(), {{"ok", false}, {"message", "unknown request " + op}},
                     Clock::now() + std::chrono::seconds(10));
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  last_ = Clock::now();
  --active_;
}

bool Keeper::Obtain(int fd, const json& req, Held& held, bool& reused) {
  std::string key = SpecKey(req);
  auto timeout = std::chrono::milliseconds(req.value("timeout_ms", 5000));
  reused = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = idle_.find(key); it != idle_.end()) {
      held = std::move(it->second);
      idle_.erase(it);
      reused = true;
    }
  }
  // A kept session is proved alive before it is lent: a node that rebooted or went away since
  // gets a fresh connection (which says why it cannot be reached). Half the connect timeout for
  // the proof: an unreachable node fails within 1.5 times it.
  if (reused && !held.conn->Alive(timeout / 2)) {
    held = Held{};
    reused = false;
  }
  if (!reused) {
    ConnectSpec spec;
    spec.endpoint = Endpoint{req.value("host", ""), req.value("port", 22), req.value("user", "")};
    spec.timeout = timeout;
    spec.identities = req.value("identities", std::vector<std::string>{});
    auto pinned = ParseHostKey(req.value("pinned", ""));
    std::optional<HostKey> presented;
    spec.check_host_key = [&](const HostKey& k) -> Status {
      presented = k;
      if (pinned && k == *pinned) return {};
      return Failure("the host key presented is not the one pinned");
    };
    auto c = backend_.Connect(spec);
    if (!c) {
      json no = {{"ok", false}, {"kind", c.error().kind}, {"message", c.error().message}};
      if (presented) no["presented"] = presented->Line();
      (void)SendJson(fd, no, Clock::now() + timeout + std::chrono::seconds(5));
      return false;
    }
    held.conn = std::move(*c);
    held.key = key;
    held.endpoint = spec.endpoint.Describe();
    held.born = Clock::now();
  }
  return true;
}

bool Keeper::RunOne(int fd, const json& run, Held& held, int id) {
  auto input = RecvFrame(fd, Clock::now() + std::chrono::seconds(60));
  auto limit = std::chrono::milliseconds(run.value("timeout_ms", 60000));
  std::string op = run.value("op", "");
  std::string path = run.value("path", "");
  auto cmd = RemoteCommand::Make(run.value("argv", std::vector<std::string>{}));
  if (!input || (op == "run" && !cmd) || (op == "stream" && path.empty()) ||
      (op != "run" && op != "stream")) {
    (void)SendJson(fd, {{"ok", false}, {"message", "a bad run request"}},
                   Clock::now() + std::chrono::seconds(10));
    return false;
  }
  auto r = op == "stream" ? held.conn->Stream(path, *input, limit)
                          : held.conn->Run(*cmd, run.value("sudo", false), *input, limit);
  held.commands++;
  {
    std::lock_guard<std::mutex> lock(mu_);
    lent_[id].commands = held.commands;
  }
  auto by = Clock::now() + std::chrono::seconds(30);
  if (!r && op == "stream") {
    // Nothing listens there (or forwarding is refused): the session itself is fine.
    return SendJson(fd, {{"ok", false}, {"message", r.error().message}}, by).ok();
  }
  if (!r) {
    // The session failed under the command: it is not kept.
    (void)SendJson(fd, {{"ok", false}, {"message", r.error().message}}, by);
    return false;
  }
  bool healthy = SendJson(fd,
                          {{"ok", true},
                           {"exit_status", r->exit_status},
                           {"timed_out", r->timed_out},
                           {"overflow", r->overflow},
                           {"ms", r->ms}},
                          by)
                     .ok() &&
                 SendFrame(fd, r->out, by).ok() && SendFrame(fd, r->err, by).ok();
  // A command that timed out or overflowed leaves its channel in an unknown state.
  return healthy && !r->timed_out && !r->overflow;
}

// One command's use of a session: lent on `connect`, returned when the command closes.
void Keeper::Connected(int fd, const json& req) {
  auto timeout = std::chrono::milliseconds(req.value("timeout_ms", 5000));
  auto reply_by = [&] { return Clock::now() + timeout + std::chrono::seconds(5); };
  Held held;
  bool reused = false;
  if (!Obtain(fd, req, held, reused)) return;
  int id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = next_id_++;
    lent_[id] = Lent{held.endpoint, held.born, held.commands};
  }
  bool healthy = SendJson(fd,
                          {{"ok", true},
                           {"auth", held.conn->auth_method()},
                           {"connect_ms", reused ? 0.0 : held.conn->connect_ms()},
                           {"reused", reused}},
                          reply_by())
                     .ok();
  auto idle_until = Clock::now() + kConversationIdle;
  while (healthy) {
    // The next request, or the end: the command closed, stayed silent too long, or the keeper is
    // stopping (a session still lent then is not kept).
    while (!stop_ && Clock::now() < idle_until &&
           !Wait(fd, POLLIN, std::min(idle_until, Clock::now() + std::chrono::seconds(1))).ok()) {
    }
    if (stop_) break;
    auto run = RecvJson(fd, Clock::now() + std::chrono::seconds(60));
    if (!run) break;  // the command went away without saying it was done
    if (run->value("op", "") == "done") {
      // Back in the pool before the command hears so: its next command finds it there.
      {
        std::lock_guard<std::mutex> lock(mu_);
        lent_.erase(id);
        if (!stop_) {
          held.returned = Clock::now();
          idle_.emplace(held.key, std::move(held));
        }
      }
      (void)SendJson(fd, {{"ok", true}}, Clock::now() + std::chrono::seconds(5));
      return;
    }
    idle_until = Clock::now() + kConversationIdle;
    healthy = RunOne(fd, *run, held, id);
  }
  std::lock_guard<std::mutex> lock(mu_);
  lent_.erase(id);
  if (healthy && !stop_) {
    held.returned = Clock::now();
    idle_.emplace(held.key, std::move(held));
  }
}

Status Keeper::Serve() {
  // One keeper per socket: the lock is held for the keeper's life.
  std::string lock_path = o_.socket + ".lock";
  Fd lock(open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (lock.get() < 0) return Failure("cannot open " + lock_path + ": " + std::strerror(errno));
  if (flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    return Failure("a keeper already serves " + o_.socket);
  }
  sockaddr_un addr{};
  if (o_.socket.size() >= sizeof addr.sun_path)
    return Failure("socket path too long: " + o_.socket);
  unlink(o_.socket.c_str());
  Fd listener(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (listener.get() < 0) return Failure(std::string("socket: ") + std::strerror(errno));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, o_.socket.c_str(), o_.socket.size() + 1);
  mode_t old = umask(077);
  int bound = bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  umask(old);
  if (bound != 0 || chmod(o_.socket.c_str(), 0600) != 0 || listen(listener.get(), 128) != 0) {
    return Failure("cannot listen on " + o_.socket + ": " + std::strerror(errno));
  }
  while (!Tend()) {
    pollfd p{listener.get(), POLLIN, 0};
    if (poll(&p, 1, 250) <= 0) continue;
    Fd conn(accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (conn.get() < 0) continue;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(conn.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        cred.uid != geteuid()) {
      continue;  // only our own user may use our sessions
    }
    {
      std::lock_guard<std::mutex> guard(mu_);
      ++active_;
      last_ = Clock::now();
    }
    std::thread([this, c = std::move(conn)]() mutable { Converse(std::move(c)); }).detach();
  }
  unlink(o_.socket.c_str());
  listener = Fd();
  // Conversations still open end when their commands close them; their sessions are not kept.
  while (active_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::lock_guard<std::mutex> guard(mu_);
  idle_.clear();
  return {};
}

// A command's side of a conversation: a session lent by the keeper.
class KeeperConnection : public Connection {
 public:
  KeeperConnection(Fd fd, std::string where, std::string auth, double connect_ms)
      : fd_(std::move(fd)), where_(std::move(where)), auth_(std::move(auth)), ms_(connect_ms) {}
  // Gives the session back and waits until the keeper has it (a command that follows at once
  // finds it in the pool).
  ~KeeperConnection() override {
    auto by = Clock::now() + std::chrono::seconds(2);
    if (SendJson(fd_.get(), {{"op", "done"}}, by).ok()) (void)RecvJson(fd_.get(), by);
  }
  std::string auth_method() const override { return auth_; }
  double connect_ms() const override { return ms_; }
  bool Alive(std::chrono::milliseconds) override { return fd_.get() >= 0; }

  Result<RemoteResult> Run(const RemoteCommand& cmd, bool sudo, const std::string& input,
                           std::chrono::milliseconds timeout) override {
    return Ask({{"op", "run"}, {"argv", cmd.argv()}, {"sudo", sudo}}, input, timeout);
  }

  Result<RemoteResult> Stream(const std::string& path, const std::string& input,
                              std::chrono::milliseconds timeout) override {
    return Ask({{"op", "stream"}, {"path", path}}, input, timeout);
  }

 private:
  // One `run` or `stream` on the lent session: the request, the input, then the answer and its
  // output.
  Result<RemoteResult> Ask(json req, const std::string& input, std::chrono::milliseconds timeout) {
    auto lost = [&](const Error& e) {
      return Failure(where_ + ": the session keeper stopped answering (" + e.message + ")");
    };
    auto by = Clock::now() + timeout + std::chrono::seconds(30);
    req["timeout_ms"] = timeout.count();
    if (auto st = SendJson(fd_.get(), req, by); !st.ok()) return lost(st.error());
    if (auto st = SendFrame(fd_.get(), input, by); !st.ok()) return lost(st.error());
    auto answer = RecvJson(fd_.get(), by);
    if (!answer) return lost(answer.error());
    if (!answer->value("ok", false)) return Failure(answer->value("message", "failed"));
    RemoteResult r;
    r.exit_status = answer->value("exit_status", -1);
    r.timed_out = answer->value("timed_out", false);
    r.overflow = answer->value("overflow", false);
    r.ms = answer->value("ms", 0.0);
    auto out = RecvFrame(fd_.get(), by);
    if (!out) return lost(out.error());
    auto err = RecvFrame(fd_.get(), by);
    if (!err) return lost(err.error());
    r.out = std::move(*out);
    r.err = std::move(*err);
    return r;
  }

  Fd fd_;
  std::string where_;
  std::string auth_;
  double ms_;
};

Result<json> Ask(const std::string& socket, const json& req) {
  VPC_ASSIGN_OR_RETURN(Fd fd, Dial(socket));
  auto by = Clock::now() + std::chrono::seconds(10);
  VPC_TRY(SendJson(fd.get(), req, by));
  return RecvJson(fd.get(), by);
}

}  // namespace

std::string KeeperSocket(const std::string& state_dir) { return state_dir + "/keeper.sock"; }

Status ServeKeeper(Client& backend, const KeeperOptions& o) {
  Keeper k(backend, o);
  return k.Serve();
}

Result<std::vector<HeldSession>> KeeperSessions(const std::string& socket) {
  VPC_ASSIGN_OR_RETURN(json answer, Ask(socket, {{"op", "list"}}));
  std::vector<HeldSession> out;
  for (const auto& s : answer.value("sessions", json::array())) {
    out.push_back({s.value("endpoint", ""), s.value("busy", false), s.value("idle_s", 0.0),
                   s.value("age_s", 0.0), s.value("commands", 0)});
  }
  return out;
}

Result<bool> StopKeeper(const std::string& socket) {
  auto fd = Dial(socket);
  if (!fd) return false;
  auto by = Clock::now() + std::chrono::seconds(10);
  VPC_TRY(SendJson(fd->get(), {{"op", "stop"}}, by));
  VPC_TRY(RecvJson(fd->get(), by));
  // The keeper holds its lock until it is done (sessions closed, socket removed).
  std::string lock_path = socket + ".lock";
  Fd lock(open(lock_path.c_str(), O_RDWR | O_CLOEXEC));
  while (lock.get() >= 0 && Clock::now() < by && flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

Result<std::unique_ptr<Connection>> KeeperClient::Connect(const ConnectSpec& spec) {
  if (!spec.pinned || spec.password) return direct_.Connect(spec);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (unavailable_) return direct_.Connect(spec);
  }
  auto fd = Dial(socket_);
  if (!fd) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!started_) {
        started_ = true;
        (void)start_();
      }
    }
    auto until = Clock::now() + std::chrono::seconds(3);
    while (!fd && Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      fd = Dial(socket_);
    }
    if (!fd) {
      // No keeper came up: this command makes its own sessions, without waiting again.
      std::lock_guard<std::mutex> lock(mu_);
      unavailable_ = true;
      return direct_.Connect(spec);
    }
  }
  json req = {{"op", "connect"},
              {"host", spec.endpoint.host},
              {"port", spec.endpoint.port},
              {"user", spec.endpoint.user},
              {"pinned", spec.pinned->Line()},
              {"identities", spec.identities},
              {"timeout_ms", spec.timeout.count()}};
  // The keeper may prove a kept session dead (half a timeout) and then connect anew.
  auto by = Clock::now() + 2 * spec.timeout + std::chrono::seconds(5);
  std::string where = spec.endpoint.Describe();
  Status sent = SendJson(fd->get(), req, by);
  auto answer = sent.ok() ? RecvJson(fd->get(), by) : Result<json>(sent.take_error());
  if (!answer) {
    return Error{where + ": the session keeper did not answer (" + answer.error().message + ")",
                 Exit::kFailure, kErrConnect};
  }
  if (!answer->value("ok", false)) {
    Error e{answer->value("message", "failed"), Exit::kFailure, answer->value("kind", kErrConnect)};
    // A key that is not the pinned one: the caller's own check says so, in its words.
    if (e.kind == kErrHostKey && answer->contains("presented") && spec.check_host_key) {
      auto presented = ParseHostKey((*answer)["presented"].get<std::string>());
      if (presented) {
        Status st = spec.check_host_key(*presented);
        if (!st.ok()) e.message = st.error().message;
      }
    }
    return e;
  }
  return std::unique_ptr<Connection>(new KeeperConnection(
      std::move(*fd), where, answer->value("auth", ""), answer->value("connect_ms", 0.0)));
}

}  // namespace vpcctl::ssh
