#include "vpcctl/exec/runner.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <signal.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>

#include "vpcctl/base/output_cap.h"
#include "vpcctl/base/text.h"
#include "vpcctl/exec/deadline.h"
#include "vpcctl/exec/pidfile.h"
#include "vpcctl/version.h"

namespace vpcctl::exec {

namespace {

using Clock = std::chrono::steady_clock;

void SetNonBlocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() {
    for (int f : fd)
      if (f >= 0) close(f);
  }
  void CloseRead() { Close(0); }
  void CloseWrite() { Close(1); }
  void Close(int i) {
    if (fd[i] >= 0) close(fd[i]);
    fd[i] = -1;
  }
};

// A child being run: its pid (also its process group) and, once it has exited, its status.
struct Child {
  pid_t pid = -1;
  bool exited = false;
  int status = 0;
  bool Reaped() {
    if (!exited && waitpid(pid, &status, WNOHANG) == pid) exited = true;
    return exited;
  }
  void Signal(int sig) const { kill(-pid, sig); }
};

// argv as exec and posix_spawn take it: pointers into `argv`, null-terminated.
std::vector<char*> CArgv(const Argv& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  return args;
}

// posix_spawnp with the pipes as stdin, stdout and stderr, in a process group of its own (so that
// a timeout stops everything it started), SIGPIPE at its default and no signal blocked. Unlike
// fork it copies no page tables (and the parent then takes no copy-on-write faults), which is most
// of what starting `ip` cost. The pid, or -1 with errno set (ENOENT: no such program).
pid_t Spawn(const Argv& argv, Pipe& in, Pipe& out, Pipe& err) {
  std::vector<char*> args = CArgv(argv);
  posix_spawn_file_actions_t files;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_adddup2(&files, in.fd[0], 0);
  posix_spawn_file_actions_adddup2(&files, out.fd[1], 1);
  posix_spawn_file_actions_adddup2(&files, err.fd[1], 2);
  posix_spawnattr_init(&attr);
  sigset_t none, pipe_only;
  sigemptyset(&none);
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);  // SpawnTracked blocked SIGALRM
  posix_spawnattr_setsigdefault(&attr, &pipe_only);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &files, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&files);
  if (rc != 0) {
    errno = rc;
    return -1;
  }
  setpgid(pid, pid);  // already so; kept for symmetry with the group the deadline kills
  return pid;
}

// Spawn, with the child's group registered for --deadline before the alarm can be handled on this
// thread (a group it did not know of would outlive us).
pid_t SpawnTracked(const Argv& argv, Pipe& in, Pipe& out, Pipe& err) {
  sigset_t alarm_only, old;
  sigemptyset(&alarm_only);
  sigaddset(&alarm_only, SIGALRM);
  pthread_sigmask(SIG_BLOCK, &alarm_only, &old);
  pid_t pid = Spawn(argv, in, out, err);
  if (pid > 0) TrackChildGroup(pid);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return pid;
}

// write(2) that cannot raise SIGPIPE: a child that stopped reading its input must not kill us.
ssize_t WriteQuietly(int fd, const char* data, size_t n) {
  sigset_t pipe_only, old;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  ssize_t w = write(fd, data, n);
  int saved = errno;
  if (w < 0 && errno == EPIPE) {
    timespec zero{};
    sigtimedwait(&pipe_only, nullptr, &zero);  // consume the SIGPIPE this write raised
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return w;
}

int MsUntil(Clock::time_point t) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, 1000));
}

// Feeds the child its input and captures its outputs until both are closed and it has exited.
// Past an output cap, the child's group is killed and the rest is not read; at the deadline the
// group gets SIGTERM, and SIGKILL 500 ms later. Input is written only as the child reads it, and
// output read meanwhile, so a child that prints before it reads cannot deadlock.
void Exchange(Child& child, Pipe& in, Pipe& out, Pipe& err, const std::string& input,
              Clock::time_point deadline, CommandResult& r) {
  size_t written = 0;
  bool term_sent = false;
  Clock::time_point kill_at;
  while (true) {
    bool reading = out.fd[0] >= 0 || err.fd[0] >= 0;
    if (!reading && child.Reaped()) return;
    auto now = Clock::now();
    if (!term_sent && now >= deadline) {
      r.timed_out = true;
      child.Signal(SIGTERM);
      term_sent = true;
      kill_at = now + std::chrono::milliseconds(500);
      in.CloseWrite();
    }
    if (term_sent && now >= kill_at) {
      child.Signal(SIGKILL);
      return;
    }
    pollfd fds[3];
    nfds_t n = 0;
    for (auto [fd, events] : {std::pair{in.fd[1], POLLOUT}, {out.fd[0], POLLIN}, {err.fd[0], POLLIN}})
      if (fd >= 0) fds[n++] = {fd, static_cast<short>(events), 0};
    int wait = MsUntil(term_sent ? kill_at : deadline);
    if (!reading) wait = std::min(wait, 10);  // only waiting for the exit: look again soon
    if (poll(fds, n, wait) <= 0) continue;
    for (nfds_t i = 0; i < n; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLOUT | POLLERR | POLLHUP))) continue;
      if (fds[i].fd == in.fd[1]) {
        ssize_t w = WriteQuietly(in.fd[1], input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || written >= input.size()) {
          in.CloseWrite();
        }
        continue;
      }
      bool is_out = fds[i].fd == out.fd[0];
      if (!is_out && fds[i].fd != err.fd[0]) continue;  // closed in this round
      Pipe& pipe = is_out ? out : err;
      char chunk[65536];
      ssize_t got = read(pipe.fd[0], chunk, sizeof chunk);
      if (got > 0) {
        std::string_view data(chunk, static_cast<size_t>(got));
        if (!AppendCapped(is_out ? r.out : r.err, data, is_out ? kMaxStdout : kMaxStderr)) {
          r.overflow = true;
          child.Signal(SIGKILL);
          out.CloseRead();
          err.CloseRead();
          in.CloseWrite();
          break;
        }
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        pipe.CloseRead();
      }
    }
  }
}

}  // namespace

