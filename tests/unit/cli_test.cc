// The vpcctl binary end to end on a scratch state directory: the foundation's must-show scenario
// and every bad-input case (message naming the value, exit code 2, database unchanged).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "testing.h"
#include "vpcctl/base/text.h"
#include "vpcctl/exec/files.h"
#include "vpcctl/exec/runner.h"
#include "vpcctl/fabric/format.h"
#include "vpcctl/fabric/vip_args.h"
#include "vpcctl/store/state_dir.h"
#include "vpcctl/store/store.h"

namespace vpcctl {
namespace {

using json = nlohmann::json;

class Cli : public testing::BinaryTest {
 protected:
  // Four nodes: h1 (local, dual stack), h2 (FreeBSD, IPv4), h3 (dual stack), h4 (dual stack).
  void InitFabric(bool with_h4 = true) {
    Ok({"init", "--name", "h1", "--address", "192.0.2.1", "--address", "2001:db8::1", "--mtu",
        "1500"});
    Ok({"node", "add", "h2", "192.0.2.2", "--no-connect", "--platform", "freebsd"});
    Ok({"node", "add", "h3", "2001:db8::3", "--underlay", "2001:db8::3", "--underlay",
        "192.0.2.3", "--no-connect", "--platform", "linux"});
    if (with_h4) {
      Ok({"node", "add", "h4", "192.0.2.4", "--underlay", "192.0.2.4", "--underlay", "2001:db8::4",
          "--no-connect", "--platform", "linux"});
    }
  }

  // Everything the database holds, generation included.
  std::string Snapshot() {
    auto s = store::Store::Open(state_ + "/vpcctl.db", false, nullptr);
    if (!s.ok()) return "no database: " + s.error().message;
    auto f = (*s)->LoadFabric();
    if (!f.ok()) return "unreadable: " + f.error().message;
    json j;
    j["generation"] = f->generation;
    for (const auto& n : f->nodes) j["nodes"].push_back(fabric::NodeJson(n));
    for (const auto& v : f->vpcs) {
      j["vpcs"].push_back(fabric::VpcJson(*f, v));
      for (const auto& vip : v.vips) j["vips"].push_back(fabric::VipJson(v, vip, true));
    }
    return j.dump();
  }

