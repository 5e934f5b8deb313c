#include "vpcctl/exec/runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>

#include "vpcctl/base/text.h"
#include "vpcctl/exec/pidfile.h"

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

}  // namespace

Result<CommandResult> LocalRunner::Run(const Argv& argv, const std::string& input,
                                       std::chrono::milliseconds timeout) {
  if (argv.empty()) return Failure("empty command");
  Pipe in, out, err;
  if (pipe2(in.fd, O_CLOEXEC) != 0 || pipe2(out.fd, O_CLOEXEC) != 0 ||
      pipe2(err.fd, O_CLOEXEC) != 0) {
    return Failure(std::string("pipe: ") + std::strerror(errno));
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return Failure(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    setpgid(0, 0);
    dup2(in.fd[0], 0);
    dup2(out.fd[1], 1);
    dup2(err.fd[1], 2);
    signal(SIGPIPE, SIG_DFL);
    execvp(args[0], args.data());
    const char* msg = "vpcctl: cannot execute command\n";
    (void)!write(2, msg, std::strlen(msg));
    _exit(127);
  }
  setpgid(pid, pid);
  in.CloseRead();
  out.CloseWrite();
  err.CloseWrite();
  SetNonBlocking(in.fd[1]);
  SetNonBlocking(out.fd[0]);
  SetNonBlocking(err.fd[0]);
  if (input.empty()) in.CloseWrite();

  CommandResult r;
  size_t written = 0;
  auto deadline = Clock::now() + timeout;
  bool term_sent = false;
  auto kill_deadline = deadline;
  while (out.fd[0] >= 0 || err.fd[0] >= 0) {
    pollfd fds[3];
    int n = 0;
    int idx_in = -1, idx_out = -1, idx_err = -1;
    if (in.fd[1] >= 0) {
      fds[n] = {in.fd[1], POLLOUT, 0};
      idx_in = n++;
    }
    if (out.fd[0] >= 0) {
      fds[n] = {out.fd[0], POLLIN, 0};
      idx_out = n++;
    }
    if (err.fd[0] >= 0) {
      fds[n] = {err.fd[0], POLLIN, 0};
      idx_err = n++;
    }
    auto now = Clock::now();
    auto limit = term_sent ? kill_deadline : deadline;
    int wait_ms = static_cast<int>(
        std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(limit - now).count()));
    int rc = poll(fds, static_cast<nfds_t>(n), wait_ms);
    if (rc < 0 && errno != EINTR) break;
    if (rc == 0) {
      if (!term_sent) {
        r.timed_out = true;
        kill(-pid, SIGTERM);
        term_sent = true;
        kill_deadline = Clock::now() + std::chrono::milliseconds(500);
        continue;
      }
      kill(-pid, SIGKILL);
      break;
    }
    if (idx_in >= 0 && (fds[idx_in].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = write(in.fd[1], input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if (w < 0 && errno != EAGAIN && errno != EINTR) written = input.size();
      if (written >= input.size()) in.CloseWrite();
    }
    for (auto [idx, pipe, buf] : {std::tuple{idx_out, &out, &r.out}, std::tuple{idx_err, &err, &r.err}}) {
      if (idx < 0 || !(fds[idx].revents & (POLLIN | POLLERR | POLLHUP))) continue;
      char chunk[65536];
      ssize_t got = read(pipe->fd[0], chunk, sizeof chunk);
      if (got > 0) {
        buf->append(chunk, static_cast<size_t>(got));
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        pipe->CloseRead();
      }
    }
  }
  in.CloseWrite();
  int status = 0;
  if (r.timed_out) kill(-pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.exit_code = 128 + WTERMSIG(status);
  }
  if (r.exit_code == 127 && r.err.find("vpcctl: cannot execute command") != std::string::npos) {
    return Failure("cannot run " + Quoted(argv[0]) + ": not found or not executable");
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
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
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

std::string FindProgram(const std::string& program) {
  if (program.find('/') != std::string::npos) {
    return access(program.c_str(), X_OK) == 0 ? program : std::string();
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const auto& dir : Split(dirs, ':')) {
    if (dir.empty()) continue;
    std::string full = dir + "/" + program;
    if (access(full.c_str(), X_OK) == 0) return full;
  }
  return {};
}

Result<int> FakeRunner::Start(const Argv& argv, const std::string&, const std::string&) {
  Argv call = {"start"};
  call.insert(call.end(), argv.begin(), argv.end());
  std::lock_guard<std::mutex> lock(mu_);
  calls_.push_back(call);
  return 4242;
}

void FakeRunner::On(const Argv& prefix, Handler h) {
  std::lock_guard<std::mutex> lock(mu_);
  handlers_.emplace_back(prefix, std::move(h));
}

std::vector<Argv> FakeRunner::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

void FakeRunner::On(const Argv& prefix, std::string out, int exit_code) {
  On(prefix, [out, exit_code](const Argv&, const std::string&) {
    CommandResult r;
    r.out = out;
    r.exit_code = exit_code;
    return r;
  });
}

Result<CommandResult> FakeRunner::Run(const Argv& argv, const std::string& input,
                                      std::chrono::milliseconds) {
  Handler best;
  {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back(argv);
    size_t best_len = 0;
    bool found = false;
    for (const auto& [prefix, h] : handlers_) {
      if (prefix.size() > argv.size() || (found && prefix.size() < best_len)) continue;
      if (std::equal(prefix.begin(), prefix.end(), argv.begin())) {
        best = h;
        best_len = prefix.size();
        found = true;
      }
    }
  }
  if (!best) return Failure("fake runner: no handler for " + ShellLine(argv));
  return best(argv, input);
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
