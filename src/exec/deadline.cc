#include "vpcctl/exec/deadline.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>

#include "vpcctl/base/text.h"

namespace vpcctl::exec {

namespace {

// Signal handlers can only reach globals; these are all lock-free atomics.
constexpr int kSlots = 64;
std::atomic<pid_t> g_groups[kSlots];
std::atomic<bool> g_passed{false};
char g_message[128];
size_t g_message_len = 0;

void SignalGroups(int sig) {
  for (auto& g : g_groups) {
    pid_t p = g.load();
    if (p > 0) kill(-p, sig);
  }
}

// Reaps what has exited; true while some tracked group still has a process.
bool GroupsLeft() {
  bool left = false;
  for (auto& g : g_groups) {
    pid_t p = g.load();
    if (p <= 0) continue;
    while (waitpid(-p, nullptr, WNOHANG) > 0) {
    }
    if (kill(-p, 0) == 0) left = true;
  }
  return left;
}

// Async-signal-safe only: kill, waitpid, nanosleep, write, _exit.
void OnDeadline(int) {
  g_passed.store(true);
  (void)!write(2, g_message, g_message_len);
  SignalGroups(SIGTERM);
  timespec step{0, 50 * 1000 * 1000};
  for (int i = 0; i < 100 && GroupsLeft(); ++i) nanosleep(&step, nullptr);
  SignalGroups(SIGKILL);
  _exit(static_cast<int>(Exit::kDeadline));
}

}  // namespace

Result<int> ParseDeadline(const std::string& text) {
  auto v = ParseUint(text, kMaxDeadlineSeconds);
  if (!v || *v == 0) {
    return UsageError("invalid --deadline " + Quoted(text) + ": must be 1-" +
                      std::to_string(kMaxDeadlineSeconds) + " seconds");
  }
  return static_cast<int>(*v);
}

void ArmDeadline(int seconds) {
  int n = std::snprintf(g_message, sizeof g_message,
                        "vpcctl: error: stopped: the --deadline of %d s passed\n", seconds);
  g_message_len = n > 0 ? static_cast<size_t>(n) : 0;
  struct sigaction sa {};
  sa.sa_handler = OnDeadline;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, nullptr);
  alarm(static_cast<unsigned>(seconds));
}

bool DeadlinePassed() { return g_passed.load(); }

void TrackChildGroup(pid_t pgid) {
  for (auto& g : g_groups) {
    pid_t empty = 0;
    if (g.compare_exchange_strong(empty, pgid)) break;
  }
  if (g_passed.load()) kill(-pgid, SIGKILL);
}

void UntrackChildGroup(pid_t pgid) {
  for (auto& g : g_groups) {
    pid_t mine = pgid;
    if (g.compare_exchange_strong(mine, 0)) break;
  }
}

}  // namespace vpcctl::exec
