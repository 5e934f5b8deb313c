// Shared helpers for the unit tests: a sample fabric, fixtures and golden files.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <filesystem>
#include <vector>

#include "vpcctl/alloc/alloc.h"
#include "vpcctl/alloc/vip.h"
#include "vpcctl/base/text.h"
#include "vpcctl/exec/runner.h"
#include "vpcctl/model/fabric.h"

namespace vpcctl::testing {

inline net::IpAddress Ip(const std::string& s) { return *net::IpAddress::Parse(s); }
inline net::Cidr Net(const std::string& s) { return *net::Cidr::Parse(s); }

inline model::Node MakeNode(const std::string& name, model::Platform p, const std::string& v4,
                            const std::string& v6, int mtu = 1500) {
  model::Node n;
  n.name = name;
  n.platform = p;
  n.ssh_host = v4.empty() ? v6 : v4;
  if (!v4.empty()) n.underlay4 = Ip(v4);
  if (!v6.empty()) n.underlay6 = Ip(v6);
  n.mtu = mtu;
  return n;
}

// h1 linux (dual stack), h2 freebsd (IPv4 only), h3 linux (dual stack, MTU 9000), h4 freebsd
// (dual stack): vpc1 over h1..h3 has one IPv6 pair (h1-h3) and two IPv4 pairs.
inline model::Fabric SampleNodes() {
  model::Fabric f;
  f.nodes.push_back(MakeNode("h1", model::Platform::kLinux, "192.0.2.1", "2001:db8::1"));
  f.nodes.push_back(MakeNode("h2", model::Platform::kFreeBSD, "192.0.2.2", ""));
  f.nodes.push_back(MakeNode("h3", model::Platform::kLinux, "192.0.2.3", "2001:db8::3", 9000));
  f.nodes.push_back(MakeNode("h4", model::Platform::kFreeBSD, "192.0.2.4", "2001:db8::4"));
  f.nodes[0].is_local = true;
  return f;
}

// vpc1 (10.100.0.0/24) over h1, h2, h3 of SampleNodes(), encrypted, every WireGuard key reported.
inline model::Fabric EncryptedSample() {
  model::Fabric f = SampleNodes();
  alloc::VpcSpec spec;
  spec.name = "vpc1";
  spec.peer_network = *net::Cidr::Parse("10.100.0.0/24");
  spec.members = {"h1", "h2", "h3"};
  EXPECT_TRUE(alloc::CreateVpc(f, spec, 1).ok());
  f.nodes[0].wg_public_key = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
  f.nodes[1].wg_public_key = "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=";
  f.nodes[2].wg_public_key = "gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdyYBz6EA=";
  return f;
}

inline model::Fabric SampleFabric() {
  model::Fabric f = SampleNodes();
  alloc::VpcSpec spec;
  spec.name = "vpc1";
  spec.peer_network = Net("10.100.0.0/24");
  spec.members = {"h1", "h2", "h3"};
  spec.encrypted = false;
  auto st = alloc::CreateVpc(f, spec, 1);
  EXPECT_TRUE(st.ok()) << st.error().message;
  return f;
}

// A VIP of `vpc` on `nodes` (preferred first) with the secret "secret1" and the defaults.
inline alloc::VipSpec MakeVipSpec(const std::string& vpc, const std::string& address, int vhid,
                                  std::vector<std::string> nodes) {
  alloc::VipSpec s;
  s.vpc = vpc;
  s.address = address;
  s.vhid = vhid;
  s.nodes = std::move(nodes);
  s.secret = "secret1";
  return s;
}

// "ok" when `s` is added to `f`, else the refusal's message, which must be a usage error.
inline std::string VipAddError(model::Fabric& f, const alloc::VipSpec& s) {
  auto st = alloc::AddVip(f, s);
  if (st.ok()) return "ok";
  EXPECT_EQ(st.error().code, Exit::kUsage) << st.error().message;
  return st.error().message;
}

inline std::string DataPath(const std::string& rel) { return std::string(VPCCTL_TEST_DATA) + "/" + rel; }

inline std::string ReadData(const std::string& rel) {
  std::ifstream in(DataPath(rel), std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing test data " << rel;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Compares `actual` with tests/golden/<rel>; VPCCTL_UPDATE_GOLDEN=1 rewrites the file instead.
inline void ExpectGolden(const std::string& rel, const std::string& actual) {
  std::string path = DataPath("golden/" + rel);
  if (const char* u = std::getenv("VPCCTL_UPDATE_GOLDEN"); u && std::string(u) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in.good()) << "missing golden file " << path
                         << " (run the tests with VPCCTL_UPDATE_GOLDEN=1 to create it)";
  std::ostringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), actual) << "golden file " << path << " differs";
}

// True when a process of group `pgid` is alive (Linux /proc). Zombies do not count: killed
// grandchildren are reparented to init, which may reap them late.
inline bool LiveProcessInGroup(int pgid) {
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::ifstream stat(e.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    auto close = line.rfind(')');
    if (close == std::string::npos || close + 2 >= line.size()) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    int ppid = 0, pgrp = 0;
    rest >> state >> ppid >> pgrp;
    if (pgrp == pgid && state != 'Z') return true;
  }
  return false;
}

// Runs the vpcctl binary on a scratch state directory, removed afterwards.
class BinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vpcctl-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    state_ = dir_ + "/state";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  exec::CommandResult Run(std::vector<std::string> args) {
    exec::Argv argv = {VPCCTL_BINARY, "--state-dir", state_};
    argv.insert(argv.end(), args.begin(), args.end());
    exec::LocalRunner runner;
    auto r = runner.Run(argv, "", std::chrono::seconds(30));
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : exec::CommandResult{};
  }

  void Ok(std::vector<std::string> args) {
    auto r = Run(args);
    ASSERT_EQ(r.exit_code, 0) << ShellLine(args) << "\n" << r.err;
  }

  std::string dir_;
  std::string state_;
};

}  // namespace vpcctl::testing
