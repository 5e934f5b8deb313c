// The system log client: RFC 3164 datagrams on a local socket, one line each, escaped.
#include "vpcctl/exec/syslog.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

namespace vpcctl::exec {
namespace {

class SysLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vpcctl-syslog-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/log";
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd_, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    ASSERT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    timeval tv{2, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  void TearDown() override {
    close(fd_);
    std::filesystem::remove_all(dir_);
  }
  std::string Receive() {
    char buf[4096];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }
  std::string dir_, path_;
  int fd_ = -1;
};

TEST_F(SysLogTest, SendsOneRfc3164LinePerMessageAsTheDaemonFacility) {
  SysLog log("vpcctl-vipd", path_);
  log.Send(LOG_NOTICE, "vpc1/10 10.100.0.250 -> MASTER (lease granted)");
  std::string got = Receive();
  // <PRI> is facility daemon (3) * 8 + notice (5) = 29.
  EXPECT_EQ(got.rfind("<29>", 0), 0u) << got;
  std::string tail = " vpcctl-vipd[" + std::to_string(getpid()) +
                     "]: vpc1/10 10.100.0.250 -> MASTER (lease granted)";
  ASSERT_GE(got.size(), tail.size());
  EXPECT_EQ(got.substr(got.size() - tail.size()), tail) << got;
  log.Send(LOG_ERR, "failed:\nline two\x1b[2J");
  got = Receive();
  EXPECT_EQ(got.rfind("<27>", 0), 0u) << got;
  EXPECT_EQ(got.find('\n'), std::string::npos) << got;
  EXPECT_EQ(got.find('\x1b'), std::string::npos) << got;
}

TEST_F(SysLogTest, NoLogSocketIsNoError) {
  SysLog log("vpcctl-vipd", dir_ + "/absent");
  log.Send(LOG_INFO, "nobody listens");  // returns; nothing to assert but that it does not fail
  SysLog listening("vpcctl-vipd", path_);
  listening.Send(LOG_INFO, "after");
  EXPECT_NE(Receive().find("after"), std::string::npos);
}

}  // namespace
}  // namespace vpcctl::exec
