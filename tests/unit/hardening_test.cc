// Secrets stay out of every output unless --show-secrets, and state files keep their modes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "testing.h"
#include "vpcctl/base/text.h"
#include "vpcctl/exec/files.h"
#include "vpcctl/exec/runner.h"
#include "vpcctl/store/state_dir.h"

namespace vpcctl {
namespace {

class Hardening : public testing::BinaryTest {
 protected:
  unsigned Mode(const std::string& path) {
    struct stat st {};
    stat(path.c_str(), &st);
    return st.st_mode & 0777;
  }
};

TEST_F(Hardening, NoCommandPrintsASecretOrKeyMaterialUnlessAsked) {
  Ok({"init", "--name", "h1", "--address", "192.0.2.1", "--mtu", "1500"});
  Ok({"node", "add", "h2", "192.0.2.2", "--no-connect", "--platform", "freebsd"});
  Ok({"node", "add", "h3", "192.0.2.3", "--no-connect", "--platform", "linux"});
  Ok({"node", "add", "h4", "192.0.2.4", "--no-connect", "--platform", "freebsd"});
  Ok({"vpc", "init", "vpc1", "--peer-network", "10.100.0.0/24", "--members", "all"});
  Ok({"vpc", "init", "vpc2", "--peer-network", "10.200.0.0/24", "--members", "h2,h4"});
  const std::string linux_secret = "LinuxSecret-7q2", bsd_secret = "BsdSecret-9x4";
  std::ofstream(dir_ + "/s1") << linux_secret << "\n";
  std::ofstream(dir_ + "/s2") << bsd_secret << "\n";
  Ok({"vip", "add", "vpc1", "10.100.0.250", "--vhid", "10", "--nodes", "h1,h3", "--password-file",
      dir_ + "/s1"});
  Ok({"vip", "add", "vpc2", "10.200.0.250", "--vhid", "20", "--nodes", "h2,h4",
      "--unsafe-two-node", "--password-file", dir_ + "/s2"});
  auto key = exec::ReadFile(state_ + "/id_ed25519");
  ASSERT_TRUE(key.ok());
  std::vector<std::string> key_lines;
  for (const auto& l : Split(*key, '\n'))
    if (!l.empty() && l.find("-----") == std::string::npos) key_lines.push_back(l);
  ASSERT_FALSE(key_lines.empty());
  std::vector<std::vector<std::string>> commands = {
      {"node", "list"}, {"node", "list", "--json"}, {"node", "show", "h2", "--json"},
      {"vpc", "list", "--json"}, {"vpc", "show", "vpc1"}, {"vpc", "show", "vpc2", "--json"},
      {"vip", "list"}, {"vip", "list", "--json"}, {"map", "export"},
      {"plan", "vpc1", "--node", "h1"}, {"plan", "vpc1", "--node", "h3", "--json"},
      {"plan", "vpc2", "--node", "h2"}, {"plan", "vpc2", "--node", "h4", "--json"},
      {"render", "rc.conf", "--node", "h2"}, {"render", "rc.conf", "--node", "h4"},
      {"state", "check", "--json"}, {"--help"}, {"vip", "--help"}};
  for (const auto& c : commands) {
    auto r = Run(c);
    std::string all = r.out + r.err;
    EXPECT_EQ(all.find(linux_secret), std::string::npos) << ShellLine(c);
    EXPECT_EQ(all.find(bsd_secret), std::string::npos) << ShellLine(c);
    for (const auto& l : key_lines) EXPECT_EQ(all.find(l), std::string::npos) << ShellLine(c);
  }
  // Asked for, they show.
  EXPECT_NE(Run({"vip", "list", "--show-secrets"}).out.find(linux_secret), std::string::npos);
  EXPECT_NE(Run({"map", "export", "--show-secrets"}).out.find(bsd_secret), std::string::npos);
  EXPECT_NE(Run({"plan", "vpc2", "--node", "h2", "--show-secrets"}).out.find(bsd_secret),
            std::string::npos);
  EXPECT_NE(Run({"render", "rc.conf", "--node", "h4", "--show-secrets"}).out.find(bsd_secret),
            std::string::npos);
}

TEST_F(Hardening, StateFilesAreCreatedTightAndTightenedWithAWarning) {
  Ok({"init", "--name", "h1", "--address", "192.0.2.1", "--mtu", "1500"});
  std::ofstream(state_ + "/known_hosts") << "# pins\n";
  chmod((state_ + "/known_hosts").c_str(), 0600);
  EXPECT_EQ(Mode(state_), 0700u);
  for (const char* f : {"/vpcctl.db", "/id_ed25519", "/known_hosts", "/lock"}) {
    EXPECT_EQ(Mode(state_ + f), 0600u) << f;
  }
  chmod(state_.c_str(), 0755);
  for (const char* f : {"/vpcctl.db", "/id_ed25519", "/known_hosts"}) {
    chmod((state_ + f).c_str(), 0644);
  }
  auto r = Run({"node", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* f : {"/vpcctl.db", "/id_ed25519", "/known_hosts"}) {
    EXPECT_EQ(Mode(state_ + f), 0600u) << f;
    EXPECT_NE(r.err.find(state_ + f + " had mode 0644; tightened to 0600"), std::string::npos)
        << f << "\n" << r.err;
  }
  EXPECT_EQ(Mode(state_), 0700u);
  EXPECT_NE(r.err.find("had mode 0755; tightened to 0700"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("vpcctl: error"), std::string::npos);
}

TEST_F(Hardening, CommandsRefuseAStateDirectoryThatIsNotVpcctlsAndLeaveItAlone) {
  std::string lib = dir_ + "/lib";
  std::filesystem::create_directories(lib + "/dpkg");
  std::ofstream(lib + "/notes") << "mine\n";
  chmod(lib.c_str(), 0755);
  auto listing = [&] {
    std::string out;
    for (const auto& e : std::filesystem::directory_iterator(lib)) out += e.path().string() + ";";
    return out;
  };
  const std::string before = listing();
  for (std::vector<std::string> args :
       {std::vector<std::string>{"init", "--name", "h1", "--address", "192.0.2.1"},
        {"wg-key"}, {"apply", "--local"}, {"vip-event", "carp", "10@vpc1", "MASTER"}}) {
    exec::Argv argv = {VPCCTL_BINARY, "--state-dir", lib};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = exec::LocalRunner().Run(argv, "", std::chrono::seconds(30));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->exit_code, 2) << ShellLine(args) << "\n" << r->err;
    EXPECT_NE(r->err.find("state directory " + lib + " (mode 0755) is not empty and not a vpcctl "
                          "state directory: it holds 'dpkg', 'notes'"),
              std::string::npos)
        << ShellLine(args) << "\n" << r->err;
  }
  EXPECT_EQ(Mode(lib), 0755u);
  EXPECT_EQ(listing(), before);
}

}  // namespace
}  // namespace vpcctl
