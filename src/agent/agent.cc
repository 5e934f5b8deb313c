#include "vpcctl/agent/agent.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "vpcctl/agent/listing_cache.h"
#include "vpcctl/agent/protocol.h"
#include "vpcctl/base/text.h"
#include "vpcctl/fabric/init.h"
#include "vpcctl/fabric/status_local.h"
#include "vpcctl/model/names.h"
#include "vpcctl/platform/driver.h"
#include "vpcctl/platform/linux.h"

namespace vpcctl::agent {

using json = nlohmann::json;

namespace {

constexpr size_t kMaxRequest = 4096;
// A listing is read again at least this often, whatever the kernel reported.
constexpr std::chrono::seconds kMaxListingAge{30};
// How long a caller may take to send its request, and to take the answer.
constexpr int kRequestSeconds = 5;
constexpr int kAnswerSeconds = 30;

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

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

// Reads one request line (without its newline), at most kMaxRequest bytes.
std::optional<std::string> ReadRequest(int fd) {
  std::string req;
  char buf[1024];
  while (req.size() <= kMaxRequest) {
    if (auto nl = req.find('\n'); nl != std::string::npos) return req.substr(0, nl);
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    req.append(buf, static_cast<size_t>(n));
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

// `status --local --json [--vpc NAME]`, run in this process on the cached listings.
json StatusAnswer(fabric::Context& ctx, exec::Runner& runner, const std::string& vpc) {
  std::istringstream in;
  std::ostringstream out, err;
  fabric::Output io{in, out, err, false, false};
  fabric::Context c{
      ctx.paths,  runner,    ctx.ssh, ctx.term, io, ctx.prober, "vpcctl agent: status",
      ctx.faults, ctx.clock, ctx.host};
  int exit_code = 0;
  try {
    vpcctl::Status st = fabric::StatusLocal(c, fabric::StatusLocalOptions{vpc, true});
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

json Answer(fabric::Context& ctx, exec::Runner& runner, const std::string& line) {
  auto req = json::parse(line, nullptr, false);
  if (req.is_discarded() || !req.is_object() || !req.contains("op") || !req["op"].is_string()) {
    return {{"error", "bad request"}};
  }
  if (req["op"] != "status")
    return {{"error", "unknown op " + Quoted(req["op"].get<std::string>())}};
  std::string vpc;
  if (req.contains("vpc")) {
    if (!req["vpc"].is_string()) return {{"error", "bad request: vpc is not a string"}};
    vpc = req["vpc"].get<std::string>();
  }
  return StatusAnswer(ctx, runner, vpc);
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
  ListingCache cache(ctx.runner, *feed, Cacheable(platform), ctx.Time(), kMaxListingAge);
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
    auto line = ReadRequest(conn.get());
    if (!line) continue;
    json answer;
    if (!self.Same()) {
      restart = true;
      answer = {{"restart", true}};
      ctx.io.Info("agent: " + self.path +
                  " was replaced: exiting for the next apply to restart it");
    } else {
      answer = Answer(ctx, cache, *line);
    }
    SetTimeouts(conn.get(), kAnswerSeconds);
    WriteAll(conn.get(), answer.dump() + "\n");
  }
  unlink(path.c_str());
  return {};
}

}  // namespace vpcctl::agent
