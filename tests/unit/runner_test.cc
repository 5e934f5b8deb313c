// LocalRunner against real children that misbehave: endless output, unread input, closed outputs.
// Every case must end within its bound, with the child and its group gone.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "testing.h"
#include "vpcctl/base/output_cap.h"
#include "vpcctl/exec/runner.h"

namespace vpcctl::exec {
namespace {

using SteadyClock = std::chrono::steady_clock;

double SecondsSince(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

class Runner : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vpcctl-runner-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // `sh -c SCRIPT` that first records its pid (its process group) in a file.
  Argv Shell(const std::string& script) {
    return {"sh", "-c", "echo $$ > " + dir_ + "/pid; " + script};
  }
  // True when no live process of the child's group is left. Killed grandchildren are reparented
  // to init, which may reap them late: zombies count as gone.
  bool GroupGone() {
    std::ifstream f(dir_ + "/pid");
    int pgid = 0;
    f >> pgid;
    for (int i = 0; pgid > 0 && i < 100; ++i) {
      if (!testing::LiveProcessInGroup(pgid)) return true;
      usleep(10000);
    }
    return false;
  }

  std::string dir_;
  LocalRunner runner_;
};

TEST_F(Runner, EndlessStdoutIsCutAtItsCapAndTheChildKilled) {
  auto start = SteadyClock::now();
  auto r = runner_.Run(Shell("head -c 200000000 /dev/zero"), "", std::chrono::seconds(30));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_LT(SecondsSince(start), 5.0);
  EXPECT_TRUE(r->overflow);
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->out.size(), kMaxStdout);
  EXPECT_EQ(r->exit_code, 128 + SIGKILL);
  EXPECT_TRUE(GroupGone());
}

TEST_F(Runner, EndlessStderrIsCutAtItsCapAndTheChildKilled) {
  auto start = SteadyClock::now();
  auto r = runner_.Run(Shell("head -c 200000000 /dev/zero >&2"), "", std::chrono::seconds(30));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_LT(SecondsSince(start), 5.0);
  EXPECT_TRUE(r->overflow);
  EXPECT_EQ(r->err.size(), kMaxStderr);
  EXPECT_LE(r->out.size(), kMaxStdout);
  EXPECT_TRUE(GroupGone());
  EXPECT_EQ(OverflowMessage(r->out.size(), r->err.size()),
            "answered more than 256 KiB on stderr: output cut");
}

TEST_F(Runner, OutputJustUnderTheCapIsKeptWhole) {
  auto r = runner_.Run({"head", "-c", std::to_string(kMaxStdout), "/dev/zero"}, "",
                       std::chrono::seconds(30));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->overflow);
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->out.size(), kMaxStdout);
}

TEST_F(Runner, UnreadInputEndsAtTheDeadline) {
  std::string input(50u << 20, 'x');
  auto start = SteadyClock::now();
  auto r = runner_.Run(Shell("sleep 30"), input, std::chrono::seconds(1));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_LT(SecondsSince(start), 3.0);
  EXPECT_TRUE(r->timed_out);
  EXPECT_TRUE(GroupGone());
}

TEST_F(Runner, AChildThatPrintsBeforeReadingDoesNotDeadlock) {
  std::string input(4u << 20, 'x');
  auto r = runner_.Run({"sh", "-c", "head -c 1000000 /dev/zero; wc -c"}, input,
                       std::chrono::seconds(20));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->ok()) << r->err;
  EXPECT_EQ(r->out.substr(1000000), std::to_string(4u << 20) + "\n");
}

TEST_F(Runner, AChildThatExitsWithoutReadingItsInputDoesNotKillUs) {
  std::string input(8u << 20, 'x');
  auto r = runner_.Run({"true"}, input, std::chrono::seconds(20));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exit_code, 0);
}

TEST_F(Runner, AChildThatClosesItsOutputsIsStillStoppedAtTheDeadline) {
  auto start = SteadyClock::now();
  auto r = runner_.Run(Shell("exec >&- 2>&-; sleep 30"), "", std::chrono::seconds(1));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_LT(SecondsSince(start), 3.0);
  EXPECT_TRUE(r->timed_out);
  EXPECT_TRUE(GroupGone());
}

TEST_F(Runner, SpawnDetachedStartsASessionWithDefaultSignalsAndNothingOpen) {
  // What the parent set up must not reach the child: an ignored SIGTERM, a blocked SIGHUP.
  auto old_term = signal(SIGTERM, SIG_IGN);
  sigset_t hup, old_mask;
  sigemptyset(&hup);
  sigaddset(&hup, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &hup, &old_mask);
  std::string out = dir_ + "/seen";
  // The shell's own descriptors and signal state, read from /proc in subshells.
  auto pid = SpawnDetached(
      {"/bin/sh", "-c",
       "s=/proc/$$/status; fds=$(readlink /proc/$$/fd/0 /proc/$$/fd/1 /proc/$$/fd/2 | tr '\\n' ' '); "
       "ign=$(awk '/^SigIgn/ {print $2}' $s); blk=$(awk '/^SigBlk/ {print $2}' $s); "
       "echo \"sid=$(ps -o sid= -p $$ | tr -d ' ') term_ignored=$(( 0x$ign >> 14 & 1 )) "
       "hup_blocked=$(( 0x$blk & 1 )) fds=$fds\" > " + out + ".tmp; mv " + out + ".tmp " + out});
  signal(SIGTERM, old_term);
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ASSERT_TRUE(pid.ok()) << pid.error().message;
  int status = -1;
  ASSERT_EQ(waitpid(*pid, &status, 0), *pid) << "the caller reaps it";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::ifstream f(out);
  std::string seen;
  std::getline(f, seen);
  EXPECT_EQ(seen, "sid=" + std::to_string(*pid) +
                      " term_ignored=0 hup_blocked=0 fds=/dev/null /dev/null /dev/null ");
  auto missing = SpawnDetached({dir_ + "/no-such-program"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no-such-program"), std::string::npos);
}

}  // namespace
}  // namespace vpcctl::exec
