// 200 random member add/remove and vpc init/delete operations through the fabric operations on
// a real state database; after each, the invariant checker finds nothing, and every allocation
// that survived an operation is unchanged (sticky).
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <sstream>

#include "fake_client.h"
#include "fake_prober.h"
#include "fake_runner.h"
#include "testing.h"
#include "vpcctl/base/text.h"
#include "vpcctl/fabric/init.h"
#include "vpcctl/fabric/nodes.h"
#include "vpcctl/fabric/state_check.h"
#include "vpcctl/fabric/vpcs.h"

namespace vpcctl::fabric {
namespace {

TEST(RandomOps, TwoHundredOperationsKeepEveryInvariant) {
  char tmpl[] = "/tmp/vpcctl-random-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  exec::FakeRunner runner;
  ssh::FakeClient ssh;
  exec::NoTerminal term;
  std::istringstream in;
  std::ostringstream out, err;
  Output io{in, out, err, false};
  testing::FakeProber prober;
  Context ctx{store::StatePaths{dir + "/state"}, runner, ssh, term, io, prober, "random ops"};
  InitOptions init;
  init.name = "n0";
  init.addresses = {"198.18.0.1", "2001:db8::1"};
  init.mtu = "1500";
  init.vni_range = "100-600";
  ASSERT_TRUE(Init(ctx, init).ok());
  std::vector<std::string> nodes = {"n0"};
  for (int i = 1; i < 10; ++i) {
    NodeAddOptions o;
    o.name = "n" + std::to_string(i);
    o.address = "198.18.0." + std::to_string(i + 1);
    o.no_connect = true;
    o.platform = i % 3 ? "linux" : "freebsd";
    if (i % 2) o.underlay = {o.address, "2001:db8::" + std::to_string(i + 1)};
    ASSERT_TRUE(NodeAdd(ctx, o).ok());
    nodes.push_back(o.name);
  }
  std::mt19937 rng(20261122);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  // What we saw allocated: (vpc, a, b) -> VNI and (vpc, node) -> overlay address.
  std::map<std::tuple<std::string, std::string, std::string>, uint32_t> vnis;
  std::map<std::pair<std::string, std::string>, std::string> overlays;
  int applied = 0, refused = 0;
  for (int op = 0; op < 200; ++op) {
    auto s = Session::Read(ctx);
    ASSERT_TRUE(s.ok());
    const model::Fabric f = (*s)->fabric;
    s->reset();
    Status st;
    int kind = static_cast<int>(pick(10));
    if (f.vpcs.empty() || kind == 0) {
      VpcInitOptions o;
      o.name = "v" + std::to_string(op);
      o.peer_network = "10." + std::to_string(op % 250) + ".0.0/" + (pick(2) ? "24" : "28");
      std::vector<std::string> members;
      for (const auto& n : nodes)
        if (pick(2)) members.push_back(n);
      if (members.empty()) members.push_back(nodes[pick(nodes.size())]);
      o.members = Join(members, ",");
      st = VpcInit(ctx, o);
    } else if (kind == 1) {
      st = VpcDelete(ctx, f.vpcs[pick(f.vpcs.size())].name);
    } else if (kind < 6) {
      st = VpcMemberAdd(ctx, f.vpcs[pick(f.vpcs.size())].name, nodes[pick(nodes.size())]);
    } else {
      const auto& v = f.vpcs[pick(f.vpcs.size())];
      st = VpcMemberRemove(ctx, v.name,
                           v.members.empty() ? "n0" : v.members[pick(v.members.size())].node);
    }
    (st.ok() ? applied : refused)++;
    auto db = store::Store::Open(dir + "/state/vpcctl.db", false, nullptr);
    ASSERT_TRUE(db.ok());
    auto problems = FindStateProblems(**db);
    ASSERT_TRUE(problems.ok());
    ASSERT_TRUE(problems->empty()) << "after operation " << op << ": " << Join(*problems, "; ");
    auto now = (*db)->LoadFabric();
    ASSERT_TRUE(now.ok());
    // Sticky: everything still present kept its VNI and address.
    std::map<std::tuple<std::string, std::string, std::string>, uint32_t> vnis_now;
    std::map<std::pair<std::string, std::string>, std::string> overlays_now;
    for (const auto& v : now->vpcs) {
      for (const auto& t : v.tunnels) vnis_now[{v.name, t.a, t.b}] = t.vni;
      for (const auto& m : v.members) overlays_now[{v.name, m.node}] = m.overlay.ToString();
    }
    for (const auto& [k, vni] : vnis_now) {
      auto it = vnis.find(k);
      if (it != vnis.end()) {
        ASSERT_EQ(it->second, vni) << "tunnel renumbered at operation " << op;
      }
    }
    for (const auto& [k, a] : overlays_now) {
      auto it = overlays.find(k);
      if (it != overlays.end()) {
        ASSERT_EQ(it->second, a) << "overlay address changed at operation " << op;
      }
    }
    vnis = vnis_now;
    overlays = overlays_now;
  }
  EXPECT_GT(applied, 100);
  EXPECT_GT(refused, 0) << "some operations should hit a limit (exhaustion, duplicates)";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vpcctl::fabric
