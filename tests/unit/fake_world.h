// A controller with its state in a temporary directory and a scripted SSH world (FakeClient) of
// Linux hosts that answer like real ones: what enrolment and fan-out tests build on.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "fake_client.h"
#include "fake_prober.h"
#include "fake_runner.h"
#include "testing.h"
#include "vpcctl/base/text.h"
#include "vpcctl/fabric/init.h"
#include "vpcctl/fabric/nodes.h"
#include "vpcctl/fabric/vpcs.h"
#include "vpcctl/model/reports.h"
#include "vpcctl/ssh/client.h"
#include "vpcctl/ssh/keys.h"
#include "vpcctl/store/state_dir.h"

namespace vpcctl::fabric {

const ssh::HostKey kKeyA{"ssh-ed25519",
                         "AAAAC3NzaC1lZDI1NTE5AAAAIGJ0h4w6yHLNzXI+TcAYnhFN0TfIBbnUMRYR2lkHIX1V"};
const ssh::HostKey kKeyB{"ssh-ed25519",
                         "AAAAC3NzaC1lZDI1NTE5AAAAIK4LZ3mZZ+qsZ1Q/Ga4xLzWvXy0rgVJL8YZqBLpMvlSk"};

class ScriptedTerminal : public exec::Terminal {
 public:
  bool interactive = false;
  bool answer = false;
  std::string secret;
  bool Interactive() const override { return interactive; }
  Result<std::string> ReadSecret(const std::string&) override { return secret; }
  Result<bool> Confirm(const std::string&) override { return answer; }
};

class FakeWorld : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vpcctl-enrol-XXXXXX";
    dir_ = mkdtemp(tmpl);
    ctx_ = std::make_unique<Context>(Context{store::StatePaths{dir_ + "/state"}, runner_, ssh_,
                                             term_, io_, prober_, "vpcctl test"});
    InitOptions init;
    init.name = "h1";
    init.addresses = {"192.0.2.200"};
    init.mtu = "1500";
    ASSERT_TRUE(Init(*ctx_, init).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A Linux host at `ip` whose sshd accepts `password`, answering like a real one.
  // Installing our key (the sh -s script) makes the host accept it, as a real sshd would.
  // Commands it does not know go to `other` (vpcctl's node side, for fan-out tests).
  ssh::FakeClient::Host LinuxHost(const ssh::HostKey& key, const std::string& ip) {
    ssh::FakeClient::Host h;
    h.key = key;
    h.password = "s3cret";
    h.handler = [this, ip](const std::string& line, const std::string& input) {
      ssh::RemoteResult r{0, "", "", false, 1.0};
      if (StartsWith(line, "'sh' '-s' '--'")) {
        if (input.find("authorized_keys") != std::string::npos) {
          ++authorized_;
          if (input.find("echo added") != std::string::npos) TrustOurKey(ip);
        }
        r.out = installed_++ == 0 ? "added\n" : "present\n";
      } else if (line.find("'uname' '-s'") != std::string::npos) {
        r.out = "Linux\n";
      } else if (line.find("'ip' '-j' '-d' 'addr'") != std::string::npos) {
        r.out = testing::ReadData("fixtures/linux/h1-vpc1.ip-d-addr.json");
      } else if (line.find("'ip' '-j' '-d' 'link'") != std::string::npos) {
        r.out = testing::ReadData("fixtures/linux/h1-vpc1.ip-link.json");
      } else if (line.find("'ip' '-j' 'addr'") != std::string::npos) {
        r.out = testing::ReadData("fixtures/linux/h1-vpc1.ip-addr.json");
      } else if (line.find("'ip' '-j' 'netns' 'list'") != std::string::npos) {
        r.out = "[]";
      } else if (line.find("'route' 'get'") != std::string::npos) {
        // The source of its routes, as a host behind NAT has one (route_source_).
        auto src = route_source_.find(ip);
        if (src == route_source_.end()) {
          r.exit_status = 2;
          r.err = "RTNETLINK answers: Network is unreachable\n";
        } else {
          r.out =
              "[{\"dst\":\"0.0.0.0\",\"gateway\":\"192.0.2.254\",\"dev\":\"eth0\","
              "\"prefsrc\":\"" +
              src->second + "\",\"flags\":[],\"uid\":0,\"cache\":[]}]";
        }
      } else if (line.find("'bridge'") != std::string::npos) {
        r.out = testing::ReadData("fixtures/linux/h1-vpc1.bridge-link.json");
      } else if (line.find("'--version'") != std::string::npos) {
        r.out = "0.1.0\n";
      } else if (other) {
        // Fan-outs ask many hosts at once; the tests' handlers record into shared state.
        std::lock_guard<std::mutex> lock(other_mu_);
        r = other(ip, line, input);
      } else {
        r.exit_status = 127;
      }
      return r;
    };
    return h;
  }

  // Enrols `name`, a Linux host at `ip` answering like a real one (LinuxHost), MTU 1500. Needs
  // WritePassword first.
  void EnrolLinux(const std::string& name, const std::string& ip) {
    ssh_.AddHost(ip, 22, LinuxHost(kKeyA, ip));
    TrustOurKey(ip);
    auto o = Add(name, ip);
    o.mtu = "1500";
    Status st = NodeAdd(*ctx_, o);
    ASSERT_TRUE(st.ok()) << st.error().message;
  }

  // Enrols the Linux hosts `names`, "hN" at 192.0.2.N each (EnrolLinux), password "s3cret".
  void EnrolHosts(std::initializer_list<const char*> names) {
    WritePassword("s3cret");
    for (const char* name : names) EnrolLinux(name, "192.0.2." + std::string(name).substr(1));
  }

  // A node's answer to `apply --json`: converged, generation 1, `changes` made.
  static model::ApplyReport Converged(const std::string& node, uint64_t changes = 0) {
    model::ApplyReport a;
    a.node = node;
    a.generation = 1;
    a.changes = changes;
    a.converged = true;
    return a;
  }

  // A plain VPC `name` over `members` (a,b,...).
  void PlainVpc(const std::string& name, const std::string& network, const std::string& members) {
    VpcInitOptions v;
    v.name = name;
    v.peer_network = network;
    v.members = members;
    v.plain = true;
    Status st = VpcInit(*ctx_, v);
    ASSERT_TRUE(st.ok()) << st.error().message;
  }

  // The fabric as the controller's database holds it now.
  model::Fabric Stored() {
    auto s = Session::Read(*ctx_);
    EXPECT_TRUE(s.ok());
    return s.ok() ? (*s)->fabric : model::Fabric{};
  }

  void WritePassword(const std::string& pw) { std::ofstream(dir_ + "/pw") << pw << "\n"; }

  NodeAddOptions Add(const std::string& name, const std::string& addr) {
    NodeAddOptions o;
    o.name = name;
    o.address = addr;
    o.password_file = dir_ + "/pw";
    o.yes = true;
    return o;
  }

  // Grants our key on the fake host (what installing it does on a real one).
  void TrustOurKey(const std::string& host) {
    ssh_.Find(host, 22)->accepted_identities.insert(dir_ + "/state/id_ed25519");
  }

  std::string dir_;
  // Host address -> the source address `ip route get` gives there (hosts behind NAT).
  std::map<std::string, std::string> route_source_;
  exec::FakeRunner runner_;
  testing::FakeProber prober_;
  ssh::FakeClient ssh_;
  ScriptedTerminal term_;
  std::ostringstream out_, err_;
  std::istringstream in_;
  Output io_{in_, out_, err_, false};
  std::unique_ptr<Context> ctx_;
  int installed_ = 0;
  int authorized_ = 0;
  std::function<ssh::RemoteResult(const std::string& ip, const std::string& line,
                                  const std::string& input)>
      other;
  std::mutex other_mu_;
};

}  // namespace vpcctl::fabric
