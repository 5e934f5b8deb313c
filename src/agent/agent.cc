#include "vpcctl/agent/agent.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "vpcctl/agent/listing_cache.h"
#include "vpcctl/agent/netlink_listings.h"
#include "vpcctl/agent/protocol.h"
#include "vpcctl/base/text.h"
#include "vpcctl/exec/fd.h"
#include "vpcctl/fabric/apply.h"
#include "vpcctl/fabric/init.h"
#include "vpcctl/fabric/status_local.h"
#include "vpcctl/model/map.h"
#include "vpcctl/model/names.h"
#include "vpcctl/platform/driver.h"
#include "vpcctl/platform/linux.h"

namespace vpcctl::agent {

using json = nlohmann::json;
using exec::Fd;

namespace {

constexpr size_t kMaxRequest = 4096;
constexpr size_t kMaxInput = 64u << 20;  // a map
// A listing is read again after this long plus a random part of the spread (each at its own time),
// whatever the kernel reported.
constexpr std::chrono::seconds kMaxListingAge{30}, kListingAgeSpread{30};
// How long a caller may take to send its request, and to take the answer.
constexpr int kRequestSeconds = 5;
constexpr int kAnswerSeconds = 30;

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

void SetTimeouts(int fd, int seconds) {
  timeval tv{seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

Result<Fd> Listen(const std::string& path) {
  sockaddr_un sa{};
  if (path.size() >= sizeof sa.sun_path) return Failure("agent: socket path too long: " + path);
  unlink(path.c_str());
  Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return Failure(std::string("agent: socket: ") + std::strerror(errno));
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  mode_t old = umask(077);
  int bound = bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  umask(old);
  if (bound != 0 || chmod(path.c_str(), 0600) != 0 || listen(fd.get(), 64) != 0) {
    return Failure("agent: cannot listen on " + path + ": " + std::strerror(errno));
  }
  return fd;
}

// One request: its JSON line (without the newline, at most kMaxRequest bytes) and, for an
// `apply`, what follows it until the caller's end of input (at most kMaxInput bytes).
struct Request {
  json header;
  std::string input;
};

std::optional<Request> ReadRequest(int fd) {
  std::string data;
  char buf[16384];
  size_t nl = std::string::npos;
  while (nl == std::string::npos && data.size() <= kMaxRequest) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    data.append(buf, static_cast<size_t>(n));
    nl = data.find('\n');
  }
  if (nl == std::string::npos || nl > kMaxRequest) return std::nullopt;
  Request r;
  r.header = json::parse(data.substr(0, nl), nullptr, false);
  r.input = data.substr(nl + 1);
  if (!r.header.is_object() || r.header.value("op", "") != "apply") return r;
  while (r.input.size() <= kMaxInput) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) return r;
    r.input.append(buf, static_cast<size_t>(n));
  }
  return std::nullopt;
}

void WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// The file the agent runs, as it was when it started: a different one there means an upgrade.
struct Executable {
  std::string path;
  dev_t dev = 0;
  ino_t ino = 0;
  bool Same() const {
    struct stat st {};
    return stat(path.c_str(), &st) == 0 && st.st_dev == dev && st.st_ino == ino;
  }
};

Executable ThisExecutable(const fabric::Context& ctx) {
  Executable e;
  e.path = ctx.Machine().SelfPath();
  struct stat st {};
  if (stat(e.path.c_str(), &st) == 0) {
    e.dev = st.st_dev;
    e.ino = st.st_ino;
  }
  return e;
}

// The listings a status reads that the kernel's notifications cover.
std::set<exec::Argv> Cacheable(model::Platform p) {
  const platform::Driver& driver = platform::DriverFor(p);
  std::set<exec::Argv> out;
  for (const auto& argv : driver.ProbeCommands()) out.insert(argv);
  for (const auto& argv : driver.FirewallProbe()) out.insert(argv);
  if (p == model::Platform::kLinux) out.insert(platform::LinuxNeighbourProbe());
  return out;
}

// Runs `command` in this process, as a command line would: its output, and its exit code and
// error as main prints them.
json RunHere(fabric::Context& ctx, exec::Runner& runner, const std::string& what,
             const std::string& input,
             const std::function<vpcctl::Status(fabric::Context&)>& command) {
  std::istringstream in(input);
  std::ostringstream out, err;
  fabric::Output io{in, out, err, false, false};
  fabric::Context c{
      ctx.paths,  runner,    ctx.ssh, ctx.term, io, ctx.prober, "vpcctl agent: " + what,
      ctx.faults, ctx.clock, ctx.host};
  int exit_code = 0;
  try {
    vpcctl::Status st = command(c);
    if (!st.ok()) {
      exit_code = static_cast<int>(st.error().code);
      for (const auto& line : Split(st.error().message, '\n'))
        err << "vpcctl: error: " << line << "\n";
    }
  } catch (const std::exception& e) {
    exit_code = static_cast<int>(Exit::kFailure);
    err << "vpcctl: error: internal error: " << e.what() << "\n";
  }
  return {{"exit", exit_code}, {"out", out.str()}, {"err", err.str()}};
}

// Whether `node` is a member of a VPC in the map `text`: an agent applies only such a map (one
// that leaves the node no VPC stops the agent itself, which is for the command to do).
bool KeepsAVpc(const std::string& text, const std::string& node) {
  auto map = model::ParseMap(text);
  if (!map) return true;  // the import refuses it, naming why
  for (const auto& v : map->fabric.vpcs) {
    for (const auto& m : v.members) {
      if (m.node == node) return true;
    }
  }
  return false;
}

std::optional<std::string> StringField(const json& j, const char* key) {
  if (!j.contains(key)) return std::string();
  if (!j[key].is_string()) return std::nullopt;
  return j[key].get<std::string>();
}

json Answer(fabric::Context& ctx, exec::Runner& runner, const Request& req) {
  const json& h = req.header;
  if (!h.is_object() || !h.contains("op") || !h["op"].is_string()) {
    return {{"error", "bad request"}};
  }
  std::string op = h["op"].get<std::string>();
  if (op == "status") {
    auto vpc = StringField(h, "vpc");
    if (!vpc) return {{"error", "bad request: vpc is not a string"}};
    return RunHere(ctx, runner, "status", "", [&](fabric::Context& c) {
      return fabric::StatusLocal(c, fabric::StatusLocalOptions{*vpc, true});
    });
  }
  if (op == "apply") {
    auto node = StringField(h, "node");
    auto at = StringField(h, "switch_keys_at");
    if (!node || !at || node->empty()) return {{"error", "bad request: node or switch_keys_at"}};
    if (!KeepsAVpc(req.input, *node)) return {{"error", "this map leaves the node no VPC"}};
    fabric::ApplyOptions o;
    o.import = true;
    o.json = true;
    o.node = *node;
    o.switch_keys_at = *at;
    return RunHere(ctx, runner, "apply", req.input,
                   [&](fabric::Context& c) { return fabric::Apply(c, o); });
  }
  return {{"error", "unknown op " + Quoted(op)}};
}

// Daemons an apply here started are this process's children: the dead ones are reaped between
// requests (none of a request's own commands is running then).
void ReapChildren() {
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

}  // namespace

Status RunAgent(fabric::Context& ctx) {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  VPC_ASSIGN_OR_RETURN(model::Platform platform, fabric::LocalPlatform(ctx));
  std::string path = SocketPath(ctx.paths.dir);
  // One agent per state directory: the lock is held for its life.
  std::string lock_path = path + ".lock";
  Fd lock(open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (lock.get() < 0 || flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    return Failure("agent: another agent serves " + ctx.paths.dir);
  }
  Executable self = ThisExecutable(ctx);
  auto feed = KernelChangeFeed();
  // The interface listings from rtnetlink in this process, once they are seen to say what `ip`
  // says on this node; `ip` otherwise.
  NetlinkListings native(ctx.runner);
  exec::Runner* listings = &ctx.runner;
  if (platform == model::Platform::kLinux) {
    Status checked = CheckNetlinkListings(ctx.runner);
    // A change between the two readings differs too: asked again before giving up on them.
    for (int again = 0; again < 2 && !checked.ok(); ++again) {
      checked = CheckNetlinkListings(ctx.runner);
    }
    if (checked.ok()) {
      listings = &native;
      ctx.io.Info("agent: interface listings read from rtnetlink (checked against ip)");
    } else {
      ctx.io.Info("agent: interface listings read by ip: " + checked.error().message);
    }
  }
  ListingCache cache(*listings, *feed, Cacheable(platform), ctx.Time(), kMaxListingAge,
                     kListingAgeSpread);
  VPC_ASSIGN_OR_RETURN(Fd listener, Listen(path));
  ctx.io.Info("agent: serving " + path);
  bool restart = false;
  while (!g_stop && !restart) {
    pollfd p{listener.get(), POLLIN, 0};
    if (poll(&p, 1, 500) <= 0) continue;
    Fd conn(accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (conn.get() < 0) continue;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(conn.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        cred.uid != geteuid()) {
      continue;  // only our own user (the socket's mode says so too)
    }
    SetTimeouts(conn.get(), kRequestSeconds);
    auto req = ReadRequest(conn.get());
    if (!req) continue;
    json answer;
    if (!self.Same()) {
      restart = true;
      answer = {{"restart", true}};
      ctx.io.Info("agent: " + self.path +
                  " was replaced: exiting for the next apply to restart it");
    } else {
      answer = Answer(ctx, cache, *req);
    }
    SetTimeouts(conn.get(), kAnswerSeconds);
    WriteAll(conn.get(), answer.dump() + "\n");
    ReapChildren();
  }
  unlink(path.c_str());
  return {};
}

}  // namespace vpcctl::agent