  // A bad input: exit 2, a message naming `value`, and not one byte of state changed.
  void Refused(std::vector<std::string> args, const std::string& value) {
    std::string before = Snapshot();
    auto r = Run(args);
    EXPECT_EQ(r.exit_code, 2) << ShellLine(args) << "\nstderr: " << r.err;
    EXPECT_NE(r.err.find(value), std::string::npos)
        << ShellLine(args) << "\nexpected the message to name " << value << "\nstderr: " << r.err;
    EXPECT_EQ(r.err.rfind("vpcctl: error: ", 0), 0u) << r.err;
    EXPECT_EQ(Snapshot(), before) << ShellLine(args) << " changed the database";
  }
};

TEST_F(Cli, CommandsBeforeInitSayToRunInit) {
  for (auto args : std::vector<std::vector<std::string>>{
           {"node", "list"}, {"vpc", "list"}, {"plan", "vpc1"}, {"vpc", "show", "vpc1"}}) {
    auto r = Run(args);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("run `vpcctl init"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(state_ + "/vpcctl.db"));
}

TEST_F(Cli, InitCreatesStateKeysAndModes) {
  auto r = Run({"init", "--name", "h1", "--address", "192.0.2.1", "--mtu", "1500", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["name"], "h1");
  EXPECT_EQ(j["vni_range"], "100-16777215");
  EXPECT_EQ(j["public_key"].get<std::string>().rfind("ssh-ed25519 AAAA", 0), 0u);
  EXPECT_NE(j["public_key"].get<std::string>().find("vpcctl@h1"), std::string::npos);
  for (auto [file, mode] : {std::pair{"", 0700u}, {"/vpcctl.db", 0600u}, {"/id_ed25519", 0600u}}) {
    auto st = std::filesystem::status(state_ + file);
    EXPECT_EQ(static_cast<unsigned>(st.permissions()) & 0777u, mode) << file;
  }
  auto again = Run({"init", "--name", "h1", "--address", "192.0.2.1"});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("already initialised"), std::string::npos);
}

TEST_F(Cli, InitRefusesBadUnderlayAddressesAndMakesNothing) {
  Refused({"init", "--name", "h1", "--address", "192.0.2.1", "--address", "192.0.2.9"},
          "two ipv4 underlay addresses given (192.0.2.1, 192.0.2.9)");
  Refused({"init", "--name", "h1", "--address", "224.0.0.5"},
          "invalid underlay address '224.0.0.5': must be a unicast address");
  Refused({"init", "--name", "h1", "--address", "192.0.2.1", "--address", "not-an-ip"},
          "invalid underlay address 'not-an-ip'");
  EXPECT_FALSE(std::filesystem::exists(state_ + "/vpcctl.db"));
}

TEST_F(Cli, VpcShowListsTunnelsAndSurvivesMemberAddAndRemove) {
  InitFabric(false);
  Ok({"vpc", "init", "vpc1", "--peer-network", "10.100.0.0/24", "--members", "all"});
  auto first = Run({"vpc", "show", "vpc1", "--json"});
  ASSERT_EQ(first.exit_code, 0);
  json a = json::parse(first.out);
  ASSERT_EQ(a["tunnels"].size(), 3u);
  ASSERT_EQ(a["members"].size(), 3u);
  std::set<uint32_t> vnis;
  std::set<std::string> overlays;
  for (const auto& t : a["tunnels"]) {
    vnis.insert(t["vni"].get<uint32_t>());
    ASSERT_EQ(t["ends"].size(), 2u);
    EXPECT_EQ(t["ends"][0]["interface"], "vx" + std::to_string(t["vni"].get<uint32_t>()));
    EXPECT_EQ(t["ends"][1]["interface"], t["ends"][0]["interface"]);
  }
  for (const auto& m : a["members"]) overlays.insert(m["overlay"].get<std::string>());
  EXPECT_EQ(vnis.size(), 3u);
  EXPECT_EQ(overlays.size(), 3u);

  Ok({"node", "add", "h4", "192.0.2.4", "--no-connect", "--platform", "linux"});
  Ok({"vpc", "member", "add", "vpc1", "h4"});
  json b = json::parse(Run({"vpc", "show", "vpc1", "--json"}).out);
  ASSERT_EQ(b["tunnels"].size(), 6u);
  for (const auto& t : a["tunnels"]) {
    bool kept = false;
    for (const auto& u : b["tunnels"]) kept = kept || u == t;
    EXPECT_TRUE(kept) << t.dump();
  }
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(b["members"][i], a["members"][i]);
  int new_tunnels = 0;
  for (const auto& u : b["tunnels"]) {
    bool has_h4 = u["ends"][0]["node"] == "h4" || u["ends"][1]["node"] == "h4";
    new_tunnels += has_h4;
    EXPECT_EQ(vnis.count(u["vni"].get<uint32_t>()), has_h4 ? 0u : 1u);
  }
  EXPECT_EQ(new_tunnels, 3);

  Ok({"vpc", "member", "remove", "vpc1", "h4"});
  json c = json::parse(Run({"vpc", "show", "vpc1", "--json"}).out);
  a.erase("generation");
  c.erase("generation");
  EXPECT_EQ(c, a);
}

TEST_F(Cli, PlanForAFreeBsdNodeIsolatesTunnelsAndAddressesTheBridge) {
  InitFabric();
  Ok({"vpc", "init", "vpc1", "--peer-network", "10.100.0.0/24", "--members", "h1,h2,h3"});
  auto r = Run({"plan", "vpc1", "--node", "h2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("ifconfig vpc1 addm vx100 private vx100"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ifconfig vpc1 addm vx102 private vx102"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ifconfig vpc1 inet 10.100.0.2/24 alias"), std::string::npos);
  auto j = json::parse(Run({"plan", "vpc1", "--node", "h2", "--json"}).out);
  EXPECT_EQ(j["platform"], "freebsd");
  // The firewall first, then WireGuard (the VPC is encrypted), then the tunnels.
  EXPECT_EQ(j["steps"][0]["action"], "load-firewall");
  EXPECT_EQ(j["steps"][1]["action"], "create-wireguard");
  json tunnel;
  for (const auto& step : j["steps"])
    if (step["action"] == "create-tunnel" && tunnel.is_null()) tunnel = step;
  ASSERT_FALSE(tunnel.is_null());
  EXPECT_EQ(tunnel["commands"][1], json({"ifconfig", "vxlan100", "name", "vx100"}));
  // Encrypted: the tunnel runs between transport addresses, with learning off.
  auto create = tunnel["commands"][0].get<std::vector<std::string>>();
  EXPECT_NE(std::find(create.begin(), create.end(), "-vxlanlearn"), create.end());
  EXPECT_NE(std::find(create.begin(), create.end(), "10.255.0.2"), create.end());
  auto rc = Run({"render", "rc.conf", "--node", "h2"});
  ASSERT_EQ(rc.exit_code, 0);
  EXPECT_NE(rc.out.find("ifconfig_vxlan100_name=\"vx100\""), std::string::npos);
  auto linux_rc = Run({"render", "rc.conf", "--node", "h1"});
  EXPECT_EQ(linux_rc.exit_code, 2);
  EXPECT_NE(linux_rc.err.find("'h1' runs linux"), std::string::npos);
  auto not_member = Run({"plan", "vpc1", "--node", "h4"});
  EXPECT_EQ(not_member.exit_code, 2);
  EXPECT_NE(not_member.err.find("not a member"), std::string::npos);
}

TEST_F(Cli, ListingsHaveJson) {
  InitFabric();
  Ok({"vpc", "init", "vpc1", "--peer-network", "10.100.0.0/24", "--members", "all"});
  auto nodes = json::parse(Run({"node", "list", "--json"}).out);
  ASSERT_EQ(nodes["nodes"].size(), 4u);
  EXPECT_EQ(nodes["nodes"][0]["local"], true);
  EXPECT_EQ(nodes["nodes"][2]["underlay"]["ipv6"], "2001:db8::3");
  EXPECT_EQ(nodes["nodes"][1]["underlay"]["ipv6"], nullptr);
  auto vpcs = json::parse(Run({"vpc", "list", "--json"}).out);
  EXPECT_EQ(vpcs["vpcs"][0]["tunnels"], 6);
  auto show = json::parse(Run({"node", "show", "h3", "--json"}).out);
  EXPECT_EQ(show["vpcs"], json({"vpc1"}));
  EXPECT_EQ(show["platform"], "linux");
}

TEST_F(Cli, BadNamesAreRefused) {
  InitFabric();
  Ok({"vpc", "init", "vpc1", "--peer-network", "10.100.0.0/24", "--members", "h1,h2"});
  for (const char* name : {"H5", "abcdefghijklmnopqrstuvwxyz0123456", "h;5", "h 5", "h'5",
                           "h\"5", "h$(id)", "h`id`", "h|5"}) {
    Refused({"node", "add", name, "192.0.2.50", "--no-connect", "--platform", "linux"},
            std::string("invalid node name '") + name + "'");
  }
  Refused({"node", "add", "", "192.0.2.50", "--no-connect", "--platform", "linux"},
          "invalid node name ''");
  for (const char* name : {"VPC2", "abcdefghijklm", "v;2", "v 2", "v'2", "vx7", "bridge0"}) {
    Refused({"vpc", "init", name, "--peer-network", "10.7.0.0/24", "--members", "all"},
            std::string("invalid VPC name '") + name + "'");
  }
  Refused({"node", "add", "h5", "192.0.2.50", "--user", "r;oot", "--no-connect", "--platform",
           "linux"},
          "'r;oot'");
  Refused({"vpc", "init", "vpc2", "--peer-network", "10.7.0.0/24", "--members", "h1,h$(x)"},
          "'h$(x)'");
  Refused({"node", "add", "h5", "192.0.2.50", "--no-connect", "--platform", "openbsd"},
          "'openbsd'");
}

TEST_F(Cli, BadCidrsAndTooSmallNetworksAreRefused) {
  InitFabric();
  Refused({"vpc", "init", "vpc2", "--peer-network", "10.7.0.1/24", "--members", "all"},
          "'10.7.0.1/24': host bits are set");
  Refused({"vpc", "init", "vpc2", "--peer-network", "10.7.0/24", "--members", "all"}, "'10.7.0/24'");
  Refused({"vpc", "init", "vpc2", "--peer-network", "10.7.0.0", "--members", "all"}, "'10.7.0.0'");
  Refused({"vpc", "init", "vpc2", "--peer-network", "10.7.0.0/30", "--members", "all"},
          "10.7.0.0/30");
  Ok({"vpc", "init", "vpc2", "--peer-network", "10.7.0.0/30", "--members", "h1,h2"});
  Refused({"vpc", "member", "add", "vpc2", "h3"}, "10.7.0.0/30");
  Refused({"node", "add", "h5", "192.0.2.50", "--underlay", "192.0.2.5/24", "--no-connect",
           "--platform", "linux"},
          "'192.0.2.5/24'");
}

TEST_F(Cli, BadAndExhaustedVniRangesAreRefused) {
  for (const char* range : {"5-1", "abc", "0-10", "1-99999999"}) {
    auto r = Run({"init", "--name", "h1", "--address", "192.0.2.1", "--vni-range", range});
    EXPECT_EQ(r.exit_code, 2) << range;
    EXPECT_NE(r.err.find(std::string("'") + range + "'"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(state_ + "/vpcctl.db")) << "state written for " << range;
  }
  Ok({"init", "--name", "h1", "--address", "192.0.2.1", "--vni-range", "100-101", "--mtu",
      "1500"});
  Ok({"node", "add", "h2", "192.0.2.2", "--no-connect", "--platform", "linux"});
  Ok({"node", "add", "h3", "192.0.2.3", "--no-connect", "--platform", "linux"});
  std::string before = Snapshot();
  auto r = Run({"vpc", "init", "vpc1", "--peer-network", "10.1.0.0/24", "--members", "all"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("100-101 is exhausted"), std::string::npos) << r.err;
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(Cli, BadMembersAreRefused) {
  InitFabric();
  Ok({"node", "add", "v6only", "2001:db8::66", "--no-connect", "--platform", "linux"});
  Ok({"vpc", "init", "vpc1", "--peer-network", "10.100.0.0/24", "--members", "h1,h2"});
  Refused({"vpc", "init", "vpc2", "--peer-network", "10.2.0.0/24", "--members", "h1,h9"}, "'h9'");
  Refused({"vpc", "init", "vpc2", "--peer-network", "10.2.0.0/24", "--members", "h1,h1"},
          "'h1' is given twice");
  Refused({"vpc", "member", "add", "vpc1", "h2"}, "'h2' is already a member");
  Refused({"vpc", "member", "add", "vpc1", "h9"}, "'h9'");
  Refused({"vpc", "member", "remove", "vpc1", "h4"}, "'h4' is not a member");
  Refused({"vpc", "init", "vpc2", "--peer-network", "10.2.0.0/24", "--members", "h2,v6only"},
          "no underlay address family in common");
  Refused({"vpc", "member", "add", "vpc1", "v6only"}, "'v6only'");
  Refused({"vpc", "init", "vpc2", "--peer-network", "10.2.0.0/24", "--members", "h1,h2",
           "--family", "ipv6"},
          "'h2' has no ipv6");
  Refused({"node", "remove", "h2"}, "'h2' is a member of VPC 'vpc1'");
  Refused({"vpc", "member", "add", "nope", "h3"}, "unknown VPC 'nope'");
}

TEST_F(Cli, DuplicatesAreRefused) {
  InitFabric();
  Ok({"vpc", "init", "vpc1", "--peer-network", "10.100.0.0/24", "--members", "all"});
  Refused({"node", "add", "h2", "192.0.2.99", "--no-connect", "--platform", "linux"},
          "node 'h2' already exists");
  Refused({"node", "add", "h5", "192.0.2.2", "--no-connect", "--platform", "linux"},
          "192.0.2.2");
  Refused({"node", "add", "h5", "198.51.100.5", "--underlay", "2001:db8::3", "--no-connect",
           "--platform", "linux"},
          "underlay address 2001:db8::3 already belongs to node 'h3'");
  Refused({"vpc", "init", "vpc1", "--peer-network", "10.101.0.0/24", "--members", "all"},
          "VPC 'vpc1' already exists");
  Refused({"vpc", "init", "vpc2", "--peer-network", "10.100.0.128/25", "--members", "h1,h2"},
          "overlaps 10.100.0.0/24");
  Refused({"node", "add", "h5", "192.0.2.50", "--underlay", "192.0.2.51", "--underlay",
           "192.0.2.52", "--no-connect", "--platform", "linux"},
          "two ipv4 underlay addresses");
}

TEST_F(Cli, OutOfRangeValuesAreRefused) {
  InitFabric();
  Refused({"vpc", "init", "vpc2", "--peer-network", "fd00::/64", "--members", "h1,h3", "--mtu",
           "1279"},
          "invalid MTU 1279");
  Refused({"vpc", "init", "vpc2", "--peer-network", "10.2.0.0/24", "--members", "h1,h2", "--mtu",
           "575"},
          "invalid MTU 575");
  Refused({"vpc", "init", "vpc2", "--peer-network", "10.2.0.0/24", "--members", "h1,h2", "--mtu",
           "9217"},
          "invalid MTU 9217");
  Refused({"vpc", "init", "vpc2", "--peer-network", "10.2.0.0/24", "--members", "h1,h2", "--mtu",
           "big"},
          "'big'");
  for (const char* port : {"0", "65536", "-1", "http"}) {
    Refused({"vpc", "init", "vpc2", "--peer-network", "10.2.0.0/24", "--members", "h1,h2",
             "--port", port},
            std::string("invalid port '") + port + "'");
    Refused({"node", "add", "h5", "192.0.2.50", "--port", port, "--no-connect", "--platform",
             "linux"},
            std::string("invalid port '") + port + "'");
  }
  Refused({"node", "add", "h5", "192.0.2.50", "--mtu", "100", "--no-connect", "--platform",
           "linux"},
          "invalid MTU '100'");
  Ok({"vpc", "init", "vpc2", "--peer-network", "fd00::/64", "--members", "h1,h3", "--mtu",
      "1280"});
}

TEST_F(Cli, EncryptionBadInputIsRefusedWithNothingChanged) {
  // --transport-network overlapping the underlay, at init: nothing is created.
  auto r = Run({"init", "--name", "h1", "--address", "10.77.0.1", "--transport-network",
                "10.77.0.0/16"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("10.77.0.0/16 contains the underlay address 10.77.0.1"), std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(state_ + "/vpcctl.db"));
  for (const char* bad : {"10.255.0.1/16", "10.255.0.0/31", "224.0.0.0/8", "nope"}) {
    auto b = Run({"init", "--name", "h1", "--address", "10.77.0.1", "--transport-network", bad});
    EXPECT_EQ(b.exit_code, 2) << bad;
    EXPECT_NE(b.err.find(bad), std::string::npos) << b.err;
  }
  auto port = Run({"init", "--name", "h1", "--address", "10.77.0.1", "--wireguard-port", "70000"});
  EXPECT_EQ(port.exit_code, 2);
  EXPECT_NE(port.err.find("'70000'"), std::string::npos);
  InitFabric();
  // A peer network overlapping the transport network, a --plain that contradicts --encrypted,
  // a VXLAN port that is WireGuard's, an underlay inside the transport network.
  Refused({"vpc", "init", "vpc1", "--peer-network", "10.255.7.0/24", "--members", "all"},
          "10.255.7.0/24");
  Refused({"vpc", "init", "vpc1", "--peer-network", "10.0.0.0/8", "--members", "all", "--plain"},
          "overlaps the fabric's transport network 10.255.0.0/16");
  Refused({"vpc", "init", "vpc1", "--peer-network", "10.100.0.0/24", "--members", "all",
           "--plain", "--encrypted"},
          "--plain and --encrypted");
  Refused({"vpc", "init", "vpc1", "--peer-network", "10.100.0.0/24", "--members", "all", "--port",
           "51820"},
          "port 51820 is the fabric's WireGuard port");
  Refused({"node", "add", "h9", "10.255.3.9", "--no-connect", "--platform", "linux"},
          "10.255.3.9 is inside the fabric's transport network");
  Refused({"node", "rekey", "h2"}, "'h2' is in no encrypted VPC");
  Refused({"node", "rekey", "nope"}, "'nope'");
}

TEST_F(Cli, EncryptedVpcsShowTheirTransportAndKeys) {
  auto init = json::parse(Run({"init", "--name", "h1", "--address", "192.0.2.1", "--mtu", "1500",
                              "--transport-network", "fd7c:1::/64", "--wireguard-port", "51900",
                              "--json"})
                              .out);
  EXPECT_EQ(init["transport_network"], "fd7c:1::/64");
  EXPECT_EQ(init["wireguard_port"], 51900);
  Ok({"node", "add", "h2", "192.0.2.2", "--no-connect", "--platform", "freebsd"});
  Ok({"vpc", "init", "vpc1", "--peer-network", "10.100.0.0/24", "--members", "all"});
  Ok({"vpc", "init", "vpc2", "--plain", "--peer-network", "10.200.0.0/24", "--members", "all"});
  auto v = json::parse(Run({"vpc", "show", "vpc1", "--json"}).out);
  EXPECT_EQ(v["encrypted"], true);
  EXPECT_EQ(v["transport"]["network"], "fd7c:1::/64");
  EXPECT_EQ(v["transport"]["wireguard_port"], 51900);
  EXPECT_EQ(v["mtu"], 1500 - 60 - 70);  // WireGuard over IPv4, VXLAN over the IPv6 transport
  EXPECT_EQ(v["members"][0]["transport"], "fd7c:1::1");
  EXPECT_EQ(v["members"][1]["transport"], "fd7c:1::2");
  EXPECT_TRUE(v["members"][0]["wireguard_public_key"].is_null());  // not deployed yet
  auto w = json::parse(Run({"vpc", "show", "vpc2", "--json"}).out);
  EXPECT_EQ(w["encrypted"], false);
  EXPECT_TRUE(w["transport"].is_null());
  auto text = Run({"vpc", "show", "vpc1"}).out;
  EXPECT_NE(text.find("encrypted (WireGuard)"), std::string::npos) << text;
  EXPECT_NE(text.find("transport: fd7c:1::/64 inside WireGuard, UDP port 51900"), std::string::npos);
  auto list = Run({"vpc", "list"}).out;
  EXPECT_NE(list.find("encrypted"), std::string::npos);
  EXPECT_NE(list.find("plain"), std::string::npos);
  auto node = Run({"node", "show", "h2"}).out;
  EXPECT_NE(node.find("transport:    fd7c:1::2"), std::string::npos) << node;
  EXPECT_NE(node.find("no key yet"), std::string::npos) << node;
  // The map carries the transport, the addresses and (once reported) public keys only.
  auto map = json::parse(Run({"map", "export"}).out);
  EXPECT_EQ(map["format"], 3);
  EXPECT_EQ(map["transport"]["port"], 51900);
  EXPECT_EQ(map["vpcs"][0]["encrypted"], true);
}

TEST_F(Cli, WgKeyIsMadeOnceAndRotated) {
  auto first = Run({"wg-key", "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto a = json::parse(first.out);
  EXPECT_EQ(a["created"], true);
  std::string key_file = state_ + "/wg.key";
  EXPECT_EQ(std::filesystem::status(key_file).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::string private_key = *exec::ReadFile(key_file);
  EXPECT_EQ(first.out.find(std::string(Trim(private_key))), std::string::npos);
  auto again = json::parse(Run({"wg-key", "--json"}).out);
  EXPECT_EQ(again["public_key"], a["public_key"]);
  EXPECT_EQ(again["created"], false);
  auto rotated = json::parse(Run({"wg-key", "--rotate", "--json"}).out);
  EXPECT_NE(rotated["public_key"], a["public_key"]);
  EXPECT_NE(*exec::ReadFile(key_file), private_key);
}

TEST_F(Cli, EveryProblemIsReportedAtOnce) {
  InitFabric();
  auto r = Run({"vpc", "init", "VPC", "--peer-network", "10.0.0.1/8", "--members", "h1,h9",
                "--port", "0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("invalid VPC name 'VPC'"), std::string::npos);
  EXPECT_NE(r.err.find("'10.0.0.1/8'"), std::string::npos);
  EXPECT_NE(r.err.find("invalid port '0'"), std::string::npos);
}

TEST_F(Cli, ASecondWriterGetsAReadableMessage) {
  InitFabric();
  auto lock = store::StateLock::Acquire(store::StatePaths{state_}.lock(), "vpcctl vpc deploy vpc1");
  ASSERT_TRUE(lock.ok());
  std::string before = Snapshot();
  auto r = Run({"vpc", "init", "vpc1", "--peer-network", "10.100.0.0/24", "--members", "all"});
  EXPECT_EQ(r.exit_code, 6);
  EXPECT_NE(r.err.find("another vpcctl is changing the state"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("vpc deploy vpc1"), std::string::npos) << r.err;
  EXPECT_EQ(Snapshot(), before);
  auto reader = Run({"node", "list"});
  EXPECT_EQ(reader.exit_code, 0) << "readers are not blocked";
}

TEST_F(Cli, UsageErrorsExitTwo) {
  auto r = Run({"vpc", "frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("vpcctl: error:"), std::string::npos);
  auto help = Run({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Exit codes"), std::string::npos);
}

// Every command that allocates or changes something answers --json with one object: what it made
// or changed, and the fabric's new generation (stdout is that JSON alone).
TEST_F(Cli, ChangingCommandsAnswerJson) {
  Ok({"init", "--name", "h1", "--address", "192.0.2.1", "--mtu", "1500"});
  auto out = [&](std::vector<std::string> args) {
    auto r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << ShellLine(args) << "\n" << r.err;
    auto j = json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_object()) << ShellLine(args) << " printed:\n" << r.out;
    return j.is_object() ? j : json::object();
  };
  int64_t gen = 0;
  auto next = [&](const json& j) {  // each change moves the generation on
    EXPECT_TRUE(j.contains("generation") && j["generation"].get<int64_t>() > gen) << j.dump();
    gen = j.value("generation", gen);
  };
  for (const char* n : {"h2", "h3"}) {
    auto j = out({"node", "add", n, std::string("192.0.2.") + (n[1] == '2' ? "2" : "3"),
                  "--no-connect", "--platform", "linux", "--json"});
    EXPECT_EQ(j["name"], n);
    EXPECT_EQ(j["updated"], false);
    EXPECT_FALSE(j.contains("enrolment"));
    next(j);
  }
  auto vpc = out({"vpc", "init", "vpc1", "--peer-network", "10.100.0.0/24", "--members", "h1,h2",
                  "--plain", "--json"});
  EXPECT_EQ(vpc["name"], "vpc1");
  EXPECT_EQ(vpc["members"].size(), 2u);
  next(vpc);
  auto added = out({"vpc", "member", "add", "vpc1", "h3", "--json"});
  EXPECT_EQ(added["node"], "h3");
  EXPECT_EQ(added["new_tunnels"], 2);
  EXPECT_TRUE(added["overlay"].is_string());
  next(added);
  auto vip = out({"vip", "add", "vpc1", "10.100.0.250", "--vhid", "7", "--nodes", "h1,h2,h3",
                  "--json"});
  EXPECT_EQ(vip["vhid"], 7);
  EXPECT_EQ(vip["address"], "10.100.0.250");
  EXPECT_EQ(vip["secret"], "(redacted)");
  next(vip);
  auto set = out({"vip", "set", "vpc1", "7", "--lease", "3000", "--json"});
  EXPECT_EQ(set["lease_ms"], 3000);
  next(set);
  auto vip_removed = out({"vip", "remove", "vpc1", "10.100.0.250", "--json"});
  EXPECT_EQ(vip_removed["vhid"], 7);
  next(vip_removed);
  auto removed = out({"vpc", "member", "remove", "vpc1", "h3", "--json"});
  EXPECT_EQ(removed["node"], "h3");
  next(removed);
  auto deleted = out({"vpc", "delete", "vpc1", "--json"});
  EXPECT_EQ(deleted["cleanups"], json({"h1", "h2"}));
  next(deleted);
  auto node_removed = out({"node", "remove", "h3", "--json"});
  EXPECT_EQ(node_removed["authorized_key"], "never-enrolled");
  next(node_removed);
}

}  // namespace
}  // namespace vpcctl

namespace vpcctl {
namespace {

// Node-side commands on a node that holds no map yet (what the boot units run). Under ASan this
// also guards the flags' storage, which once died before parsing finished.
TEST_F(Cli, NodeCommandsWithoutAMap) {
  auto apply = Run({"apply", "--local"});
  EXPECT_EQ(apply.exit_code, 0) << apply.err;
  EXPECT_NE(apply.out.find("no map on this node yet"), std::string::npos);
  auto status = Run({"status", "--local"});
  EXPECT_EQ(status.exit_code, 2);
  EXPECT_NE(status.err.find("no map on this node yet"), std::string::npos);
  auto json = Run({"apply", "--local", "--json"});
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_NE(json.out.find("\"no_map\": true"), std::string::npos);
}

// VIP leases: h2 (FreeBSD, IPv4) witnesses vpc1 over the Linux nodes h1, h3, h4; vpc2 is h3
// and h4 only.
TEST_F(Cli, BadVipLeaseSettingsAreRefusedWithNothingChanged) {
  InitFabric();
  Ok({"vpc", "init", "vpc1", "--peer-network", "10.100.0.0/24", "--members", "h1,h3,h4"});
  Ok({"vpc", "init", "vpc2", "--peer-network", "10.200.0.0/24", "--members", "h3,h4"});
  auto add = [](std::vector<std::string> more) {
    std::vector<std::string> a = {"vip", "add", "vpc1", "10.100.0.250", "--vhid", "10", "--nodes"};
    a.insert(a.end(), more.begin(), more.end());
    return a;
  };
  Refused(add({"h1,h3", "--lease", "1349"}), "invalid lease 1349 ms: must be 1350-60000");
  Refused(add({"h1,h3", "--lease", "60001"}), "invalid lease 60001 ms");
  Refused(add({"h1,h9"}), "unknown node 'h9'");
  Refused(add({"h1,h3", "--witness", "h9"}), "unknown witness 'h9'");
  Refused(add({"h1,h3", "--witness", "h4"}), "witness 'h4' is a member of VPC 'vpc1'");
  Refused(add({"h1,h3", "--check", "healthcheck --quick"}), "invalid check 'healthcheck --quick'");
  Refused(add({"h1,h3", "--check", "/nonexistent/healthcheck"}),
          "'/nonexistent/healthcheck' does not exist on h1");
  Refused({"vip", "add", "vpc2", "10.200.0.250", "--vhid", "1", "--nodes", "h3,h4"},
          "--unsafe-two-node");
  Ok(add({"h1,h3", "--lease", "2000", "--check", "/bin/sh -c exit", "--witness", "h2"}));
  Refused({"vip", "move", "vpc1", "10", "--to", "h4"}, "node 'h4' is not a candidate");
  Refused({"vip", "move", "vpc1", "10", "--to", "h9"}, "unknown node 'h9'");
  Refused({"vip", "set", "vpc1", "10", "--lease", "70000"}, "invalid lease 70000 ms");
  Refused({"vip", "set", "vpc1", "10", "--witness", "h3"}, "witness 'h3' is a member");
  Refused({"vip", "set", "vpc1", "10", "--nodes", "h1,h9"}, "unknown node 'h9'");
  Refused({"vip", "set", "vpc1", "10"}, "nothing to change");
  Refused({"vpc", "member", "add", "vpc1", "h2"}, "'h2' is the witness of VIP 10.100.0.250");
  Refused({"node", "remove", "h2"}, "'h2' is the witness of VIP 10.100.0.250");
  auto vip = json::parse(Run({"vip", "list", "--json"}).out)["vips"][0];
  EXPECT_EQ(vip["lease_ms"], 2000);
  EXPECT_EQ(vip["check"], "/bin/sh -c exit");
  EXPECT_EQ(vip["witness"], "h2");
  EXPECT_EQ(vip["unsafe_two_node"], false);
  Ok({"vip", "set", "vpc1", "10.100.0.250", "--lease", "5000", "--no-witness", "--no-preempt"});
  std::string list = Run({"vip", "list"}).out;
  for (const char* want : {"LEASE", "CHECK", "WITNESS", "PREEMPT", "5000 ms", "/bin/sh -c exit"}) {
    EXPECT_NE(list.find(want), std::string::npos) << want << " not in:\n" << list;
  }
  Ok({"vip", "add", "vpc2", "10.200.0.250", "--vhid", "1", "--nodes", "h3,h4",
      "--unsafe-two-node"});
  auto map = json::parse(Run({"map", "export"}).out);
  EXPECT_EQ(map["format"], 3);
  EXPECT_EQ(map["vpcs"][0]["vips"][0]["lease_ms"], 5000);
  EXPECT_EQ(map["vpcs"][1]["vips"][0]["unsafe_two_node"], true);
}

}  // namespace
}  // namespace vpcctl