Result<CommandResult> LocalRunner::Run(const Argv& argv, const std::string& input,
                                       std::chrono::milliseconds timeout) {
  if (argv.empty()) return Failure("empty command");
  Pipe in, out, err;
  if (pipe2(in.fd, O_CLOEXEC) != 0 || pipe2(out.fd, O_CLOEXEC) != 0 ||
      pipe2(err.fd, O_CLOEXEC) != 0) {
    return Failure(std::string("pipe: ") + std::strerror(errno));
  }
  if (DeadlinePassed()) return Failure("not running " + Quoted(argv[0]) + ": the --deadline passed");
  Child child{SpawnTracked(argv, in, out, err)};
  if (child.pid < 0) {
    if (errno == ENOENT || errno == EACCES || errno == ENOEXEC || errno == ENOTDIR) {
      return Failure("cannot run " + Quoted(argv[0]) + ": not found or not executable");
    }
    return Failure("cannot start " + Quoted(argv[0]) + ": " + std::strerror(errno));
  }
  in.CloseRead();
  out.CloseWrite();
  err.CloseWrite();
  SetNonBlocking(in.fd[1]);
  SetNonBlocking(out.fd[0]);
  SetNonBlocking(err.fd[0]);
  if (input.empty()) in.CloseWrite();

  CommandResult r;
  Exchange(child, in, out, err, input, Clock::now() + timeout, r);
  while (!child.exited && waitpid(child.pid, &child.status, 0) < 0 && errno == EINTR) {
  }
  UntrackChildGroup(child.pid);
  if (WIFEXITED(child.status)) {
    r.exit_code = WEXITSTATUS(child.status);
  } else if (WIFSIGNALED(child.status)) {
    r.exit_code = 128 + WTERMSIG(child.status);
  }
  return r;
}

namespace {

// Waits until the child forked with `pipe` (its write end close-on-exec, left open in the child)
// has been executed: end of file. The errno of a failed exec otherwise.
int AwaitExec(Pipe& p) {
  p.CloseWrite();
  int err = 0;
  ssize_t n;
  while ((n = read(p.fd[0], &err, sizeof err)) < 0 && errno == EINTR) {
  }
  return n == static_cast<ssize_t>(sizeof err) ? err : 0;
}

}  // namespace

