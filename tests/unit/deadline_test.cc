// `vpcctl --deadline SECS`: the real binary stops itself, and what it runs, and exits 124.
#include <gtest/gtest.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "testing.h"

namespace vpcctl {
namespace {

using SteadyClock = std::chrono::steady_clock;

class Deadline : public testing::BinaryTest {
 protected:
  // Runs vpcctl with a stdin pipe this test keeps open (a reader of stdin never sees its end);
  // returns the exit status and the seconds it took.
  std::pair<int, double> RunWithOpenStdin(std::vector<std::string> args) {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    std::vector<std::string> argv = {VPCCTL_BINARY, "--state-dir", state_};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    auto start = SteadyClock::now();
    pid_t pid = fork();
    if (pid == 0) {
      dup2(fds[0], 0);
      close(fds[1]);
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 2);
      execv(cargv[0], cargv.data());
      _exit(127);
    }
    close(fds[0]);
    int status = 0;
    // Waits 10 s at most, so that a broken deadline fails the test instead of hanging it.
    for (int i = 0; i < 1000 && waitpid(pid, &status, WNOHANG) == 0; ++i) usleep(10000);
    if (waitpid(pid, &status, WNOHANG) == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
    }
    close(fds[1]);
    double secs = std::chrono::duration<double>(SteadyClock::now() - start).count();
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), secs};
  }
};

TEST_F(Deadline, AVpcctlWaitingOnItsInputStopsAtTheDeadlineWithExit124) {
  auto [code, secs] = RunWithOpenStdin({"--deadline", "1", "map", "import"});
  EXPECT_EQ(code, 124);
  EXPECT_GE(secs, 0.9);
  EXPECT_LT(secs, 3.0);
}

TEST_F(Deadline, TheCommandsItRunsAreStoppedWithIt) {
  // `init` without --mtu probes the interfaces with ip(8); this one never answers.
  std::filesystem::create_directories(dir_ + "/bin");
  std::string ip = dir_ + "/bin/ip";
  std::ofstream(ip) << "#!/bin/sh\necho $$ > " << dir_ << "/child.pid\nexec sleep 30\n";
  std::filesystem::permissions(ip, std::filesystem::perms::owner_all);
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin";
  setenv("PATH", (dir_ + "/bin:" + path).c_str(), 1);
  auto start = SteadyClock::now();
  auto r = Run({"--deadline", "1", "init", "--name", "h1", "--address", "192.0.2.1"});
  double secs = std::chrono::duration<double>(SteadyClock::now() - start).count();
  setenv("PATH", path.c_str(), 1);
  EXPECT_EQ(r.exit_code, 124) << r.err;
  EXPECT_LT(secs, 4.0);
  EXPECT_NE(r.err.find("vpcctl: error: stopped: the --deadline of 1 s passed"), std::string::npos)
      << r.err;
  std::ifstream f(dir_ + "/child.pid");
  int pid = 0;
  f >> pid;
  ASSERT_GT(pid, 0) << "the probe never ran";
  bool gone = false;  // the child leads its own process group (LocalRunner)
  for (int i = 0; i < 100 && !gone; ++i, usleep(10000)) gone = !testing::LiveProcessInGroup(pid);
  EXPECT_TRUE(gone) << "the command vpcctl ran outlived it";
}

TEST_F(Deadline, ABadValueIsRefusedNamingIt) {
  for (const char* bad : {"0", "-1", "abc", "86401", "1.5"}) {
    auto r = Run({"--deadline", bad, "node", "list"});
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_NE(r.err.find(std::string("'") + bad + "'"), std::string::npos) << r.err;
  }
}

TEST_F(Deadline, ACommandThatEndsInTimeIsUnaffected) {
  Ok({"--deadline", "30", "init", "--name", "h1", "--address", "192.0.2.1", "--mtu", "1500"});
  auto r = Run({"--deadline", "30", "node", "list"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace vpcctl
