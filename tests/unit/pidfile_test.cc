// Pid files: a pid is trusted, and signalled, only while it is still the daemon that wrote it.
#include "vpcctl/exec/pidfile.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "vpcctl/exec/files.h"
#include "vpcctl/exec/runner.h"
#include "vpcctl/store/state_dir.h"

namespace vpcctl {
namespace {

using exec::DaemonIdentity;
using exec::PidRecord;
using exec::ProcessView;
using exec::WhyNotOurs;

// A real line (keepalived), and the same with a hostile command name.
constexpr char kStat[] =
    "14109 (keepalived) S 1 14109 14109 0 -1 4194368 46 0 0 0 0 0 0 0 20 0 1 0 160801 29720576 693 "
    "18446744073709551615 94288426823680 94288427342493 140734347666688 0 0 0 84483 2147135540 0 "
    "1 0 0 17 1 0 0 0 0 0\n";
constexpr char kStatHostile[] =
    "4242 (a) b) S 1 2 3 (x) R 1 4242 4242 0 -1 4194368 46 0 0 0 0 0 0 0 20 0 1 0 99 29720576 693 "
    "0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";

TEST(ProcStat, StateAndStartTimeCountFromTheLastParenthesis) {
  auto s = exec::ParseProcStat(kStat);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->state, 'S');
  EXPECT_EQ(s->start_time, 160801u);
  auto h = exec::ParseProcStat(kStatHostile);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->state, 'R') << "a ') S' inside the name is not the state";
  EXPECT_EQ(h->start_time, 99u);
  auto z = exec::ParseProcStat("77 (my daemon) Z 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 555 0 0");
  ASSERT_TRUE(z);
  EXPECT_EQ(z->state, 'Z');
  EXPECT_EQ(z->start_time, 555u);
  for (const char* bad : {"", "14109 keepalived S 1", "14109 (keepalived) S 1 2 3",
                          "1 (x) SS 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0",
                          "1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -5 0 0"}) {
    EXPECT_FALSE(exec::ParseProcStat(bad)) << bad;
  }
}

TEST(ProcStat, CmdlineSplitsOnNul) {
  using V = std::vector<std::string>;
  EXPECT_EQ(exec::ParseCmdline(std::string("keepalived\0--pid\0/a b\0", 21)),
            (V{"keepalived", "--pid", "/a b"}));
  EXPECT_EQ(exec::ParseCmdline(""), V{});
}

TEST(PidRecordText, KeepsPidStartTimeAndExecutable) {
  PidRecord r{4242, 160801u, "/usr/bin/wireguard-go"};
  std::string text = exec::FormatPidRecord(r);
  EXPECT_EQ(text, "4242\nstart=160801 exe=/usr/bin/wireguard-go\n");
  auto back = exec::ParsePidRecord(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->pid, 4242);
  EXPECT_EQ(back->start_time, 160801u);
  EXPECT_EQ(back->exe, "/usr/bin/wireguard-go");
  auto bare = exec::ParsePidRecord("14109\n");  // keepalived's own
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->pid, 14109);
  EXPECT_FALSE(bare->start_time);
  for (const char* bad : {"", "abc\n", "0\n", "1\n", "-5\n", "99999999999\n", "12\nstart=x\n",
                          "12\nexe=/bin/sh\n", "12\nstart=5 other\n"}) {
    EXPECT_FALSE(exec::ParsePidRecord(bad)) << bad;
  }
}

class NotOurs : public ::testing::Test {
 protected:
  PidRecord recorded_{4242, 1000u, "/usr/bin/wireguard-go"};
  DaemonIdentity wg_{"wireguard-go", {"wg-vpcctl"}};
  DaemonIdentity keepalived_{"keepalived", {"/var/lib/vpcctl/keepalived.conf"}};
  ProcessView wg_view_{false, 1000u, "/usr/bin/wireguard-go", {"wireguard-go", "-f", "wg-vpcctl"}};
  ProcessView keepalived_view_{false, 7u, "/usr/sbin/keepalived",
                               {"keepalived", "--use-file", "/var/lib/vpcctl/keepalived.conf"}};
};