Result<int> LocalRunner::Start(const Argv& argv, const std::string& log,
                               const std::string& pidfile) {
  if (argv.empty()) return Failure("empty command");
  int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (out < 0) return Failure("cannot open " + log + ": " + std::strerror(errno));
  Pipe exec_done;
  if (pipe2(exec_done.fd, O_CLOEXEC) != 0) {
    close(out);
    return Failure(std::string("pipe: ") + std::strerror(errno));
  }
  std::vector<char*> args = CArgv(argv);
  pid_t pid = fork();
  if (pid < 0) {
    close(out);
    return Failure(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    setsid();
    int in = open("/dev/null", O_RDONLY);
    dup2(in, 0);
    dup2(out, 1);
    dup2(out, 2);
    // Nothing of ours (state lock, database, pipes) may live on in the daemon; the exec pipe
    // closes itself on exec.
    for (int fd = 3; fd < 1024; ++fd)
      if (fd != exec_done.fd[1]) close(fd);
    signal(SIGPIPE, SIG_DFL);
    execvp(args[0], args.data());
    int e = errno;
    (void)!write(exec_done.fd[1], &e, sizeof e);
    _exit(127);
  }
  close(out);
  if (int e = AwaitExec(exec_done)) {
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return Failure("cannot run " + Quoted(argv[0]) + ": " + std::strerror(e));
  }
  if (auto st = WritePidfile(pidfile, pid); !st.ok()) {
    kill(pid, SIGTERM);
    return st.error();
  }
  return static_cast<int>(pid);
}

namespace {

// In a child about to run something of its own: stdio on /dev/null, default signals, no mask.
void ResetChild() {
  int null = open("/dev/null", O_RDWR);
  dup2(null, 0);
  dup2(null, 1);
  dup2(null, 2);
  if (null > 2) close(null);
  for (int sig : {SIGPIPE, SIGCHLD, SIGHUP, SIGINT, SIGTERM}) signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

// Waits for `pid` until `deadline`; true when it ended (status in `status`).
bool WaitUntil(pid_t pid, Clock::time_point deadline, int* status) {
  for (;;) {
    pid_t got = waitpid(pid, status, WNOHANG);
    if (got == pid || (got < 0 && errno != EINTR)) return true;
    if (Clock::now() >= deadline) return false;
    usleep(10000);
  }
}

}  // namespace

Result<CommandResult> RunProgram(const std::string& path, const std::vector<std::string>& env,
                                 std::chrono::milliseconds timeout,
                                 std::chrono::milliseconds grace) {
  std::vector<char*> args = {const_cast<char*>(path.c_str()), nullptr};
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  Pipe exec_done;
  if (pipe2(exec_done.fd, O_CLOEXEC) != 0) return Failure(std::string("pipe: ") + std::strerror(errno));
  pid_t pid = fork();
  if (pid < 0) return Failure(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    setpgid(0, 0);
    ResetChild();
    execve(path.c_str(), args.data(), envp.data());
    int e = errno;
    (void)!write(exec_done.fd[1], &e, sizeof e);
    _exit(127);
  }
  setpgid(pid, pid);
  int status = 0;
  if (int e = AwaitExec(exec_done)) {
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return Failure("cannot run " + Quoted(path) + ": " + std::strerror(e));
  }
  CommandResult r;
  if (!WaitUntil(pid, Clock::now() + timeout, &status)) {
    r.timed_out = true;
    kill(-pid, SIGTERM);
    if (!WaitUntil(pid, Clock::now() + grace, &status)) {
      kill(-pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.exit_code = 128 + WTERMSIG(status);
  return r;
}

Status Detach(const std::function<void()>& work) {
  pid_t child = fork();
  if (child < 0) return Failure(std::string("fork: ") + std::strerror(errno));
  if (child == 0) {
    setsid();
    pid_t grandchild = fork();
    if (grandchild != 0) _exit(grandchild < 0 ? 1 : 0);
    ResetChild();
    for (int fd = 3; fd < 1024; ++fd) close(fd);
    if (chdir("/") != 0) _exit(1);
    // Nothing may unwind out of here: above this frame is the caller's code, in a copy of it.
    try {
      work();
    } catch (...) {
      _exit(1);
    }
    _exit(0);
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Failure("cannot start a detached process: fork failed");
  }
  return {};
}

Result<pid_t> SpawnDetached(const Argv& argv) {
  if (argv.empty()) return Failure("nothing to start");
  std::vector<char*> args = CArgv(argv);
  posix_spawn_file_actions_t files;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&files);
  for (int fd = 0; fd < 3; ++fd) {
    posix_spawn_file_actions_addopen(&files, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
  }
  posix_spawnattr_init(&attr);
  sigset_t none, handled;
  sigemptyset(&none);
  sigemptyset(&handled);
  for (int sig : {SIGPIPE, SIGCHLD, SIGHUP, SIGINT, SIGTERM}) sigaddset(&handled, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &handled);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &files, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&files);
  if (rc != 0) return Failure(argv[0] + ": " + std::strerror(rc));
  return pid;
}

std::string FindProgram(const std::string& program) {
  if (program.find('/') != std::string::npos) {
    return access(program.c_str(), X_OK) == 0 ? program : std::string();
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : VPCCTL_DEFAULT_PATH;
  for (const auto& dir : Split(dirs, ':')) {
    if (dir.empty()) continue;
    std::string full = dir + "/" + program;
    if (access(full.c_str(), X_OK) == 0) return full;
  }
  return {};
}

std::string SelfPath() {
  char buf[4096];
  for (const char* link : {"/proc/self/exe", "/proc/curproc/file"}) {
    ssize_t n = readlink(link, buf, sizeof buf - 1);
    if (n > 0) return std::string(buf, static_cast<size_t>(n));
  }
  return "vpcctl";
}

std::string LocalSystemName() {
  utsname u{};
  if (uname(&u) != 0) return "unknown";
  return u.sysname;
}

}  // namespace vpcctl::exec