TEST_F(NotOurs, TheDaemonThatWroteThePidFileIsOurs) {
  EXPECT_EQ(WhyNotOurs(recorded_, wg_view_, wg_, {"wireguard-go"}), "");
  EXPECT_EQ(WhyNotOurs({14109, {}, {}}, keepalived_view_, keepalived_, {"keepalived"}), "");
  ProcessView upgraded = keepalived_view_;
  upgraded.exe += " (deleted)";
  EXPECT_EQ(WhyNotOurs({14109, {}, {}}, upgraded, keepalived_, {"keepalived"}), "");
  ProcessView unreadable_exe = keepalived_view_;
  unreadable_exe.exe.clear();
  EXPECT_EQ(WhyNotOurs({14109, {}, {}}, unreadable_exe, keepalived_, {"keepalived"}), "")
      << "argv[0] tells when the executable cannot be read";
  ProcessView versioned = keepalived_view_;
  versioned.exe = "/opt/keepalived-2.2/bin/keepalived-2.2";
  EXPECT_EQ(WhyNotOurs({14109, {}, {}}, versioned, keepalived_, {"keepalived", "keepalived-2.2"}),
            "")
      << "the program's path may resolve to another file name";
}

TEST_F(NotOurs, AReusedPidIsNotOurs) {
  ProcessView later = wg_view_;
  later.start_time = 2000u;
  EXPECT_EQ(WhyNotOurs(recorded_, later, wg_, {"wireguard-go"}),
            "pid 4242 started at 2000, not at 1000 as recorded: the pid was reused");
  ProcessView other{false, 1000u, "/usr/bin/sleep", {"sleep", "wg-vpcctl"}};
  EXPECT_EQ(WhyNotOurs(recorded_, other, wg_, {"wireguard-go"}),
            "pid 4242 runs '/usr/bin/sleep', not wireguard-go");
  ProcessView stranger{false, 9u, "/usr/sbin/sshd", {"sshd: root@pts/0"}};
  EXPECT_EQ(WhyNotOurs({14109, {}, {}}, stranger, keepalived_, {"keepalived"}),
            "pid 14109 runs '/usr/sbin/sshd', not keepalived");
  ProcessView kernel_thread{false, 3u, "", {}};
  EXPECT_EQ(WhyNotOurs({14109, {}, {}}, kernel_thread, keepalived_, {"keepalived"}),
            "pid 14109 runs 'nothing known', not keepalived");
  ProcessView disguised{false, 9u, "/tmp/x", {"keepalived", "/var/lib/vpcctl/keepalived.conf"}};
  EXPECT_NE(WhyNotOurs({14109, {}, {}}, disguised, keepalived_, {"keepalived"}), "")
      << "argv[0] is the process's to choose; the executable wins when it can be read";
}

TEST_F(NotOurs, AnotherInstanceOrAZombieIsNotOurs) {
  ProcessView elsewhere = keepalived_view_;
  elsewhere.argv = {"keepalived", "--use-file", "/etc/keepalived/keepalived.conf"};
  EXPECT_EQ(WhyNotOurs({14109, {}, {}}, elsewhere, keepalived_, {"keepalived"}),
            "pid 14109 is a keepalived without '/var/lib/vpcctl/keepalived.conf' on its command "
            "line");
  ProcessView zombie = wg_view_;
  zombie.zombie = true;
  EXPECT_EQ(WhyNotOurs(recorded_, zombie, wg_, {"wireguard-go"}), "pid 4242 is a zombie");
}

// Real processes: one started as a daemon, one unrelated that gets the daemon's pid file.
class RealPidfile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vpcctl-pid-XXXXXX";
    dir_ = mkdtemp(tmpl);
    pidfile_ = dir_ + "/sleep.pid";
  }
  void TearDown() override {
    for (int pid : {daemon_, stranger_}) {
      if (pid <= 0) continue;
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    std::filesystem::remove_all(dir_);
  }
  // Alive and not a zombie: still running, not waited for.
  static bool Running(int pid) { return waitpid(pid, nullptr, WNOHANG) == 0; }
  // A process of the test's own, as a stranger whose pid a pid file might name after a reboot.
  static int Spawn(const char* seconds) {
    pid_t pid = fork();
    if (pid == 0) {
      execlp("sleep", "sleep", seconds, static_cast<char*>(nullptr));
      _exit(127);
    }
    return pid;
  }
  std::string dir_, pidfile_;
  int daemon_ = 0, stranger_ = 0;
  DaemonIdentity sleep30_{"sleep", {"30"}};
};

TEST_F(RealPidfile, TheDaemonIsRecognisedAndAStrangerWithItsPidFileIsNeverSignalled) {
  exec::LocalRunner runner;
  auto started = runner.Start({"sleep", "30"}, dir_ + "/sleep.log", pidfile_);
  ASSERT_TRUE(started.ok()) << started.error().message;
  daemon_ = *started;
  auto text = exec::ReadFile(pidfile_);
  ASSERT_TRUE(text.ok());
  auto record = exec::ParsePidRecord(*text);
  ASSERT_TRUE(record && record->start_time) << *text;
  EXPECT_EQ(record->pid, daemon_);
  EXPECT_NE(record->exe.find("sleep"), std::string::npos) << *text;
  std::string why;
  EXPECT_EQ(exec::PidFromFile(pidfile_, sleep30_, &why), daemon_) << why;
  EXPECT_EQ(exec::PidFromFile(pidfile_, {"sleep", {"31"}}), 0) << "another instance";

  // The daemon's record, pointing at another pid (as after a reboot): not ours, not signalled.
  // The stranger runs the same program, started later: start times count in clock ticks (10 ms),
  // so it starts a few ticks after the daemon.
  usleep(50000);
  stranger_ = Spawn("30");
  PidRecord reused = *record;
  reused.pid = stranger_;
  ASSERT_TRUE(exec::WriteFileAtomic(pidfile_, exec::FormatPidRecord(reused), 0600).ok());
  EXPECT_EQ(exec::PidFromFile(pidfile_, sleep30_, &why), 0);
  EXPECT_NE(why.find("the pid was reused"), std::string::npos) << why;
  EXPECT_TRUE(exec::SignalPidfile(pidfile_, sleep30_, SIGTERM, std::chrono::seconds(1)).ok());
  EXPECT_TRUE(Running(stranger_)) << "the stranger was signalled";
  EXPECT_FALSE(exec::FileExists(pidfile_)) << "the stale pid file stays";

  // A bare pid, as keepalived writes: the test's own process is not a keepalived.
  ASSERT_TRUE(exec::WriteFileAtomic(pidfile_, std::to_string(getpid()) + "\n", 0600).ok());
  DaemonIdentity keepalived{"keepalived", {dir_ + "/keepalived.conf"}};
  EXPECT_EQ(exec::PidFromFile(pidfile_, keepalived, &why), 0);
  EXPECT_NE(why.find("not keepalived"), std::string::npos) << why;
  EXPECT_TRUE(exec::SignalPidfile(pidfile_, keepalived, SIGTERM).ok());  // would end the test

  // The daemon's own pid file again: signalled, and gone.
  ASSERT_TRUE(exec::WriteFileAtomic(pidfile_, *text, 0600).ok());
  EXPECT_TRUE(exec::SignalPidfile(pidfile_, sleep30_, SIGTERM, std::chrono::seconds(2)).ok());
  if (Running(daemon_)) {
    ADD_FAILURE() << "the daemon is still running";
  } else {
    daemon_ = 0;  // waited for
  }
  EXPECT_TRUE(Running(stranger_));
  EXPECT_EQ(exec::PidFromFile(pidfile_, sleep30_, &why), 0);
}

// While a process exits, its executable and command line vanish before it has closed its files
// and become a zombie; tearing down a large address space holds it in that window for a while.
// A wait for exit must last until the end, or a successor may find the old one's sockets held.
TEST_F(RealPidfile, AWaitForExitLastsUntilTheProcessHasExitedNotUntilItLooksLikeAStranger) {
  constexpr size_t kSize = size_t{2048} << 20;  // some 40 ms of teardown here
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t pid = fork();
  if (pid == 0) {
    void* big = mmap(nullptr, kSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    char ok = big != MAP_FAILED ? 'y' : 'n';
    if (write(ready[1], &ok, 1) != 1) _exit(1);
    for (;;) pause();
  }
  ASSERT_GT(pid, 0);
  daemon_ = pid;
  close(ready[1]);
  char ok = 0;
  ASSERT_EQ(read(ready[0], &ok, 1), 1);
  close(ready[0]);
  ASSERT_EQ(ok, 'y') << "cannot map " << kSize << " bytes";
  ASSERT_TRUE(exec::WritePidfile(pidfile_, pid).ok());
  std::string self = std::filesystem::read_symlink("/proc/self/exe").filename();
  DaemonIdentity me{self, {}};
  std::string why;
  ASSERT_EQ(exec::PidFromFile(pidfile_, me, &why), pid) << why;
  ASSERT_TRUE(exec::SignalPidfile(pidfile_, me, SIGTERM, std::chrono::seconds(10)).ok());
  EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), pid) << "SignalPidfile returned before the exit";
  daemon_ = 0;
}

TEST_F(RealPidfile, AProgramThatCannotBeRunIsAnErrorAndNoPidFile) {
  exec::LocalRunner runner;
  auto started = runner.Start({dir_ + "/no-such-daemon"}, dir_ + "/log", pidfile_);
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message.find("no-such-daemon"), std::string::npos)
      << started.error().message;
  EXPECT_FALSE(exec::FileExists(pidfile_));
}

}  // namespace
}  // namespace vpcctl
